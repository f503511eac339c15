using System.Net.Sockets;
using GrayRelease.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using GrayRelease.Discovery;

namespace GrayRelease.Tests.Http;

/// <summary>
/// Nacos service names are case-sensitive and default to the application name (<c>UserApp</c>), while <see cref="Uri.Host"/>
/// is lower-cased: the service must be looked up with the spelling the caller wrote, whatever was looked up before.
/// </summary>
public class ServiceNameCaseTests
{
    [Fact]
    public async Task Mixed_case_service_is_reached_and_the_lower_case_name_passes_through()
    {
        await using var fixture = await Fixture.StartAsync();

        Assert.Equal("UserApp", await fixture.GetAsync("http://UserApp/whoami"));
        await Assert.ThrowsAsync<HttpRequestException>(() => fixture.GetAsync("http://userapp/whoami"));
        Assert.Equal("UserApp", await fixture.GetAsync("http://UserApp/whoami"));

        // Only the name Nacos does not know went out to name resolution, with its own spelling.
        Assert.Equal(["userapp"], fixture.ResolvedHosts);
    }

    [Fact]
    public async Task Mixed_case_service_is_reached_after_the_lower_case_name_was_looked_up_first()
    {
        await using var fixture = await Fixture.StartAsync();

        await Assert.ThrowsAsync<HttpRequestException>(() => fixture.GetAsync("http://userapp/whoami"));
        Assert.Equal("UserApp", await fixture.GetAsync("http://UserApp/whoami"));

        Assert.Equal(["userapp"], fixture.ResolvedHosts);
    }

    [Fact]
    public async Task Mixed_case_service_in_the_base_address_is_reached_by_relative_requests()
    {
        await using var fixture = await Fixture.StartAsync(baseAddress: new Uri("http://UserApp"));

        Assert.Equal("UserApp", await fixture.GetAsync("/whoami"));
        Assert.Equal("UserApp", await fixture.GetAsync("whoami?x=1"));
        Assert.Empty(fixture.ResolvedHosts);
    }

    [Fact]
    public async Task Two_services_whose_names_differ_only_in_case_stay_apart()
    {
        await using var fixture = await Fixture.StartAsync(alsoLowerCase: true);

        Assert.Equal("userapp", await fixture.GetAsync("http://userapp/whoami"));
        Assert.Equal("UserApp", await fixture.GetAsync("http://UserApp/whoami"));
        Assert.Equal("userapp", await fixture.GetAsync("http://userapp/whoami"));
        Assert.Empty(fixture.ResolvedHosts);
    }

    private sealed class Fixture : IAsyncDisposable
    {
        private readonly List<IAsyncDisposable> _owned = [];
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _resolved = new();
        private HttpClient _client = null!;

        public string[] ResolvedHosts => [.. _resolved];

        public static async Task<Fixture> StartAsync(Uri? baseAddress = null, bool alsoLowerCase = false)
        {
            var fixture = new Fixture();
            var provider = new TestInstanceProvider(StringComparer.Ordinal);
            var upper = await StartBackendAsync("UserApp");
            fixture._owned.Add(upper);
            provider.Set("UserApp", TestInstanceProvider.Instance("UserApp", upper.Port, "V1"));
            if (alsoLowerCase)
            {
                var lower = await StartBackendAsync("userapp");
                fixture._owned.Add(lower);
                provider.Set("userapp", TestInstanceProvider.Instance("userapp", lower.Port, "V1"));
            }

            var caller = await LoopbackApp.StartAsync(
                builder =>
                {
                    builder.Services.AddGrayRelease(builder.Configuration);
                    builder.Services.AddSingleton<IServiceInstanceProvider>(provider);
                    builder.Services.AddHttpClient("users")
                        .AddGrayRelease()
                        .ConfigureHttpClient(c =>
                        {
                            c.BaseAddress = baseAddress;
                            c.Timeout = TimeSpan.FromSeconds(30);
                        })
                        .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
                        {
                            UseProxy = false,
                            ConnectCallback = fixture.ConnectAsync,
                        });
                },
                _ => { });
            fixture._owned.Add(caller);
            fixture._client = caller.Services.GetRequiredService<IHttpClientFactory>().CreateClient("users");
            return fixture;
        }

        public async Task<string> GetAsync(string uri)
        {
            using var response = await _client.GetAsync(new Uri(uri, UriKind.RelativeOrAbsolute));
            response.EnsureSuccessStatusCode();
            return await response.Content.ReadAsStringAsync();
        }

        public async ValueTask DisposeAsync()
        {
            _client?.Dispose();
            foreach (var owned in _owned)
            {
                await owned.DisposeAsync();
            }
        }

        // No DNS in tests: a name that reaches the transport is recorded and refused, an address is connected to.
        private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
        {
            if (!System.Net.IPAddress.TryParse(context.DnsEndPoint.Host, out var address))
            {
                _resolved.Enqueue(context.DnsEndPoint.Host);
                throw new HttpRequestException($"test: no name resolution for '{context.DnsEndPoint.Host}'");
            }

            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(address, context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        private static Task<LoopbackApp> StartBackendAsync(string name) =>
            LoopbackApp.StartAsync(_ => { }, app => app.MapGet("/whoami", () => Results.Text(name)));
    }
}
