using Xunit.Abstractions;

namespace GrayRelease.Demo.Tests;

public class DemoScenarioTests(ITestOutputHelper testOutput)
{
    [Fact]
    public async Task All_six_demo_scenarios_pass_and_every_process_is_stopped_afterwards()
    {
        var output = new StringWriter();
        var runner = new DemoRunner(new DemoOptions(), TextWriter.Synchronized(output));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));

        int exitCode;
        try
        {
            exitCode = await runner.RunAsync(timeout.Token);
        }
        finally
        {
            testOutput.WriteLine(output.ToString());
        }

        Assert.Equal(0, exitCode);
        Assert.Equal(6, runner.Reports.Count);
        Assert.All(runner.Reports, report => Assert.True(report.Passed, $"scenario {report.Number} failed: {report.Verdict}"));
        Assert.All(runner.Processes, process => Assert.True(process.HasExited, $"{process.Name} is still running"));
    }

    [Theory]
    [InlineData("--nacos", "not-a-url")]
    [InlineData("--unknown")]
    [InlineData("--nacos")]
    public void Bad_arguments_are_rejected_with_a_clear_message(params string[] args)
    {
        var exception = Assert.Throws<ArgumentException>(() => DemoOptions.Parse(args));
        Assert.False(string.IsNullOrWhiteSpace(exception.Message));
    }

    [Fact]
    public void Arguments_are_parsed()
    {
        var options = DemoOptions.Parse(["--nacos", "http://127.0.0.1:8848", "--keep-running", "--username", "nacos", "--password", "secret"]);
        Assert.Equal(("http://127.0.0.1:8848", true, "nacos", "secret"), (options.NacosAddress, options.KeepRunning, options.UserName, options.Password));
    }
}
