using System.Diagnostics;
using GrayRelease.Nacos.Discovery;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Naming;
using Microsoft.Extensions.Logging.Testing;

namespace GrayRelease.Nacos.Tests.Discovery;

/// <summary>Issue 11 item 8: snapshots are private to the user that runs the service.</summary>
public sealed class SnapshotSecurityTests
{
    [Fact]
    public void The_default_snapshot_folder_is_per_user_and_not_in_the_shared_temp_folder()
    {
        var path = new NacosOptions().GetSnapshotPath();

        Assert.False(path.StartsWith(Path.GetTempPath(), StringComparison.Ordinal), path);
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var localAppData = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
        Assert.True(
            path.StartsWith(home, StringComparison.Ordinal) || (localAppData.Length > 0 && path.StartsWith(localAppData, StringComparison.Ordinal))
            || (Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg && path.StartsWith(xdg, StringComparison.Ordinal)),
            path);
    }

    [Fact]
    public async Task Snapshot_folders_are_0700_and_files_0600()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var cts = TestSupport.Timeout();
        await using var nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2 }, cts.Token);
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201);
        var options = TestSupport.Options(nacos);
        await using (var provider = NewProvider(options, new FakeLogCollector()))
        {
            await provider.GetInstancesAsync("user-app", cts.Token);
        }

        var file = Directory.GetFiles(options.SnapshotPath!, "*.json", SearchOption.AllDirectories).Single();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        for (var folder = Path.GetDirectoryName(file)!; folder.Length >= options.SnapshotPath!.Length; folder = Path.GetDirectoryName(folder)!)
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        }
    }

    [Fact]
    public async Task A_snapshot_folder_owned_by_another_user_is_refused()
    {
        if (OperatingSystem.IsWindows() || Environment.UserName != "root")
        {
            // Making a folder another user owns needs root (chown); CI runs these tests as root in a container.
            return;
        }

        using var cts = TestSupport.Timeout();
        var options = new NacosOptions { ServerAddresses = ["http://127.0.0.1:1"], SnapshotPath = TestSupport.NewSnapshotPath(), DefaultTimeOut = 2000, UdpPushEnabled = false };
        var planted = Path.Combine(options.SnapshotPath, "naming", "public");
        Directory.CreateDirectory(planted);
        await File.WriteAllTextAsync(
            Path.Combine(planted, "DEFAULT_GROUP@@user-app.json"),
            """{"name":"DEFAULT_GROUP@@user-app","clusters":"","cacheMillis":10000,"lastRefTime":1,"hosts":[{"ip":"203.0.113.66","port":80,"weight":1,"healthy":true,"enabled":true,"metadata":{}}]}""",
            cts.Token);
        Chown(options.SnapshotPath, "65534");
        var logs = new FakeLogCollector();

        await using var provider = NewProvider(options, logs);
        var instances = await provider.GetInstancesAsync("user-app", cts.Token);

        Assert.Null(instances);
        Assert.Contains(logs.GetSnapshot(), r => r.Id.Name == "SnapshotFolderRefused" && r.Message.Contains(options.SnapshotPath, StringComparison.Ordinal));
    }

    private static NacosServiceInstanceProvider NewProvider(NacosOptions options, FakeLogCollector logs)
    {
        var logger = new FakeLogger<NacosServiceInstanceProvider>(logs);
        var http = new NacosHttpClient(options, TimeProvider.System, logger);
        return new NacosServiceInstanceProvider(new NacosNamingClient(http, options), http, options, TimeProvider.System, logger);
    }

    private static void Chown(string path, string owner)
    {
        using var chown = Process.Start(new ProcessStartInfo("chown", ["-R", owner, path]) { UseShellExecute = false })!;
        chown.WaitForExit();
        Assert.Equal(0, chown.ExitCode);
    }
}
