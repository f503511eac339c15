using System.Text;

namespace GrayRelease.Soak.Tests;

/// <summary>
/// The soak's short mode (issue 16), run by the README's test command: the whole gray system as separate processes
/// for two minutes under mixed traffic, churn, config pushes and registry restarts. It judges only what two minutes on
/// a loaded CI machine can show: no failed request, none served by the wrong version or lane, every instance back after
/// each registry restart, every count under a generous cap and the client's loops not growing. Slopes need the long run
/// (docs/reliability.md, "Soak").
/// </summary>
public sealed class SoakShortModeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_minutes_of_load_and_churn_fail_nothing_cross_nothing_and_stay_under_the_caps()
    {
        // Kept after the run (artifacts/ is ignored by git): CI's CSV, plots and every process's log.
        var folder = Path.Combine(SamplesLocator.RepositoryRoot(), "artifacts", "soak", "short-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture));
        var options = SoakOptions.Parse(["--duration", "2m", "--short", "--rate", "100", "--restart-period", "45s", "--out", folder]);
        var log = new StringBuilder();
        await using var writer = new StringWriter(log);
        SoakResult result;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
            result = await new SoakRunner(options, writer).RunAsync(timeout.Token);
        }
        finally
        {
            output.WriteLine(log.ToString());
        }

        Assert.True(result.Passed, "The short soak failed:\n" + string.Join('\n', result.Failures));
        Assert.Contains(result.Checks, c => c.StartsWith("registry restart at", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(folder, "samples.csv")));
        Assert.True(new FileInfo(Path.Combine(folder, "heap_mb.png")).Length > 1000, "the heap plot was not rendered");
    }
}
