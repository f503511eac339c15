using System.Globalization;
using System.Text;
using ScottPlot;

namespace GrayRelease.Soak;

/// <summary>Writes a run's CSV files, one plot per series and the summary.</summary>
internal static class Report
{
    /// <summary>Series plotted, with their unit.</summary>
    public static readonly (string Series, string Unit, string Title)[] Plotted =
    [
        ("heap_mb", "MB", "Managed heap after a full blocking GC"),
        ("rss_mb", "MB", "Resident set (working set)"),
        ("committed_mb", "MB", "GC committed memory"),
        ("threads", "threads", "OS threads"),
        ("threadpool_threads", "threads", "Thread-pool threads"),
        ("fds", "descriptors", "Open file descriptors"),
        ("fds_other", "descriptors", "Open file descriptors other than sockets and code files (assemblies, symbols)"),
        ("fds_code", "descriptors", "Code files held open (assemblies, symbol files, native libraries)"),
        ("sockets", "sockets", "TCP sockets owned"),
        ("sock_close_wait", "sockets", "TCP sockets in CLOSE_WAIT (the peer closed, this process has not)"),
        ("registry_conns", "connections", "Established connections to the registry (HTTP + gRPC ports)"),
        ("loops", "loops", "Nacos client loops alive (poll, listen, beat, gRPC)"),
        ("timers", "timers", "Active System.Threading timers"),
        ("time_wait_ours", "sockets", "TIME_WAIT sockets on the system's ports (system-wide)"),
        ("grpc_connections", "connections", "gRPC connections the registry holds"),
        ("load_average", "load", "Load average (1 min) of the machine, all users"),
    ];

    public static async Task WriteAsync(string folder, SoakOptions options, IReadOnlyList<SampleRow> rows, IReadOnlyList<TrafficRow> traffic, IReadOnlyList<(double Seconds, string Text)> events, SoakResult result, TextWriter output)
    {
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "samples.csv"), SamplesCsv(rows));
        await File.WriteAllTextAsync(Path.Combine(folder, "traffic.csv"), TrafficCsv(traffic));
        await File.WriteAllTextAsync(Path.Combine(folder, "events.csv"), "t_s,event\n" + string.Concat(events.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Seconds:F1},\"{e.Text.Replace("\"", "'", StringComparison.Ordinal)}\"\n"))));
        var plots = new List<string>();
        if (options.Plots)
        {
            try
            {
                plots.AddRange(WritePlots(folder, rows, events, rows.Count == 0 ? 0 : rows.Max(r => r.Seconds) * options.WarmUp));
                plots.Add(WriteTrafficPlot(folder, traffic));
            }
            catch (Exception exception) when (exception is TypeInitializationException or DllNotFoundException or InvalidOperationException)
            {
                output.WriteLine($"Plots not written ({exception.GetType().Name}: {exception.Message}); the CSV is there: `dotnet run --project benchmarks/GrayRelease.Soak -- plot {folder}` draws them again.");
            }
        }

        var summary = Summary(options, result, plots);
        await File.WriteAllTextAsync(Path.Combine(folder, "summary.md"), summary);
        output.WriteLine();
        output.WriteLine(summary);
    }

    public static string Summary(SoakOptions options, SoakResult result, IReadOnlyList<string> plots)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# Soak {(result.Passed ? "PASSED" : "FAILED")}: {options.Duration} at {options.Rate:F0} req/s, {(options.Short ? "short mode (caps)" : "slopes judged")}, warm-up {options.WarmUp:P0} not judged");
        text.AppendLine();
        foreach (var check in result.Checks)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {check}");
        }

        text.AppendLine();
        text.AppendLine("| process | series | first | last | min | max | slope / h | ± SE | limit | ok |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var s in result.Series)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {s.Process} | {s.Series} | {s.First:0.##} | {s.Last:0.##} | {s.Min:0.##} | {s.Max:0.##} | {s.SlopePerHour:0.###} | {s.StandardError:0.###} | {s.Limit} | {(s.Passed ? "yes" : "**NO**")} |");
        }

        if (result.Failures.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Failed:");
            foreach (var failure in result.Failures)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- {failure}");
            }
        }

        if (plots.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Plots: " + string.Join(", ", plots.Select(Path.GetFileName)));
        }

        return text.ToString();
    }

    public static string SamplesCsv(IReadOnlyList<SampleRow> rows)
    {
        var columns = rows.SelectMany(r => r.Values.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var text = new StringBuilder();
        text.AppendLine("time_utc,t_s,process,pid," + string.Join(',', columns));
        foreach (var row in rows)
        {
            text.Append(CultureInfo.InvariantCulture, $"{row.At:O},{row.Seconds:F1},{row.Process},{row.Pid}");
            foreach (var column in columns)
            {
                text.Append(',');
                if (row.Values.TryGetValue(column, out var value))
                {
                    text.Append(value.ToString("0.###", CultureInfo.InvariantCulture));
                }
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    /// <summary>Reads a samples.csv back (the <c>plot</c> mode).</summary>
    public static List<SampleRow> ReadSamplesCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        var rows = new List<SampleRow>();
        foreach (var line in lines.Skip(1))
        {
            var fields = line.Split(',');
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            for (var i = 4; i < header.Length && i < fields.Length; i++)
            {
                if (fields[i].Length > 0)
                {
                    values[header[i]] = double.Parse(fields[i], CultureInfo.InvariantCulture);
                }
            }

            rows.Add(new SampleRow(double.Parse(fields[1], CultureInfo.InvariantCulture), DateTimeOffset.Parse(fields[0], CultureInfo.InvariantCulture), fields[2], int.Parse(fields[3], CultureInfo.InvariantCulture), values));
        }

        return rows;
    }

    /// <summary>The registry restarts of a run, from its events (the <c>judge</c> mode).</summary>
    public static List<RestartRecord> RestartsFromEvents(IReadOnlyList<(double Seconds, string Text)> events)
    {
        var result = new List<RestartRecord>();
        double? began = null;
        double? up = null;
        foreach (var (seconds, text) in events)
        {
            if (text.StartsWith("registry restart: down", StringComparison.Ordinal))
            {
                began = seconds;
            }
            else if (text.StartsWith("registry restart: up again", StringComparison.Ordinal))
            {
                up = seconds;
            }
            else if (text.StartsWith("registry restart: ", StringComparison.Ordinal) && began is { } b && up is { } u)
            {
                result.Add(new RestartRecord(b, u, text.Contains("NOT every", StringComparison.Ordinal) ? null : seconds - u));
                began = up = null;
            }
        }

        return result;
    }

    public static List<(double Seconds, string Text)> ReadEventsCsv(string path) =>
        [.. File.ReadAllLines(path).Skip(1).Select(line =>
        {
            var comma = line.IndexOf(',', StringComparison.Ordinal);
            return (double.Parse(line.AsSpan(0, comma), CultureInfo.InvariantCulture), line[(comma + 1)..].Trim('"'));
        })];

    public static List<string> WritePlots(string folder, IReadOnlyList<SampleRow> rows, IReadOnlyList<(double Seconds, string Text)> events, double warmUpSeconds)
    {
        var written = new List<string>();
        var restarts = events.Where(e => e.Text.StartsWith("registry restart: down", StringComparison.Ordinal)).Select(e => e.Seconds / 60).ToList();
        foreach (var (series, unit, title) in Plotted)
        {
            // A socket state absent from a sample had no socket in it: 0, wherever the process's sockets were read.
            var key = series.StartsWith("sock_", StringComparison.Ordinal) ? "sockets" : series;
            var byProcess = rows.Where(r => r.Values.ContainsKey(key)).GroupBy(r => r.Process, StringComparer.Ordinal).ToList();
            if (byProcess.Count == 0)
            {
                continue;
            }

            var plot = new Plot();
            foreach (var process in byProcess)
            {
                var points = process.OrderBy(r => r.Seconds).ToList();
                var line = plot.Add.Scatter(points.Select(r => r.Seconds / 60).ToArray(), points.Select(r => r.Values.GetValueOrDefault(series)).ToArray());
                line.LegendText = process.Key;
                line.MarkerSize = 0;
                line.LineWidth = 1.5f;
            }

            Decorate(plot, restarts, warmUpSeconds / 60);
            plot.Title(title);
            plot.XLabel("minutes since the load started (dashed: registry restarts; dotted: end of warm-up)");
            plot.YLabel(unit);
            plot.ShowLegend(Alignment.UpperLeft);
            var path = Path.Combine(folder, series + ".png");
            plot.SavePng(path, 1200, 650);
            written.Add(path);
        }

        var grid = WriteGrid(folder, ["heap_mb", "rss_mb", "sockets", "loops"]);
        if (grid is not null)
        {
            written.Add(grid);
        }

        return written;
    }

    /// <summary>Four plots in one image (2 × 2, half size), for a document.</summary>
    private static string? WriteGrid(string folder, string[] series)
    {
        var paths = series.Select(s => Path.Combine(folder, s + ".png")).ToList();
        if (!paths.All(File.Exists))
        {
            return null;
        }

        var tiles = paths.Select(SkiaSharp.SKBitmap.Decode).ToList();
        try
        {
            var width = tiles.Max(t => t.Width) / 2;
            var height = tiles.Max(t => t.Height) / 2;
            using var surface = SkiaSharp.SKSurface.Create(new SkiaSharp.SKImageInfo(width * 2, height * 2));
            surface.Canvas.Clear(SkiaSharp.SKColors.White);
            using var paint = new SkiaSharp.SKPaint();
            for (var i = 0; i < tiles.Count; i++)
            {
                using var image = SkiaSharp.SKImage.FromBitmap(tiles[i]);
                surface.Canvas.DrawImage(image, new SkiaSharp.SKRect((i % 2) * width, (i / 2) * height, ((i % 2) + 1) * width, ((i / 2) + 1) * height), new SkiaSharp.SKSamplingOptions(SkiaSharp.SKCubicResampler.Mitchell), paint);
            }

            using var snapshot = surface.Snapshot();
            using var data = snapshot.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
            var path = Path.Combine(folder, "grid.png");
            using var file = File.Create(path);
            data.SaveTo(file);
            return path;
        }
        finally
        {
            foreach (var tile in tiles)
            {
                tile.Dispose();
            }
        }
    }

    private static void Decorate(Plot plot, List<double> restarts, double warmUpMinutes)
    {
        foreach (var minute in restarts)
        {
            var line = plot.Add.VerticalLine(minute);
            line.LinePattern = LinePattern.Dashed;
            line.Color = Colors.Gray.WithAlpha(0.5);
            line.LineWidth = 1;
        }

        var warmUp = plot.Add.VerticalLine(warmUpMinutes);
        warmUp.LinePattern = LinePattern.Dotted;
        warmUp.Color = Colors.Black.WithAlpha(0.6);
        warmUp.LineWidth = 1;
    }

    private static string WriteTrafficPlot(string folder, IReadOnlyList<TrafficRow> traffic)
    {
        var plot = new Plot();
        var xs = traffic.Select(t => t.Seconds / 60).ToArray();
        var previous = 0.0;
        var rates = new double[traffic.Count];
        for (var i = 0; i < traffic.Count; i++)
        {
            var span = traffic[i].Seconds - previous;
            rates[i] = span > 0 ? traffic[i].Kinds.Sum(k => k.Ok) / span : 0;
            previous = traffic[i].Seconds;
        }

        var ok = plot.Add.Scatter(xs, rates);
        ok.LegendText = "served as expected (req/s)";
        ok.MarkerSize = 0;
        var bad = plot.Add.Scatter(xs, traffic.Select(t => (double)t.Kinds.Sum(k => k.Failed + k.Cross)).ToArray());
        bad.LegendText = "failed or cross-version (count per sample)";
        bad.MarkerSize = 3;
        plot.Title("Traffic through the gateways");
        plot.XLabel("minutes since the load started");
        plot.ShowLegend(Alignment.LowerLeft);
        var path = Path.Combine(folder, "traffic.png");
        plot.SavePng(path, 1200, 500);
        return path;
    }

    private static string TrafficCsv(IReadOnlyList<TrafficRow> traffic)
    {
        var text = new StringBuilder();
        text.Append("t_s");
        foreach (var kind in Traffic.Kinds)
        {
            text.Append(CultureInfo.InvariantCulture, $",{kind.Name}_ok,{kind.Name}_failed,{kind.Name}_cross");
        }

        text.AppendLine(",skipped_total,stock_ok_total,stock_failed_total");
        foreach (var row in traffic)
        {
            text.Append(row.Seconds.ToString("F1", CultureInfo.InvariantCulture));
            foreach (var kind in row.Kinds)
            {
                text.Append(CultureInfo.InvariantCulture, $",{kind.Ok},{kind.Failed},{kind.Cross}");
            }

            text.AppendLine(CultureInfo.InvariantCulture, $",{row.SkippedTotal},{row.StockOkTotal},{row.StockFailedTotal}");
        }

        return text.ToString();
    }
}
