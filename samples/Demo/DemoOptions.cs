using GrayRelease.Nacos.Emulator;

namespace GrayRelease.Demo;

/// <summary>Command-line options of the demo.</summary>
internal sealed record DemoOptions
{
    /// <summary>A real Nacos server (e.g. <c>http://127.0.0.1:8848</c>); null starts the built-in emulator.</summary>
    public string? NacosAddress { get; init; }

    public string? UserName { get; init; }

    public string? Password { get; init; }

    /// <summary>Server line the built-in emulator plays (<c>--profile nacos-1.4 | nacos-2 | nacos-3.1 | nacos-3.2</c>); null = its default.</summary>
    public NacosServerLine? Profile { get; init; }

    /// <summary>Leave everything running after the scenarios and print curl lines to try by hand.</summary>
    public bool KeepRunning { get; init; }

    /// <summary>Folder of the samples' build output; found from the repository layout when null.</summary>
    public string? SamplesRoot { get; init; }

    /// <summary>Build configuration of the samples (Debug or Release); the demo's own when null.</summary>
    public string? Configuration { get; init; }

    public static DemoOptions Parse(string[] args)
    {
        var options = new DemoOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value.");
            options = arg switch
            {
                "--nacos" => options with { NacosAddress = Value() },
                "--username" => options with { UserName = Value() },
                "--password" => options with { Password = Value() },
                "--keep-running" => options with { KeepRunning = true },
                "--profile" => options with { Profile = ParseProfile(Value()) },
                "--help" or "-h" => throw new ArgumentException(Usage),
                _ => throw new ArgumentException($"Unknown argument '{arg}'.\n{Usage}"),
            };
        }

        if (options.NacosAddress is { } address && (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https")))
        {
            throw new ArgumentException($"--nacos must be an absolute http(s) address such as http://127.0.0.1:8848; got '{address}'.");
        }

        if (options.Profile is not null && options.NacosAddress is not null)
        {
            throw new ArgumentException("--profile chooses the server line of the built-in emulator; it cannot be combined with --nacos.");
        }

        return options;
    }

    private static NacosServerLine ParseProfile(string value) => value.ToUpperInvariant() switch
    {
        "NACOS-1.4" => NacosServerLine.Nacos14,
        "NACOS-2" => NacosServerLine.Nacos2,
        "NACOS-3.1" => NacosServerLine.Nacos31,
        "NACOS-3.2" => NacosServerLine.Nacos32,
        _ => throw new ArgumentException($"--profile must be nacos-1.4, nacos-2, nacos-3.1 or nacos-3.2; got '{value}'."),
    };

    public const string Usage = """
        Usage: dotnet run --project samples/Demo [-- options]
          --nacos <address>     use a real Nacos server (e.g. http://127.0.0.1:8848) instead of the built-in emulator
          --username <name>     Nacos user name (when the server has auth on)
          --password <secret>   Nacos password
          --profile <line>      server line the built-in emulator plays: nacos-1.4, nacos-2, nacos-3.1, nacos-3.2
          --keep-running        leave the system up after the scenarios and print curl lines to try by hand
        """;
}
