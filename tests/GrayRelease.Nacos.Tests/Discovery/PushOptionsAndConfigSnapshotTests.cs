using GrayRelease.Nacos.Configuration;
using GrayRelease.Nacos.Emulator;
using Microsoft.Extensions.Configuration;

namespace GrayRelease.Nacos.Tests.Discovery;

/// <summary>Issue 11 items 8 and 16: the push keys are validated, and config snapshots are as private as naming ones.</summary>
public sealed class PushOptionsAndConfigSnapshotTests
{
    [Fact]
    public void Bad_push_keys_are_named_with_their_values()
    {
        var options = new NacosOptions
        {
            ServerAddresses = ["http://127.0.0.1:8848"],
            UdpHost = "nacos-client.local",
            UdpPort = 70000,
            UdpTrustedSenders = "172.17.0.2, not-an-ip",
        };

        var message = new NacosOptionsValidator().Validate(null, options).FailureMessage;

        Assert.Contains("nacos:UdpHost must be an IP address", message, StringComparison.Ordinal);
        Assert.Contains("'nacos-client.local'", message, StringComparison.Ordinal);
        Assert.Contains("nacos:UdpPort must be between 0 (any free port) and 65535; got '70000'", message, StringComparison.Ordinal);
        Assert.Contains("nacos:UdpTrustedSenders must be comma-separated IP addresses; got 'not-an-ip'", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_snapshots_are_0600_in_0700_folders()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        await using var nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2 }, CancellationToken.None);
        nacos.PublishConfig("gray-release.yaml", "DEFAULT_GROUP", "GrayRelease:\n  ProdVersion: V1\n");
        var options = TestSupport.Options(nacos);
        options.Listeners = [new NacosListenerOptions { DataId = "gray-release.yaml" }];

        var root = new ConfigurationBuilder().AddNacosConfiguration(source => source.Options = options).Build();
        try
        {
            Assert.Equal("V1", root["GrayRelease:ProdVersion"]);
        }
        finally
        {
            (root as IDisposable)?.Dispose();
        }

        var file = Directory.GetFiles(options.SnapshotPath!, "*", SearchOption.AllDirectories).Single();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        for (var folder = Path.GetDirectoryName(file)!; folder.Length >= options.SnapshotPath!.Length; folder = Path.GetDirectoryName(folder)!)
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        }
    }
}
