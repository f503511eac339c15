using System.Globalization;

namespace GrayRelease.Rollouts;

/// <summary>
/// Judges one interval from the requests counted in it: per service, gray version against prod version, each enabled
/// check a one-sided test at <see cref="RolloutChecksOptions.Confidence"/> plus a practical tolerance (a significant
/// but negligible difference does not fail a canary). Any service failing fails the interval; a service below the
/// minimum sample on a side is inconclusive; the interval passes when at least one service passes and none fails.
/// </summary>
internal static class RolloutJudge
{
    public static IntervalVerdict Judge(IReadOnlyDictionary<SeriesKey, SeriesCounts> window, GrayReleaseOptions versions, RolloutOptions options)
    {
        // Lanes are merged: a version's health is the same whichever lane reached it.
        var byService = new SortedDictionary<string, (Dictionary<string, SeriesCounts> Versions, bool Seen)>(StringComparer.Ordinal);
        foreach (var (key, counts) in window)
        {
            if (!byService.TryGetValue(key.Service, out var entry))
            {
                entry = (new Dictionary<string, SeriesCounts>(StringComparer.Ordinal), true);
                byService[key.Service] = entry;
            }

            entry.Versions[key.Version] = entry.Versions.TryGetValue(key.Version, out var held) ? held.Plus(counts) : counts;
        }

        var figures = new List<ServiceFigures>();
        foreach (var (service, entry) in byService)
        {
            var gray = versions.GetGrayVersion(service);
            var prod = versions.GetProdVersion(service);
            if (string.IsNullOrEmpty(gray) || string.IsNullOrEmpty(prod) || string.Equals(gray, prod, StringComparison.Ordinal))
            {
                // Not in this release: nothing to compare.
                continue;
            }

            var grayCounts = entry.Versions.GetValueOrDefault(gray) ?? SeriesCounts.Empty;
            var prodCounts = entry.Versions.GetValueOrDefault(prod) ?? SeriesCounts.Empty;
            figures.Add(JudgeService(service, gray, prod, grayCounts, prodCounts, options));
        }

        var failed = figures.FirstOrDefault(f => f.Outcome == VerdictOutcome.Fail);
        if (failed is not null)
        {
            return new IntervalVerdict(VerdictOutcome.Fail, failed.Service + ": " + failed.Reason, figures);
        }

        if (figures.Any(f => f.Outcome == VerdictOutcome.Pass))
        {
            return new IntervalVerdict(VerdictOutcome.Pass, "gray is not worse than prod", figures);
        }

        var reason = figures.Count == 0
            ? "no request reached a service's gray and prod versions"
            : string.Join("; ", figures.Select(f => f.Service + ": " + f.Reason));
        return new IntervalVerdict(VerdictOutcome.Inconclusive, reason, figures);
    }

    internal static ServiceFigures JudgeService(string service, string grayVersion, string prodVersion, SeriesCounts gray, SeriesCounts prod, RolloutOptions options)
    {
        var checks = options.Checks;
        var alpha = 1 - checks.Confidence;
        var grayP99 = LatencyBuckets.Quantile(gray.Latency, 0.99);
        var prodP99 = LatencyBuckets.Quantile(prod.Latency, 0.99);
        if (gray.Requests < options.MinRequestsPerSide || prod.Requests < options.MinRequestsPerSide)
        {
            return new ServiceFigures(service, grayVersion, prodVersion, gray.Requests, gray.Errors, prod.Requests, prod.Errors, grayP99, prodP99, null, null, null,
                VerdictOutcome.Inconclusive,
                string.Create(CultureInfo.InvariantCulture, $"{gray.Requests} gray / {prod.Requests} prod requests, {options.MinRequestsPerSide} needed per side"));
        }

        double? errorP = null;
        string? method = null;
        string? failure = null;
        if (checks.ErrorRate)
        {
            (var p, method) = Statistics.ErrorRateGreater(gray.Errors, gray.Requests, prod.Errors, prod.Requests);
            errorP = p;
            var grayRate = (double)gray.Errors / gray.Requests;
            var prodRate = (double)prod.Errors / prod.Requests;
            if (p < alpha && grayRate - prodRate > checks.ErrorRateTolerance)
            {
                failure = string.Create(CultureInfo.InvariantCulture, $"error rate {grayRate:P2} gray vs {prodRate:P2} prod (p={p:G3} < {alpha:G3}, {method})");
            }
        }

        double? latencyP = null;
        if (checks.Latency && failure is null)
        {
            (var p, _) = Statistics.LatencyGreater(gray.Latency, prod.Latency);
            latencyP = p;
            if (p < alpha && grayP99 > prodP99 * checks.LatencyP99Tolerance)
            {
                failure = string.Create(CultureInfo.InvariantCulture, $"latency p99 {grayP99 * 1000:0.#} ms gray vs {prodP99 * 1000:0.#} ms prod (Mann-Whitney p={p:G3} < {alpha:G3})");
            }
        }

        return new ServiceFigures(service, grayVersion, prodVersion, gray.Requests, gray.Errors, prod.Requests, prod.Errors, grayP99, prodP99, errorP, method, latencyP,
            failure is null ? VerdictOutcome.Pass : VerdictOutcome.Fail,
            failure ?? "gray is not worse than prod");
    }
}
