using GrayRelease.Soak;

if (args.Length > 0 && args[0] == EmulatorChild.Mode)
{
    return await EmulatorChild.RunAsync();
}

if (args.Length == 2 && args[0] == "plot")
{
    // Draws the plots of a finished run again from its CSV (e.g. after changing what is plotted).
    var rows = Report.ReadSamplesCsv(Path.Combine(args[1], "samples.csv"));
    var events = Report.ReadEventsCsv(Path.Combine(args[1], "events.csv"));
    foreach (var path in Report.WritePlots(args[1], rows, events, rows.Max(r => r.Seconds) * new SoakOptions().WarmUp))
    {
        Console.WriteLine(path);
    }

    return 0;
}

if (args.Length >= 2 && args[0] == "judge")
{
    // Judges a finished run again from its files (samples.csv, events.csv, totals.json): e.g. a long run with the
    // judge of a later commit, or in short mode. Options after the folder: --short, --warm-up.
    var folder = args[1];
    var again = SoakOptions.Parse(["--duration", "1h", .. args[2..]]);
    var rows = Report.ReadSamplesCsv(Path.Combine(folder, "samples.csv"));
    var events = Report.ReadEventsCsv(Path.Combine(folder, "events.csv"));
    var totalsPath = Path.Combine(folder, "totals.json");
    var totals = File.Exists(totalsPath) ? System.Text.Json.JsonSerializer.Deserialize<TrafficSummary>(File.ReadAllText(totalsPath)) : null;
    var result = Judge.Evaluate(again, rows, Report.RestartsFromEvents(events), totals);
    var summary = Report.Summary(again with { Duration = TimeSpan.FromSeconds(rows.Max(r => r.Seconds)) }, result, []);
    await File.WriteAllTextAsync(Path.Combine(folder, "summary-judged-again.md"), summary);
    Console.WriteLine(summary);
    return result.Passed ? 0 : 1;
}

SoakOptions options;
try
{
    options = SoakOptions.Parse(args);
}
catch (ArgumentException exception)
{
    Console.Error.WriteLine(exception.Message);
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // Let the runner stop every child process before the harness exits.
    e.Cancel = true;
    stop.Cancel();
};
using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

try
{
    var result = await new SoakRunner(options, Console.Out).RunAsync(stop.Token);
    return result.Passed ? 0 : 1;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.WriteLine("Interrupted.");
    return 130;
}
catch (Exception exception) when (exception is TimeoutException or InvalidOperationException or FileNotFoundException or DirectoryNotFoundException or HttpRequestException)
{
    Console.Error.WriteLine($"The soak failed: {exception.Message}");
    return 1;
}
