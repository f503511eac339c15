using System.Diagnostics;
using GrayRelease.Propagation;
using GrayRelease.Yarp.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace GrayRelease.Yarp.Tests.EndToEnd;

/// <summary>
/// Issue 15, item 4 at the gateway: the gray members of the client's W3C baggage are stripped as its gray headers are
/// (the other members kept), and with <c>GrayRelease:Propagation</c> Baggage or Both the decision travels as baggage.
/// Real gateway, real GrayRelease services (V1/V2) on Kestrel that report what they received and what they made of it.
/// </summary>
public sealed class GatewayBaggageTests : IDisposable
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));

    private CancellationToken Token => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    /// <summary>Each mode twice: YARP propagating from the request's Activity (a listener present), and YARP copying headers only.</summary>
    public static TheoryData<GrayPropagation, bool> Modes => new()
    {
        { GrayPropagation.Header, false },
        { GrayPropagation.Header, true },
        { GrayPropagation.Baggage, false },
        { GrayPropagation.Baggage, true },
        { GrayPropagation.Both, false },
        { GrayPropagation.Both, true },
    };

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task A_backend_sees_the_gateways_decision_only_never_the_clients_gray_baggage(GrayPropagation mode, bool withActivity)
    {
        // With an Activity, YARP's propagator rewrites the outgoing baggage header from the Activity's baggage, which
        // ASP.NET Core's hosting filled from the client's header: the strip must reach the Activity too. Without its
        // propagator, YARP forwards the header as the request has it: the strip must reach the header. (Listeners are
        // process-wide, so "no Activity" is made certain by turning YARP's propagator off, not by having no listener.)
        using var listener = withActivity ? Listen() : null;
        await using var v1 = await BaggageBackend.StartAsync("v1", mode, Token);
        await using var v2 = await BaggageBackend.StartAsync("v2", mode, Token);
        await using var gateway = await StartGatewayAsync(mode, v1, v2, yarpPropagator: withActivity);

        for (var i = 0; i < 4; i++)
        {
            var seen = await GetAsync(gateway, ("gray", "GRAY"), ("gray-lane", "blue"), ("baggage", "gray.status=GRAY, tenant=acme;p=1, gray.lane=blue,gray.status=%47RAY"));

            Assert.Equal(("v1", "PROD", ""), (seen.Version, seen.Status, seen.Lane));
            var members = W3CBaggage.Parse(seen.Baggage);
            Assert.Equal(0, members.CountOf("gray.lane"));
            Assert.Equal(mode == GrayPropagation.Header ? 0 : 1, members.CountOf("gray.status"));
            if (mode != GrayPropagation.Header)
            {
                Assert.Equal("PROD", members.Members[members.IndexOf("gray.status")].Value);
            }

            Assert.Equal(1, members.CountOf("tenant"));
            Assert.Equal(mode == GrayPropagation.Baggage ? string.Empty : "PROD", seen.GrayHeader);
        }
    }

    [Theory]
    [InlineData(GrayPropagation.Baggage)]
    [InlineData(GrayPropagation.Both)]
    public async Task A_gray_decision_travels_as_baggage_whatever_the_client_claimed(GrayPropagation mode)
    {
        using var listener = Listen();
        await using var v1 = await BaggageBackend.StartAsync("v1", mode, Token);
        await using var v2 = await BaggageBackend.StartAsync("v2", mode, Token);
        await using var gateway = await StartGatewayAsync(mode, v1, v2, config => config.Set("GrayRelease:Gateway:IpList:0", "127.0.0.0/8"));

        var seen = await GetAsync(gateway, ("baggage", "gray.status=PROD,gray.lane=blue"));

        Assert.Equal(("v2", "GRAY", ""), (seen.Version, seen.Status, seen.Lane));
        Assert.Equal(["gray.status"], W3CBaggage.Parse(seen.Baggage).Members.Select(m => m.Key));
    }

    [Fact]
    public async Task A_malformed_member_that_names_a_gray_key_is_stripped_too()
    {
        // Our parser ignores it; a more lenient one downstream might not: it never leaves the gateway.
        using var listener = Listen();
        await using var v1 = await BaggageBackend.StartAsync("v1", GrayPropagation.Baggage, Token);
        await using var v2 = await BaggageBackend.StartAsync("v2", GrayPropagation.Baggage, Token);
        await using var gateway = await StartGatewayAsync(GrayPropagation.Header, v1, v2);

        var seen = await GetAsync(gateway, ("baggage", "gray.status=GRAY;bad\"property,tenant=acme"));

        Assert.Equal(("v1", ""), (seen.Version, seen.Status));
        Assert.DoesNotContain("gray.status", seen.Baggage, StringComparison.Ordinal);
        Assert.Equal(["tenant"], W3CBaggage.Parse(seen.Baggage).Members.Select(m => m.Key));
    }

    private static ActivityListener Listen()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" or "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private async Task<GatewayHost> StartGatewayAsync(GrayPropagation mode, BaggageBackend v1, BaggageBackend v2, Action<GatewayConfig>? configure = null, bool yarpPropagator = true)
    {
        var config = new GatewayConfig()
            .Set("GrayRelease:Propagation", mode.ToString())
            .Cluster("orders")
            .Destination("orders", "orders-v1", v1.Address, "v1")
            .Destination("orders", "orders-v2", v2.Address, "v2");
        configure?.Invoke(config);
        return await GatewayHost.StartAsync(
            config,
            Token,
            configureServices: yarpPropagator ? null : services => services.AddSingleton<IForwarderHttpClientFactory, HeadersOnlyForwarderFactory>());
    }

    private sealed class HeadersOnlyForwarderFactory : ForwarderHttpClientFactory
    {
        protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
        {
            base.ConfigureHandler(context, handler);
            handler.ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator();
        }
    }

    private async Task<Seen> GetAsync(GatewayHost gateway, params (string Name, string Value)[] headers)
    {
        var (status, body) = await gateway.GetAsync("/orders/1", Token, headers);
        Assert.Equal(200, status);
        var parts = body.Split('\n');
        return new Seen(parts[0], parts[1], parts[2], parts[3], parts[4]);
    }

    private sealed record Seen(string Version, string Status, string Lane, string GrayHeader, string Baggage);

    /// <summary>A GrayRelease service in the given mode that answers what it received and what its middleware made of it.</summary>
    private sealed class BaggageBackend : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private BaggageBackend(WebApplication app, Uri address)
        {
            _app = app;
            Address = address;
        }

        public Uri Address { get; }

        public static async Task<BaggageBackend> StartAsync(string version, GrayPropagation mode, CancellationToken cancellationToken)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["GrayRelease:Version"] = version,
                ["GrayRelease:Propagation"] = mode.ToString(),
            });
            builder.Services.AddGrayRelease(builder.Configuration);
            var app = builder.Build();
            app.UseGrayRelease();
            app.MapFallback((HttpContext context) => string.Join(
                '\n',
                version,
                GrayContext.Current?.ToWireValue() ?? string.Empty,
                GrayContext.CurrentLane ?? string.Empty,
                context.Request.Headers["gray"].ToString(),
                string.Join(',', context.Request.Headers["baggage"].ToArray())));
            await app.StartAsync(cancellationToken);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            return new BaggageBackend(app, new Uri(address));
        }

        public async ValueTask DisposeAsync()
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _app.StopAsync(cts.Token);
            await _app.DisposeAsync();
        }
    }
}
