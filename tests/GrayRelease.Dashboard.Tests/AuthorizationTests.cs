using System.Net;

namespace GrayRelease.Dashboard.Tests;

/// <summary>MapGrayReleaseDashboard returns the route group: <c>.RequireAuthorization()</c> on it protects the page, its API and its commands.</summary>
public sealed class AuthorizationTests : IAsyncLifetime, IDisposable
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private DashboardGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _gateway = await DashboardGateway.StartAsync(_timeout.Token, requireAuthorization: true);
        await _gateway.WaitUntilReadyAsync(_timeout.Token);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task RequireAuthorization_on_the_returned_group_keeps_anonymous_callers_out()
    {
        foreach (var path in new[] { "/_gray/", "/_gray/api/status", "/_gray/api/antiforgery" })
        {
            using var response = await _gateway.Client.GetAsync(new Uri(path, UriKind.Relative), _timeout.Token);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using var command = await _gateway.Client.PostAsync(new Uri("/_gray/api/rollout/abort", UriKind.Relative), null, _timeout.Token);
        Assert.Equal(HttpStatusCode.Unauthorized, command.StatusCode);
        Assert.Equal(RolloutStatus.Progressing, _gateway.State()!.Status);
    }
}
