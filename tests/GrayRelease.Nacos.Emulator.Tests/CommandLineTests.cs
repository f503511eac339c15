namespace GrayRelease.Nacos.Emulator.Tests;

/// <summary>The standalone program's flags.</summary>
public sealed class CommandLineTests
{
    [Theory]
    [InlineData("nacos-1.4", NacosServerLine.Nacos14)]
    [InlineData("nacos-2", NacosServerLine.Nacos2)]
    [InlineData("nacos-3.1", NacosServerLine.Nacos31)]
    [InlineData("NACOS-3.2", NacosServerLine.Nacos32)]
    [InlineData("3.2", NacosServerLine.Nacos32)]
    public void Profiles_parse(string value, NacosServerLine expected) =>
        Assert.Equal(expected, EmulatorCommandLine.ParseProfile(value));

    [Fact]
    public void No_profile_keeps_the_default() => Assert.Null(EmulatorCommandLine.ParseProfile(null));

    [Fact]
    public void An_unknown_profile_names_the_flag_and_the_value()
    {
        var error = Assert.Throws<ArgumentException>(() => EmulatorCommandLine.ParseProfile("nacos-9"));
        Assert.Contains("--profile 'nacos-9'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bare_flags_get_a_value_and_the_profile_keeps_its_own()
    {
        Assert.Equal(["--auth=true", "--profile", "nacos-3.2"], EmulatorCommandLine.Normalize(["--auth", "--profile", "nacos-3.2"]));
    }

    [Fact]
    public async Task The_banner_prints_both_ports()
    {
        await using var emulator = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos32 });
        var banner = EmulatorCommandLine.Banner(emulator, authEnabled: false);
        Assert.Contains("nacos-3.2", banner, StringComparison.Ordinal);
        Assert.Contains("HTTP port " + emulator.Port, banner, StringComparison.Ordinal);
        Assert.Contains("gRPC on " + emulator.GrpcAddress + " (port " + emulator.GrpcPort + ")", banner, StringComparison.Ordinal);

        await using var old = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos14 });
        Assert.Contains("no gRPC", EmulatorCommandLine.Banner(old, authEnabled: true), StringComparison.Ordinal);
    }
}
