namespace GrayRelease.Demo;

/// <summary>Command-line options of the demo.</summary>
internal sealed record DemoOptions
{
    /// <summary>A real Nacos server (e.g. <c>http://127.0.0.1:8848</c>); null starts the built-in emulator.</summary>
    public string? NacosAddress { get; init; }

    public string? UserName { get; init; }

    public string? Password { get; init; }

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
                "--help" or "-h" => throw new ArgumentException(Usage),
                _ => throw new ArgumentException($"Unknown argument '{arg}'.\n{Usage}"),
            };
        }

        if (options.NacosAddress is { } address && (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https")))
        {
            throw new ArgumentException($"--nacos must be an absolute http(s) address such as http://127.0.0.1:8848; got '{address}'.");
        }

        return options;
    }

    public const string Usage = """
        Usage: dotnet run --project samples/Demo [-- options]
          --nacos <address>     use a real Nacos server (e.g. http://127.0.0.1:8848) instead of the built-in emulator
          --username <name>     Nacos user name (when the server has auth on)
          --password <secret>   Nacos password
          --keep-running        leave the system up after the scenarios and print curl lines to try by hand
        """;
}
