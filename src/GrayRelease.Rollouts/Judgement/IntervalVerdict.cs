using System.Globalization;
using System.Text;

namespace GrayRelease.Rollouts;

/// <summary>The judgement of one interval: the outcome, a sentence saying why, and the figures per service.</summary>
internal sealed record IntervalVerdict(VerdictOutcome Outcome, string Reason, IReadOnlyList<ServiceFigures> Services)
{
    public string Figures()
    {
        if (Services.Count == 0)
        {
            return "no traffic";
        }

        var builder = new StringBuilder();
        foreach (var s in Services)
        {
            if (builder.Length > 0)
            {
                builder.Append("; ");
            }

            builder.Append(CultureInfo.InvariantCulture, $"{s.Service}: gray {s.GrayVersion} {s.GrayErrors}/{s.GrayRequests} errors p99 {s.GrayP99 * 1000:0.#} ms, prod {s.ProdVersion} {s.ProdErrors}/{s.ProdRequests} errors p99 {s.ProdP99 * 1000:0.#} ms");
            if (s.ErrorPValue is { } ep)
            {
                builder.Append(CultureInfo.InvariantCulture, $", error p={ep:G3} ({s.ErrorMethod})");
            }

            if (s.LatencyPValue is { } lp)
            {
                builder.Append(CultureInfo.InvariantCulture, $", latency p={lp:G3}");
            }

            builder.Append(", ").Append(s.Outcome);
        }

        return builder.ToString();
    }
}

/// <summary>The figures of one service in one interval.</summary>
internal sealed record ServiceFigures(
    string Service,
    string GrayVersion,
    string ProdVersion,
    long GrayRequests,
    long GrayErrors,
    long ProdRequests,
    long ProdErrors,
    double GrayP99,
    double ProdP99,
    double? ErrorPValue,
    string? ErrorMethod,
    double? LatencyPValue,
    VerdictOutcome Outcome,
    string Reason);
