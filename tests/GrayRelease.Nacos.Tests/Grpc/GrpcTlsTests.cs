using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using GrayRelease.Nacos.Configuration;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Nacos.Grpc;
using GrayRelease.Nacos.Http;
using Microsoft.Extensions.Logging.Testing;

namespace GrayRelease.Nacos.Tests.Grpc;

/// <summary>
/// h-nacos item 4: TLS on the gRPC port (a server with nacos.remote.server.rpc.tls.enableTls=true), against the
/// emulator serving its gRPC port with a self-signed certificate on loopback; trust comes from the test-only
/// validation seam (NacosGrpcSettings.ValidateServerCertificate), pinning that certificate.
/// </summary>
public sealed class GrpcTlsTests : IAsyncLifetime
{
    private readonly X509Certificate2 _certificate = SelfSigned();
    private NacosEmulator _nacos = null!;

    public async Task InitializeAsync()
    {
        _nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos32, GrpcCertificate = _certificate });
        _nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");
    }

    public async Task DisposeAsync()
    {
        await _nacos.DisposeAsync();
        _certificate.Dispose();
    }

    [Fact]
    public async Task With_GrpcTls_the_client_probes_connects_and_reads_over_tls()
    {
        using var cts = TestSupport.Timeout();
        var options = Options(grpcTls: true);
        var settings = NacosGrpcSettings.FromOptions(options) with { ValidateServerCertificate = Pinned };

        Assert.NotNull(await NacosGrpcConnection.ProbeAsync(options, settings, new FakeLogger(), cts.Token));
        await using var transport = new GrpcConfigTransport(options, TimeProvider.System, new FakeLogger(), null, settings);
        Assert.Equal("a: 1", await transport.GetAsync(new NacosConfigKey("a.yaml", "DEFAULT_GROUP", string.Empty), cts.Token));
        Assert.Equal(1, _nacos.GrpcConnections.Count);
    }

    [Fact]
    public async Task An_https_server_address_means_tls_on_the_grpc_port()
    {
        using var cts = TestSupport.Timeout();
        var options = Options(grpcTls: false);
        options.ServerAddresses = [options.ServerAddresses[0].Replace("http://", "https://", StringComparison.Ordinal)];
        var settings = NacosGrpcSettings.FromOptions(options) with { ValidateServerCertificate = Pinned };

        Assert.True(Assert.Single(NacosGrpcServer.FromOptions(options)).Tls);
        Assert.NotNull(await NacosGrpcConnection.ProbeAsync(options, settings, new FakeLogger(), cts.Token));
    }

    [Fact]
    public async Task A_certificate_the_client_does_not_trust_is_refused_and_plaintext_does_not_reach_a_tls_port()
    {
        using var cts = TestSupport.Timeout();
        var untrusted = Options(grpcTls: true);
        Assert.Null(await NacosGrpcConnection.ProbeAsync(untrusted, NacosGrpcSettings.FromOptions(untrusted), new FakeLogger(), cts.Token));

        var plaintext = Options(grpcTls: false);
        Assert.Null(await NacosGrpcConnection.ProbeAsync(plaintext, NacosGrpcSettings.FromOptions(plaintext), new FakeLogger(), cts.Token));
    }

    private NacosOptions Options(bool grpcTls)
    {
        var options = TestSupport.Options(_nacos);
        options.GrpcTls = grpcTls;
        options.Transport = NacosTransport.Grpc;
        options.DefaultTimeOut = 10000;
        return options;
    }

    private bool Pinned(X509Certificate2? certificate) => certificate is not null && certificate.Thumbprint == _certificate.Thumbprint;

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        // Kestrel needs a certificate whose private key it can use: a PFX round trip gives one on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }
}
