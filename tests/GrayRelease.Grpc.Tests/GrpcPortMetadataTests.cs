using Grpc.Core;
using Grpc.Net.Client.Balancer;
using GrayRelease.Discovery;
using GrayRelease.Grpc.Balancing;
using GrayRelease.Grpc.Diagnostics;
using GrayRelease.Grpc.Tests.Infrastructure;
using GrayRelease.Grpc.Tests.Protos;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace GrayRelease.Grpc.Tests;

/// <summary>
/// One registration, two ports: an instance whose metadata carries <c>gRPC_port</c> (Spring's gRPC starter convention)
/// is dialled there; one without it on its registered port; a value that is not a port skips that instance only.
/// </summary>
public sealed class GrpcPortMetadataTests
{
    private const string Service = "user-app";

    // Port 1 on loopback: nothing listens there, so a call that reaches the server proves the metadata port was dialled.
    private const int ClosedPort = 1;

    [Fact]
    public async Task A_call_is_dialled_on_the_gRPC_port_of_the_metadata_not_on_the_registered_port()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        var provider = new TestInstanceProvider();
        provider.Set(Service, WithMetadata(v1.Instance(), "gRPC_port", v1.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), port: ClosedPort));
        await using var services = BuildClient(provider);

        var reply = await services.GetRequiredService<Echo.EchoClient>().WhoAsync(new WhoRequest(), deadline: DateTime.UtcNow.AddSeconds(30));

        Assert.Equal(v1.Port, reply.Port);
        Assert.Equal(1, v1.Calls);
    }

    [Fact]
    public async Task The_metadata_key_is_configurable()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        var provider = new TestInstanceProvider();
        provider.Set(Service, WithMetadata(v1.Instance(), "grpc.port", v1.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), port: ClosedPort));
        await using var services = BuildClient(provider, new() { ["GrayRelease:Grpc:PortMetadataKey"] = "grpc.port" });

        var reply = await services.GetRequiredService<Echo.EchoClient>().WhoAsync(new WhoRequest(), deadline: DateTime.UtcNow.AddSeconds(30));

        Assert.Equal(v1.Port, reply.Port);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData(" 80")]
    [InlineData("80 ")]
    [InlineData("+80")]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("99999999999999999999")]
    [InlineData("abc")]
    [InlineData("8O")]
    [InlineData("0x50")]
    [InlineData("8\u00a00")]
    [InlineData("\u0668\u0660")] // Arabic-Indic digits: char.IsDigit says yes, a port says no
    public void A_value_that_is_not_a_port_is_refused(string value) => Assert.False(GrayResolver.TryParsePort(value, out _));

    [Theory]
    [InlineData("1", 1)]
    [InlineData("80", 80)]
    [InlineData("9090", 9090)]
    [InlineData("65535", 65535)]
    public void A_port_is_read_as_plain_decimal(string value, int expected)
    {
        Assert.True(GrayResolver.TryParsePort(value, out var port));
        Assert.Equal(expected, port);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData(" 80")]
    [InlineData("80\r\nforged log line")]
    public async Task An_instance_with_a_bad_port_value_is_skipped_with_one_warning_and_the_others_stay(string value)
    {
        var provider = new TestInstanceProvider();
        var good = Instance("10.0.0.1", 8080, ("version", "v1"), ("gRPC_port", "9090"));
        var plain = Instance("10.0.0.2", 8080, ("version", "v1"));
        var bad = Instance("10.0.0.3", 8080, ("version", "v2"), ("gRPC_port", value));
        provider.Set(Service, good, plain, bad);
        var logger = new FakeLogger<GrayResolver>();
        using var resolver = new GrayResolver(provider, Service, logger);
        var results = new ResultListener();
        resolver.Start(results.Add);

        var first = await results.NextAsync();
        provider.Set(Service, good, plain, bad); // the registry pushes the same list again
        var second = await results.NextAsync();

        foreach (var result in new[] { first, second })
        {
            Assert.Equal(StatusCode.OK, result.Status.StatusCode);
            Assert.Equal(["10.0.0.1:9090", "10.0.0.2:8080"], result.Addresses!.Select(a => $"{a.EndPoint.Host}:{a.EndPoint.Port}").Order());
        }

        var warnings = logger.Collector.GetSnapshot().Where(r => r.Id.Id == EventIds.BadPortMetadata).ToList();
        var warning = Assert.Single(warnings);
        Assert.Contains("10.0.0.3", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', warning.Message);
        Assert.DoesNotContain('\r', warning.Message);
    }

    [Fact]
    public async Task A_bad_value_fixed_then_broken_again_is_warned_about_again()
    {
        var provider = new TestInstanceProvider();
        var broken = Instance("10.0.0.3", 8080, ("version", "v1"), ("gRPC_port", "abc"));
        var fixedOne = Instance("10.0.0.3", 8080, ("version", "v1"), ("gRPC_port", "9090"));
        provider.Set(Service, broken);
        var logger = new FakeLogger<GrayResolver>();
        using var resolver = new GrayResolver(provider, Service, logger);
        var results = new ResultListener();
        resolver.Start(results.Add);
        Assert.Empty((await results.NextAsync()).Addresses!);

        provider.Set(Service, fixedOne);
        Assert.Equal(9090, Assert.Single((await results.NextAsync()).Addresses!).EndPoint.Port);
        provider.Set(Service, broken);
        Assert.Empty((await results.NextAsync()).Addresses!);

        Assert.Equal(2, logger.Collector.GetSnapshot().Count(r => r.Id.Id == EventIds.BadPortMetadata));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData(" gRPC_port")]
    public void A_blank_or_padded_metadata_key_is_refused_at_start_up_naming_the_key(string key)
    {
        using var services = BuildClient(new TestInstanceProvider(), new() { ["GrayRelease:Grpc:PortMetadataKey"] = key });

        var exception = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<GrayReleaseGrpcOptions>>().Value);

        Assert.Contains("GrayRelease:Grpc:PortMetadataKey", exception.Message, StringComparison.Ordinal);
        Assert.Contains($"'{key}'", exception.Message, StringComparison.Ordinal);
    }

    private static ServiceInstance WithMetadata(ServiceInstance instance, string key, string value, int port) => new()
    {
        ServiceName = instance.ServiceName,
        Host = instance.Host,
        Port = port,
        Weight = instance.Weight,
        Metadata = new Dictionary<string, string>(instance.Metadata) { [key] = value },
    };

    private static ServiceInstance Instance(string host, int port, params (string Key, string Value)[] metadata) => new()
    {
        ServiceName = Service,
        Host = host,
        Port = port,
        Metadata = metadata.ToDictionary(m => m.Key, m => m.Value),
    };

    private static ServiceProvider BuildClient(IServiceInstanceProvider provider, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?> { ["GrayRelease:ProdVersion"] = "v1", ["GrayRelease:GrayVersion"] = "v2" };
        foreach (var pair in extra ?? [])
        {
            settings[pair.Key] = pair.Value;
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGrayRelease(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddSingleton(provider);
        services.AddGrpcClient<Echo.EchoClient>(o => o.Address = new Uri($"nacos://{Service}")).AddGrayReleaseGrpc();
        return services.BuildServiceProvider();
    }

    /// <summary>The resolver's results, awaited one by one with a deadline.</summary>
    private sealed class ResultListener
    {
        private readonly System.Threading.Channels.Channel<ResolverResult> _results = System.Threading.Channels.Channel.CreateUnbounded<ResolverResult>();

        public void Add(ResolverResult result) => _results.Writer.TryWrite(result);

        public async Task<ResolverResult> NextAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            return await _results.Reader.ReadAsync(timeout.Token);
        }
    }
}
