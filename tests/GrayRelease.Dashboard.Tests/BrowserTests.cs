using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace GrayRelease.Dashboard.Tests;

/// <summary>The operations page in a real Chromium against a real gateway, registry (emulator) and two backend versions.</summary>
public sealed class BrowserTests(ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private const float Timeout = 30_000;
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(120));
    private DashboardGateway _gateway = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        (_playwright, _browser) = await Chromium.LaunchAsync();
        _gateway = await DashboardGateway.StartAsync(_timeout.Token);
        await _gateway.WaitUntilReadyAsync(_timeout.Token);
        await _gateway.SendTrafficAsync(prod: 60, gray: 20, _timeout.Token);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
    }

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task The_page_shows_both_versions_and_the_rollout_and_has_no_serious_accessibility_violation()
    {
        var page = await OpenAsync();
        var instances = page.Locator("#services tbody tr");
        await Assertions.Expect(instances).ToHaveCountAsync(2, new() { Timeout = Timeout });
        await Assertions.Expect(instances.Nth(0)).ToContainTextAsync("V1", new() { Timeout = Timeout });
        await Assertions.Expect(instances.Nth(1)).ToContainTextAsync("V2", new() { Timeout = Timeout });
        await Assertions.Expect(page.Locator("#traffic")).ToContainTextAsync("V2", new() { Timeout = Timeout });
        await Assertions.Expect(page.Locator("#chart svg polyline")).ToHaveCountAsync(2, new() { Timeout = Timeout });
        await Assertions.Expect(page.Locator("#rollout-status")).ToHaveTextAsync("Progressing", new() { Timeout = Timeout });
        await Assertions.Expect(page.Locator("#rollout-percentage")).ToHaveTextAsync("1 %", new() { Timeout = Timeout });
        await Assertions.Expect(page.Locator("#rules")).ToContainTextAsync("gray-996", new() { Timeout = Timeout });

        var screenshot = Path.Combine(Chromium.RepositoryRoot(), "artifacts", "dashboard.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true, Timeout = Timeout });
        output.WriteLine("Screenshot: " + screenshot);

        var axe = await page.RunAxe();
        output.WriteLine($"axe: {axe.Passes.Length} rules passed, {axe.Violations.Length} violated, {axe.Incomplete.Length} incomplete");
        Assert.NotEmpty(axe.Passes);   // the scan ran on the rendered page
        foreach (var violation in axe.Violations)
        {
            output.WriteLine($"axe {violation.Impact}: {violation.Id} — {violation.Help} ({violation.Nodes.Length} nodes)");
        }

        Assert.Empty(axe.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => v.Id + ": " + v.Help + " at " + string.Join(", ", v.Nodes.Select(n => n.Html))));
    }

    [Fact]
    public async Task Pressing_Pause_pauses_the_rollout_in_Nacos_and_Resume_resumes_it()
    {
        var page = await OpenAsync();
        var pause = page.GetByRole(AriaRole.Button, new() { Name = "Pause", Exact = true });
        await Assertions.Expect(pause).ToBeEnabledAsync(new() { Timeout = Timeout });
        await pause.ClickAsync(new() { Timeout = Timeout });

        await Assertions.Expect(page.Locator("#command-result")).ToContainTextAsync("now Paused", new() { Timeout = Timeout });
        Assert.Equal(RolloutStatus.Paused, _gateway.State()!.Status);
        Assert.Contains("operator", _gateway.State()!.History[^1].Reason, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("#rollout-status")).ToHaveTextAsync("Paused", new() { Timeout = Timeout });
        await Assertions.Expect(pause).ToBeDisabledAsync(new() { Timeout = Timeout });

        await page.GetByRole(AriaRole.Button, new() { Name = "Resume", Exact = true }).ClickAsync(new() { Timeout = Timeout });
        await Assertions.Expect(page.Locator("#rollout-status")).ToHaveTextAsync("Progressing", new() { Timeout = Timeout });
        Assert.Equal(RolloutStatus.Progressing, _gateway.State()!.Status);
    }

    private async Task<IPage> OpenAsync()
    {
        var context = await _browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(Timeout);
        page.Console += (_, message) => output.WriteLine("console " + message.Type + ": " + message.Text);
        var response = await page.GotoAsync(new Uri(_gateway.Address, "/_gray/").ToString(), new() { Timeout = Timeout });
        Assert.True(response is { Ok: true }, "GET /_gray/ answered " + response?.Status);
        return page;
    }
}
