using BenchmarkDotNet.Attributes;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using GrayRelease.Discovery;
using GrayRelease.Grpc.Balancing;
using GrayRelease.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GrayRelease.Grpc.Benchmarks;

/// <summary>
/// One pick of a channel's current picker, as the channel makes it for every call attempt: the <c>gray</c> policy's
/// picker (route by the call's <see cref="GrayContext"/>, weighted rotation in the group) versus Grpc.Net.Client's
/// <c>round_robin</c> picker, both over the same four ready subchannels (v1, v1, v2, v2; servers in a child process).
/// The pickers are taken from real channels through a pass-through controller that keeps the last ready picker.
/// The "pick and send" pair adds what else the gray client does per call attempt: the request through the client's
/// handler chain, where the propagation handler adds the status as metadata (a stub transport answers).
/// </summary>
[MemoryDiagnoser]
public class PickerBenchmarks
{
    private readonly PickContext _context = new();
    private ServerProcess _servers = null!;
    private ServiceProvider _services = null!;
    private GrpcChannel _grayChannel = null!;
    private GrpcChannel _roundRobinChannel = null!;
    private SubchannelPicker _gray = null!;
    private SubchannelPicker _roundRobin = null!;
    private GrayScope? _scope;
    private HttpMessageInvoker _plainChain = null!;
    private HttpMessageInvoker _grayChain = null!;

    private static readonly Uri RequestUri = new("http://127.0.0.1:5000/grayrelease.benchmarks.Bench/Who");

    [Params(GrayStatus.Gray, GrayStatus.Prod)]
    public GrayStatus Status { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        SetupAsync().GetAwaiter().GetResult();

        // Synchronous, not undone: the call's context stays in this thread's flow for the workload, which BenchmarkDotNet
        // runs on the thread that ran the set-up. Cleanup checks it was so.
        _scope = GrayContext.Begin(Status);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var wanted = Status == GrayStatus.Gray ? "v2" : "v1";
        for (var i = 0; i < 8; i++)
        {
            var version = VersionOf(_gray.Pick(_context));
            if (version != wanted)
            {
                throw new InvalidOperationException($"The gray picker picked {version} for a {Status} call: the context did not flow into the workload.");
            }
        }

        _scope?.Dispose();
        _plainChain.Dispose();
        _grayChain.Dispose();
        _grayChannel.Dispose();
        _roundRobinChannel.Dispose();
        _services.Dispose();
        _servers.Dispose();
    }

    [Benchmark(Baseline = true)]
    public PickResult Round_robin_pick() => _roundRobin.Pick(_context);

    [Benchmark]
    public PickResult Gray_pick() => _gray.Pick(_context);

    /// <summary>The plain client's part of a call attempt: the pick, then the request through the handler chain (a stub transport).</summary>
    [Benchmark]
    public Task<HttpResponseMessage> Round_robin_pick_and_send()
    {
        _roundRobin.Pick(_context);
        return _plainChain.SendAsync(GrpcLikeRequest(), CancellationToken.None);
    }

    /// <summary>The gray client's part: the gray pick, then the chain with the propagation handler, which adds the metadata.</summary>
    [Benchmark]
    public Task<HttpResponseMessage> Gray_pick_and_send()
    {
        _gray.Pick(_context);
        return _grayChain.SendAsync(GrpcLikeRequest(), CancellationToken.None);
    }

    // The headers Grpc.Net.Client puts on every call, so the gray header is added to a collection of the usual size.
    private static HttpRequestMessage GrpcLikeRequest()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, RequestUri) { Version = System.Net.HttpVersion.Version20 };
        request.Headers.TryAddWithoutValidation("user-agent", "grpc-dotnet/2.85.0 (.NET 10.0.12; CLR 10.0.12; net10.0; linux; x64)");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.TryAddWithoutValidation("grpc-accept-encoding", "identity,gzip,deflate");
        return request;
    }

    private async Task SetupAsync()
    {
        _servers = await ServerProcess.StartAsync();
        var settings = new Dictionary<string, string?> { ["GrayRelease:ProdVersion"] = "v1", ["GrayRelease:GrayVersion"] = "v2" };
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGrayRelease(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddSingleton<GrayOptionsSnapshot>();
        _services = services.BuildServiceProvider();

        var grayFactory = new CapturingFactory("capture-gray", ActivatorUtilities.CreateInstance<GrayLoadBalancerFactory>(_services));
        var roundRobinFactory = new CapturingFactory("capture-round-robin", new RoundRobinBalancerFactory());
        _grayChannel = Channel(grayFactory);
        _roundRobinChannel = Channel(roundRobinFactory);
        await _grayChannel.ConnectAsync();
        await _roundRobinChannel.ConnectAsync();

        _plainChain = new HttpMessageInvoker(new StubTransport());
        _grayChain = new HttpMessageInvoker(new GrayPropagationHandler(_services.GetRequiredService<IOptionsMonitor<GrayReleaseOptions>>()) { InnerHandler = new StubTransport() });

        _roundRobin = await WaitForAsync(roundRobinFactory, picker => Distinct(picker, null) == 4);
        _gray = await WaitForAsync(grayFactory, picker => Distinct(picker, GrayStatus.Gray) == 2 && Distinct(picker, GrayStatus.Prod) == 2);
    }

    private GrpcChannel Channel(CapturingFactory factory)
    {
        var addresses = _servers.Backends.Select(backend =>
        {
            var address = new BalancerAddress(backend.Address.Host, backend.Address.Port);
            address.Attributes.Set(GrayGrpcNames.Instance, new ServiceInstance
            {
                ServiceName = "bench",
                Host = backend.Address.Host,
                Port = backend.Address.Port,
                Metadata = new Dictionary<string, string> { ["version"] = backend.Version },
            });
            return address;
        }).ToArray();
        var services = new ServiceCollection();
        services.AddSingleton<ResolverFactory>(new StaticResolverFactory(_ => addresses));
        services.AddSingleton<LoadBalancerFactory>(factory);
        return GrpcChannel.ForAddress("static:///bench", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Insecure,
            ServiceProvider = services.BuildServiceProvider(),
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new LoadBalancingConfig(factory.Name) } },
        });
    }

    private int Distinct(SubchannelPicker picker, GrayStatus? status)
    {
        using var scope = GrayContext.Begin(status ?? GrayStatus.Prod);
        return Enumerable.Range(0, 16).Select(_ => picker.Pick(_context).Subchannel?.CurrentAddress?.EndPoint).Where(e => e is not null).Distinct().Count();
    }

    private string? VersionOf(PickResult result) =>
        result.Subchannel?.CurrentAddress is { } address
            ? _servers.Backends.Single(b => b.Address.Port == address.EndPoint.Port).Version
            : null;

    private static async Task<SubchannelPicker> WaitForAsync(CapturingFactory factory, Func<SubchannelPicker, bool> ready)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            if (factory.Picker is { } picker && ready(picker))
            {
                return picker;
            }

            timeout.Token.ThrowIfCancellationRequested();
            await factory.Changed.WaitAsync(TimeSpan.FromMilliseconds(100)).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>Answers at once, from a completed task made once.</summary>
    private sealed class StubTransport : HttpMessageHandler
    {
        private readonly Task<HttpResponseMessage> _response = Task.FromResult(new HttpResponseMessage());

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => _response;
    }

    /// <summary>A policy's factory behind a controller that keeps the last picker the policy published while ready.</summary>
    private sealed class CapturingFactory(string name, LoadBalancerFactory inner) : LoadBalancerFactory
    {
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override string Name => name;

        public SubchannelPicker? Picker { get; private set; }

        public Task Changed => _changed.Task;

        public override LoadBalancer Create(LoadBalancerOptions options) =>
            inner.Create(new LoadBalancerOptions(new Controller(options.Controller, this), options.LoggerFactory, options.Configuration));

        private void Publish(BalancerState state)
        {
            if (state.ConnectivityState == ConnectivityState.Ready)
            {
                Picker = state.Picker;
                Interlocked.Exchange(ref _changed, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }
        }

        private sealed class Controller(IChannelControlHelper inner, CapturingFactory owner) : IChannelControlHelper
        {
            public Subchannel CreateSubchannel(SubchannelOptions options) => inner.CreateSubchannel(options);

            public void UpdateState(BalancerState state)
            {
                owner.Publish(state);
                inner.UpdateState(state);
            }

            public void RefreshResolver() => inner.RefreshResolver();
        }
    }
}
