using System.Globalization;

namespace GrayRelease.SystemBenchmarks;

/// <summary>Median and spread of repeated measurements, formatted for a markdown table.</summary>
internal static class Stats
{
    public static double Median(IReadOnlyCollection<double> values) => Quantile(values, 0.5);

    public static double Quantile(IReadOnlyCollection<double> values, double q)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        var position = q * (sorted.Length - 1);
        var low = (int)Math.Floor(position);
        var high = (int)Math.Ceiling(position);
        return sorted[low] + ((sorted[high] - sorted[low]) * (position - low));
    }

    /// <summary>"median (min–max)" with the given format.</summary>
    public static string Spread(IReadOnlyCollection<double> values, string format) => values.Count == 0
        ? "n/a"
        : string.Create(CultureInfo.InvariantCulture, $"{Median(values).ToString(format, CultureInfo.InvariantCulture)} ({values.Min().ToString(format, CultureInfo.InvariantCulture)}–{values.Max().ToString(format, CultureInfo.InvariantCulture)})");
}
