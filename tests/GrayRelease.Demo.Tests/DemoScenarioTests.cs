using GrayRelease.Nacos.Emulator;
using Xunit.Abstractions;

namespace GrayRelease.Demo.Tests;

public class DemoScenarioTests(ITestOutputHelper testOutput)
{
    [Fact]
    public async Task All_eleven_demo_scenarios_gray_lanes_over_rest_and_grpc_and_rollouts_pass_and_every_process_is_stopped_afterwards()
    {
        var output = new StringWriter();
        var runner = new DemoRunner(new DemoOptions(), TextWriter.Synchronized(output));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));

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
        Assert.Equal(11, runner.Reports.Count);
        Assert.All(runner.Reports, report => Assert.True(report.Passed, $"scenario {report.Number} failed: {report.Verdict}"));
        Assert.All(runner.Processes, process => Assert.True(process.HasExited, $"{process.Name} is still running"));
        AssertGrayAndLaneScenariosRanOverRestAndGrpc(runner);

        // The rollouts' timelines carry the figures that decided each step, and the measured first-error → rollback time.
        var text = output.ToString();
        Assert.Contains("Promoted", runner.Reports[9].Timeline![^1], StringComparison.Ordinal);
        Assert.Contains("user-app: gray V2", runner.Reports[9].Timeline![^1], StringComparison.Ordinal);
        Assert.Contains("RolledBack", string.Join('\n', runner.Reports[10].Timeline!), StringComparison.Ordinal);
        Assert.Contains("time from the bad canary's first error to rollback: ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_user_app_demo_switch_refuses_a_bad_failure_rate_naming_the_key()
    {
        var dll = SamplesLocator.Locate().DllPath("UserApp");
        var folder = Directory.CreateTempSubdirectory("grayrelease-demo-switch-").FullName;
        var process = SampleProcess.Start("user-app-bad-switch", dll, ["--urls", "http://127.0.0.1:0", "--Demo:FailureRate=2"], folder);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await Assert.ThrowsAsync<InvalidOperationException>(() => process.WaitUntilListeningAsync(timeout.Token));
        await process.DisposeAsync();
        Assert.True(process.HasExited);
        Assert.Contains("Demo:FailureRate is 2", await File.ReadAllTextAsync(process.LogPath), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--nacos", "not-a-url")]
    [InlineData("--unknown")]
    [InlineData("--nacos")]
    [InlineData("--profile", "nacos-9")]
    [InlineData("--profile", "nacos-1.4", "--nacos", "http://127.0.0.1:8848")]
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
        Assert.Equal(NacosServerLine.Nacos14, DemoOptions.Parse(["--profile", "nacos-1.4"]).Profile);
        Assert.Equal(NacosServerLine.Nacos32, DemoOptions.Parse(["--profile", "NACOS-3.2"]).Profile);
    }

    [Fact]
    public async Task The_demo_scenarios_pass_against_a_nacos_1_4_server_line()
    {
        var output = new StringWriter();
        var runner = new DemoRunner(DemoOptions.Parse(["--profile", "nacos-1.4"]), TextWriter.Synchronized(output));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));

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
        Assert.Contains("Nacos14", output.ToString(), StringComparison.Ordinal);
        // The rollout scenarios (10, 11) run on the default server line only, to keep CI short.
        Assert.Contains("Rollout scenarios 10 and 11 run on the default profile only", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(9, runner.Reports.Count);
        Assert.All(runner.Reports, report => Assert.True(report.Passed, $"scenario {report.Number} failed: {report.Verdict}"));
        Assert.All(runner.Processes, process => Assert.True(process.HasExited, $"{process.Name} is still running"));
        AssertGrayAndLaneScenariosRanOverRestAndGrpc(runner);
    }

    [Fact]
    public async Task User_app_refuses_a_grpc_url_that_is_not_http_naming_the_key()
    {
        var dll = SamplesLocator.Locate().DllPath("UserApp");
        var folder = Directory.CreateTempSubdirectory("grayrelease-demo-grpc-url-").FullName;
        var process = SampleProcess.Start("user-app-bad-grpc-url", dll, ["--urls", "http://127.0.0.1:0", "--Grpc:Url=https://127.0.0.1:0"], folder);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await Assert.ThrowsAsync<InvalidOperationException>(() => process.WaitUntilListeningAsync(timeout.Token));
        await process.DisposeAsync();
        Assert.True(process.HasExited);
        Assert.Contains("Grpc:Url must be an http:// address", await File.ReadAllTextAsync(process.LogPath), StringComparison.Ordinal);
    }

    // Scenarios 1–9 send every request both ways order-app calls user-app, REST (/orders/{id}) and gRPC (/orders/{id}/grpc),
    // and pass only if both behaved: each has hops of both kinds, and every gRPC hop but the strict lane's 503 succeeded.
    private static void AssertGrayAndLaneScenariosRanOverRestAndGrpc(DemoRunner runner)
    {
        foreach (var report in runner.Reports.Where(r => r.Number <= 9))
        {
            Assert.Contains(report.Hops, hop => !hop.Grpc);
            Assert.Contains(report.Hops, hop => hop.Grpc && hop.Request.Contains("/grpc", StringComparison.Ordinal));
        }

        var strictOverGrpc = runner.Reports.Single(r => r.Number == 9).Hops.Where(hop => hop.Grpc && hop.Status == 503).ToList();
        Assert.NotEmpty(strictOverGrpc);
        Assert.All(strictOverGrpc, hop => Assert.Contains("strict lane 'feature-b'", hop.Detail, StringComparison.Ordinal));
    }
}
