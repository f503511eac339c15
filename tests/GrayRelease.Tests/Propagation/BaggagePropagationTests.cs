using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using GrayRelease.Tests.Infrastructure;
using GrayRelease.Tests.Integration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Context.Propagation;
using OtelBaggage = OpenTelemetry.Baggage;

namespace GrayRelease.Tests.Propagation;

/// <summary>What a service saw of a request: where it ran, its gray context, the raw carriers and both baggage APIs.</summary>
public sealed record BaggageSeen(
    string Version,
    string? Status,
    string? Lane,
    string? GrayHeader,
    string[] Baggage,
    string? ActivityStatus,
    string? OtelStatus,
    string? ActivityLane,
    string? OtelLane,
    BaggageSeen? Next = null);

/// <summary>
/// Issue 15, item 4: <c>GrayRelease:Propagation</c> = Header | Baggage | Both over two real Kestrel hops (order-app calls
/// user-app V1/V2 through an <c>AddGrayRelease()</c> HttpClient), with an ActivityListener present, so ASP.NET Core makes
/// a request Activity (filling its baggage from the header) and HttpClient's DiagnosticsHandler injects its baggage.
/// </summary>
public sealed class BaggagePropagationTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly ActivityListener _listener = new()
    {
        ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" or "System.Net.Http",
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
    };

    public BaggagePropagationTests() => ActivitySource.AddActivityListener(_listener);

    public void Dispose() => _listener.Dispose();

    [Theory]
    [InlineData(GrayPropagation.Header)]
    [InlineData(GrayPropagation.Baggage)]
    [InlineData(GrayPropagation.Both)]
    public async Task Each_mode_carries_status_and_lane_over_two_hops_in_its_own_carrier(GrayPropagation mode)
    {
        await using var chain = await Chain.StartAsync(mode);

        for (var i = 0; i < 6; i++)
        {
            var seen = await chain.RelayAsync(request =>
            {
                if (mode != GrayPropagation.Baggage)
                {
                    request.Headers.Add("gray", "GRAY");
                    request.Headers.Add("gray-lane", "blue");
                }

                if (mode != GrayPropagation.Header)
                {
                    request.Headers.Add("baggage", "tenant=acme, gray.status=GRAY, gray.lane=blue");
                }
            });

            Assert.Equal(("GRAY", "blue"), (seen.Status, seen.Lane));
            var user = seen.Next!;
            Assert.Equal(("V2", "GRAY", "blue"), (user.Version, user.Status, user.Lane));
            Assert.Equal(mode == GrayPropagation.Baggage ? null : "GRAY", user.GrayHeader);
            var members = Members(user.Baggage);
            if (mode == GrayPropagation.Header)
            {
                Assert.DoesNotContain("gray.status", members.Keys);
            }
            else
            {
                // One header, each member once: ours merged with the Activity's (which DiagnosticsHandler would inject).
                Assert.Single(user.Baggage);
                Assert.Equal(["GRAY"], members["gray.status"]);
                Assert.Equal(["blue"], members["gray.lane"]);
                Assert.Equal(["acme"], members["tenant"]);
                Assert.Equal(("GRAY", "GRAY", "blue", "blue"), (user.ActivityStatus, user.OtelStatus, user.ActivityLane, user.OtelLane));
            }
        }
    }

    [Fact]
    public async Task Baggage_mode_ignores_the_gray_header_and_Header_mode_ignores_baggage()
    {
        await using var baggageChain = await Chain.StartAsync(GrayPropagation.Baggage);
        await using var headerChain = await Chain.StartAsync(GrayPropagation.Header);

        var headerOnly = await baggageChain.RelayAsync(request => request.Headers.Add("gray", "GRAY"));
        var baggageOnly = await headerChain.RelayAsync(request => request.Headers.Add("baggage", "gray.status=GRAY"));

        Assert.Null(headerOnly.Status);
        Assert.Null(baggageOnly.Status);
        Assert.Equal("V1", headerOnly.Next!.Version);
        Assert.Equal("V1", baggageOnly.Next!.Version);
    }

    [Fact]
    public async Task In_Both_mode_the_header_wins_and_both_baggage_APIs_say_what_the_header_said()
    {
        await using var chain = await Chain.StartAsync(GrayPropagation.Both);

        var seen = await chain.RelayAsync(request =>
        {
            request.Headers.Add("gray", "PROD");
            request.Headers.Add("baggage", "gray.status=GRAY,gray.lane=blue");
        });

        Assert.Equal(("PROD", "blue"), (seen.Status, seen.Lane));
        Assert.Equal(("PROD", "PROD"), (seen.ActivityStatus, seen.OtelStatus));
        Assert.Equal(("V1", "PROD"), (seen.Next!.Version, seen.Next.Status));
        Assert.Equal(["PROD"], Members(seen.Next.Baggage)["gray.status"]);
    }

    [Fact]
    public async Task Members_already_in_either_NET_baggage_API_are_accepted_and_the_other_API_made_to_agree()
    {
        await using var fromActivity = await Chain.StartAsync(GrayPropagation.Baggage, before: context =>
            Activity.Current?.SetBaggage("gray.status", "GRAY"));
        await using var fromOtel = await Chain.StartAsync(GrayPropagation.Baggage, before: context =>
            OtelBaggage.Current = OtelBaggage.Current.SetBaggage("gray.status", "GRAY").SetBaggage("gray.lane", "blue"));

        var activity = await fromActivity.RelayAsync(_ => { });
        var otel = await fromOtel.RelayAsync(_ => { });

        Assert.Equal(("GRAY", "GRAY", "GRAY"), (activity.Status, activity.ActivityStatus, activity.OtelStatus));
        Assert.Equal("V2", activity.Next!.Version);
        Assert.Equal(("GRAY", "GRAY", "GRAY", "blue", "blue"), (otel.Status, otel.ActivityStatus, otel.OtelStatus, otel.ActivityLane, otel.Lane));
        Assert.Equal("V2", otel.Next!.Version);
    }

    [Fact]
    public async Task A_member_the_NET_APIs_hold_but_the_request_does_not_support_is_removed_from_both()
    {
        // ASP.NET Core's propagator and app code may put a value there that is not a status; GrayContext is the truth.
        await using var chain = await Chain.StartAsync(GrayPropagation.Baggage, before: context =>
        {
            Activity.Current?.SetBaggage("gray.status", "SOMETIMES");
            OtelBaggage.Current = OtelBaggage.Current.SetBaggage("gray.status", "SOMETIMES").SetBaggage("tenant", "acme");
        });

        var seen = await chain.RelayAsync(_ => { });

        Assert.Null(seen.Status);
        Assert.Equal((null, null), (seen.ActivityStatus, seen.OtelStatus));
        Assert.Equal("V1", seen.Next!.Version);
    }

    [Fact]
    public async Task Malformed_baggage_never_fails_a_request_and_yields_no_gray_member()
    {
        await using var chain = await Chain.StartAsync(GrayPropagation.Baggage);
        var inputs = W3CBaggageTests.MalformedInputs.ToList();
        inputs.Add(string.Join(',', Enumerable.Range(0, 180).Select(i => $"k{i}=v")) + ",gray.status=GRAY"); // the 181st
        inputs.Add("big=" + new string('x', 8180) + ",gray.status=GRAY");                                       // past 8192 bytes
        inputs.Add("gray.status=GRAY,gray.status=PROD");                                                      // repeated
        inputs.Add("gray.status=%47%52%41%59%");                                                              // bad encoding
        Assert.True(inputs.Count >= 20);

        foreach (var input in inputs)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(chain.Order.Address, "/who"));
            if (!request.Headers.TryAddWithoutValidation("baggage", input))
            {
                continue;
            }

            using var cts = new CancellationTokenSource(Timeout);
            using var response = await chain.Client.SendAsync(request, cts.Token);

            // Kestrel itself refuses some bytes (a control character) before any middleware: not ours to handle.
            if (response.StatusCode == HttpStatusCode.BadRequest)
            {
                continue;
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var seen = (await response.Content.ReadFromJsonAsync<BaggageSeen>(cts.Token))!;
            Assert.True(seen.Status is null, $"'{input}' gave status {seen.Status}");
            Assert.Null(seen.ActivityStatus);
            Assert.Null(seen.OtelStatus);
        }
    }

    [Fact]
    public async Task A_gray_member_encoded_as_percent_escapes_is_read()
    {
        await using var chain = await Chain.StartAsync(GrayPropagation.Baggage);

        var seen = await chain.RelayAsync(request => request.Headers.Add("baggage", "gray.status=%47%52%41%59 ;origin=edge"));

        Assert.Equal("GRAY", seen.Status);
        Assert.Equal("V2", seen.Next!.Version);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_OpenTelemetry_style_injector_inside_the_client_carries_the_current_gray_context_not_a_stale_baggage(bool injectAfterAnAwait)
    {
        // order-app code narrows the request to PROD for one call; Baggage.Current (made GRAY by the middleware) would
        // still say GRAY to OpenTelemetry's HttpClient instrumentation, which rewrites the whole header from it. The real
        // instrumentation injects deep in the pipeline, after handlers that may await first: the aligned value must
        // still be there then, and must not leak into the caller's own Baggage.Current.
        await using var chain = await Chain.StartAsync(GrayPropagation.Baggage, relayStatus: GrayStatus.Prod, otelInjector: true, injectAfterAnAwait: injectAfterAnAwait);

        var seen = await chain.RelayAsync(request => request.Headers.Add("baggage", "gray.status=GRAY,tenant=acme"));

        Assert.Equal(("GRAY", "GRAY"), (seen.Status, seen.OtelStatus));
        var user = seen.Next!;
        Assert.Single(user.Baggage);
        Assert.Equal(["PROD"], Members(user.Baggage)["gray.status"]);
        Assert.Equal(("V1", "PROD"), (user.Version, user.Status));
    }

    [Fact]
    public async Task Work_run_untagged_inside_a_gray_request_does_not_carry_the_requests_gray_member()
    {
        await using var chain = await Chain.StartAsync(GrayPropagation.Baggage, relayUntagged: true);

        var seen = await chain.RelayAsync(request => request.Headers.Add("baggage", "gray.status=GRAY"));

        Assert.Equal("GRAY", seen.Status);
        Assert.Null(seen.Next!.Status);
        Assert.Equal("V1", seen.Next.Version);
        Assert.DoesNotContain("gray.status", Members(seen.Next.Baggage).Keys);
    }

    [Fact]
    public async Task A_caller_set_baggage_header_is_merged_into_not_duplicated()
    {
        await using var chain = await Chain.StartAsync(GrayPropagation.Baggage, callerBaggage: "trace.flag=1;p=v");

        var seen = await chain.RelayAsync(request => request.Headers.Add("baggage", "gray.status=GRAY"));

        var user = seen.Next!;
        Assert.Single(user.Baggage);
        var members = Members(user.Baggage);
        Assert.Equal(["GRAY"], members["gray.status"]);
        Assert.Equal(["1"], members["trace.flag"]);
        Assert.Contains("trace.flag=1;p=v", user.Baggage[0], StringComparison.Ordinal);
    }

    private static Dictionary<string, List<string>> Members(string[] headers)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var member in GrayRelease.Propagation.W3CBaggage.Parse(headers).Members)
        {
            if (!result.TryGetValue(member.Key, out var values))
            {
                result[member.Key] = values = [];
            }

            values.Add(member.Value);
        }

        return result;
    }

    private static BaggageSeen Seen(HttpContext context, string version, BaggageSeen? next = null) => new(
        version,
        GrayContext.Current?.ToWireValue(),
        GrayContext.CurrentLane,
        context.Request.Headers.TryGetValue("gray", out var gray) ? gray.ToString() : null,
        context.Request.Headers.TryGetValue("baggage", out var baggage) ? [.. baggage.Select(v => v ?? string.Empty)] : [],
        Activity.Current?.GetBaggageItem("gray.status"),
        OtelBaggage.GetBaggage("gray.status"),
        Activity.Current?.GetBaggageItem("gray.lane"),
        OtelBaggage.GetBaggage("gray.lane"),
        next);

    /// <summary>order-app (V1) in front of user-app V1 and V2, every service in the same propagation mode.</summary>
    private sealed class Chain : IAsyncDisposable
    {
        private readonly List<LoopbackApp> _apps;

        private Chain(List<LoopbackApp> apps, LoopbackApp order)
        {
            _apps = apps;
            Order = order;
        }

        public LoopbackApp Order { get; }

        // UTF-8 on the wire, so malformed inputs with non-ASCII characters reach the service instead of failing here.
        public HttpClient Client { get; } = new(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8 }) { Timeout = Timeout };

        public static async Task<Chain> StartAsync(
            GrayPropagation mode,
            Action<HttpContext>? before = null,
            GrayStatus? relayStatus = null,
            bool relayUntagged = false,
            bool otelInjector = false,
            string? callerBaggage = null,
            bool injectAfterAnAwait = false)
        {
            var modeSetting = new Dictionary<string, string?> { ["GrayRelease:Propagation"] = mode.ToString() };
            var apps = new List<LoopbackApp>();
            var users = new List<(string, Uri)>();
            foreach (var version in new[] { "V1", "V2" })
            {
                var user = await LoopbackApp.StartAsync(
                    builder => builder.Services.AddGrayRelease(builder.Configuration),
                    app =>
                    {
                        app.UseGrayRelease();
                        app.MapGet("/who", (HttpContext context) => Seen(context, version));
                    },
                    new Dictionary<string, string?>(modeSetting) { ["GrayRelease:Version"] = version });
                apps.Add(user);
                users.Add((version, user.Address));
            }

            var settings = ChainApps.InstanceSettings("user-app", users);
            settings["GrayRelease:Propagation"] = mode.ToString();
            settings["GrayRelease:Version"] = "V1";
            var order = await LoopbackApp.StartAsync(
                builder =>
                {
                    builder.Services.AddGrayRelease(builder.Configuration);
                    var client = builder.Services.AddHttpClient("user-app").AddGrayRelease();
                    if (otelInjector)
                    {
                        client.AddHttpMessageHandler(() => new OpenTelemetryStyleInjector(injectAfterAnAwait));
                    }
                },
                app =>
                {
                    if (before is not null)
                    {
                        app.Use(async (context, next) =>
                        {
                            before(context);
                            await next(context);
                        });
                    }

                    app.UseGrayRelease();
                    app.MapGet("/who", async (HttpContext context, IHttpClientFactory factory) =>
                    {
                        var http = factory.CreateClient("user-app");
                        using var request = new HttpRequestMessage(HttpMethod.Get, "http://user-app/who");
                        if (callerBaggage is not null)
                        {
                            request.Headers.TryAddWithoutValidation("baggage", callerBaggage);
                        }

                        BaggageSeen? next;
                        var callersBaggage = OtelBaggage.Current;
                        using (relayStatus is { } narrowed ? GrayContext.Begin(narrowed) : relayUntagged ? GrayContext.Suppress() : default)
                        {
                            using var response = await http.SendAsync(request, context.RequestAborted);
                            response.EnsureSuccessStatusCode();
                            next = await response.Content.ReadFromJsonAsync<BaggageSeen>(context.RequestAborted);
                        }

                        // Whatever the call aligned for itself, the request's own Baggage.Current is as it was.
                        Assert.Equal(callersBaggage, OtelBaggage.Current);

                        return Seen(context, "V1", next);
                    });
                },
                settings);
            apps.Add(order);
            return new Chain(apps, order);
        }

        public async Task<BaggageSeen> RelayAsync(Action<HttpRequestMessage> configure)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Order.Address, "/who"));
            configure(request);
            using var cts = new CancellationTokenSource(Timeout);
            using var response = await Client.SendAsync(request, cts.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<BaggageSeen>(cts.Token))!;
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            foreach (var app in _apps)
            {
                await app.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// What OpenTelemetry's HttpClient instrumentation does when a request starts: inject <c>Baggage.Current</c> through
    /// its baggage propagator, replacing the header (remove, then add).
    /// </summary>
    private sealed class OpenTelemetryStyleInjector(bool afterAnAwait) : DelegatingHandler
    {
        private static readonly BaggagePropagator Propagator = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (afterAnAwait)
            {
                await Task.Yield();
            }

            Propagator.Inject(new PropagationContext(default, OtelBaggage.Current), request, static (r, key, value) =>
            {
                r.Headers.Remove(key);
                r.Headers.TryAddWithoutValidation(key, value);
            });
            return await base.SendAsync(request, cancellationToken);
        }
    }
}
