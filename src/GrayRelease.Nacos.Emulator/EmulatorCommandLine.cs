namespace GrayRelease.Nacos.Emulator;

/// <summary>The standalone program's command line: bare flags (<c>--auth</c>, <c>--verbose</c>) and <c>--profile</c>.</summary>
internal static class EmulatorCommandLine
{
    private static readonly string[] Flags = ["--auth", "--verbose"];

    /// <summary>Lets flags be given bare, which the command-line provider needs a value for.</summary>
    public static string[] Normalize(string[] args)
    {
        var result = new List<string>(args.Length);
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var isFlag = Array.Exists(Flags, flag => string.Equals(flag, arg, StringComparison.OrdinalIgnoreCase));
            var nextIsValue = i + 1 < args.Length && !args[i + 1].StartsWith('-');
            result.Add(isFlag && !nextIsValue ? arg + "=true" : arg);
        }

        return [.. result];
    }

    /// <summary>
    /// <c>--profile nacos-1.4 | nacos-2 | nacos-3.1 | nacos-3.2</c>; null (absent) keeps the options' default.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown profile, naming the flag and the value.</exception>
    public static NacosServerLine? ParseProfile(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        null or "" => null,
        "NACOS-1.4" or "1.4" => NacosServerLine.Nacos14,
        "NACOS-2" or "2" => NacosServerLine.Nacos2,
        "NACOS-3.1" or "3.1" => NacosServerLine.Nacos31,
        "NACOS-3.2" or "3.2" => NacosServerLine.Nacos32,
        _ => throw new ArgumentException($"--profile '{value}' is not one of nacos-1.4, nacos-2, nacos-3.1, nacos-3.2.", nameof(value)),
    };

    /// <summary>The start-up line: both ports (gRPC only where the profile serves it).</summary>
    public static string Banner(NacosEmulator emulator, bool authEnabled) =>
        $"Nacos emulator ({ProfileName(emulator.ServerLine)}) listening on {emulator.ServerAddress} (HTTP port {emulator.Port}, Open API at {emulator.BaseAddress}); "
        + (emulator.GrpcAddress is { } grpc ? $"gRPC on {grpc} (port {emulator.GrpcPort})" : "no gRPC")
        + $"; auth {(authEnabled ? "on" : "off")}. Ctrl+C stops it.";

    public static string ProfileName(NacosServerLine line) => line switch
    {
        NacosServerLine.Nacos14 => "nacos-1.4",
        NacosServerLine.Nacos2 => "nacos-2",
        NacosServerLine.Nacos31 => "nacos-3.1",
        _ => "nacos-3.2",
    };
}
