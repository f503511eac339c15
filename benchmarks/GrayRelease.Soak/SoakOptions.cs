using System.Globalization;

namespace GrayRelease.Soak;

/// <summary>Command-line options of the soak (durations as <c>90s</c>, <c>2m</c>, <c>1h30m</c> or <c>hh:mm:ss</c>).</summary>
internal sealed record SoakOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Requests per second through the gateways, all kinds together.</summary>
    public double Rate { get; init; } = 150;

    public TimeSpan SamplePeriod { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan ConfigPeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Every period one instance of the third service (stock-app) starts and, beyond two, the oldest goes.</summary>
    public TimeSpan ChurnPeriod { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan RestartPeriod { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>How long the registry stays down at each restart.</summary>
    public TimeSpan RestartDown { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Share of the run discarded before judging (start-up, JIT, pools filling, the GC settling).</summary>
    public double WarmUp { get; init; } = 0.2;

    /// <summary>Short mode (CI): judge only what a few minutes can show (failures, cross-version, counts under caps, loops not growing).</summary>
    public bool Short { get; init; }

    /// <summary>Output folder; <c>artifacts/soak/&lt;timestamp&gt;</c> of the repository when null.</summary>
    public string? OutputFolder { get; init; }

    /// <summary>Folder of the samples' build output; found from the repository layout when null.</summary>
    public string? SamplesRoot { get; init; }

    public string? Configuration { get; init; }

    /// <summary>Write plots (PNG); off only where no plot is wanted.</summary>
    public bool Plots { get; init; } = true;

    public static SoakOptions Parse(string[] args)
    {
        var options = new SoakOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value.");
            options = arg switch
            {
                "--duration" => options with { Duration = ParseDuration(arg, Value()) },
                "--rate" => options with { Rate = ParsePositive(arg, Value()) },
                "--sample-period" => options with { SamplePeriod = ParseDuration(arg, Value()) },
                "--config-period" => options with { ConfigPeriod = ParseDuration(arg, Value()) },
                "--churn-period" => options with { ChurnPeriod = ParseDuration(arg, Value()) },
                "--restart-period" => options with { RestartPeriod = ParseDuration(arg, Value()) },
                "--restart-down" => options with { RestartDown = ParseDuration(arg, Value()) },
                "--warm-up" => options with { WarmUp = ParseFraction(arg, Value()) },
                "--short" => options with { Short = true },
                "--out" => options with { OutputFolder = Value() },
                "--samples-root" => options with { SamplesRoot = Value() },
                "--configuration" => options with { Configuration = Value() },
                "--no-plots" => options with { Plots = false },
                "--help" or "-h" => throw new ArgumentException(Usage),
                _ => throw new ArgumentException($"Unknown argument '{arg}'.\n{Usage}"),
            };
        }

        if (options.SamplePeriod * 4 > options.Duration)
        {
            throw new ArgumentException($"--duration {options.Duration} is too short for --sample-period {options.SamplePeriod}: at least 4 samples are needed.");
        }

        return options;
    }

    public static TimeSpan ParseDuration(string name, string value)
    {
        if (TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var span) && value.Contains(':', StringComparison.Ordinal))
        {
            return span > TimeSpan.Zero ? span : throw new ArgumentException($"{name} must be positive; got '{value}'.");
        }

        var total = TimeSpan.Zero;
        var number = 0.0;
        var digits = "";
        foreach (var c in value.Trim().ToLowerInvariant())
        {
            if (char.IsAsciiDigit(c) || c == '.')
            {
                digits += c;
                continue;
            }

            if (!double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out number))
            {
                throw new ArgumentException($"{name} must look like 90s, 2m, 1h30m or 00:02:00; got '{value}'.");
            }

            total += c switch
            {
                'h' => TimeSpan.FromHours(number),
                'm' => TimeSpan.FromMinutes(number),
                's' => TimeSpan.FromSeconds(number),
                _ => throw new ArgumentException($"{name} must look like 90s, 2m, 1h30m or 00:02:00; got '{value}'."),
            };
            digits = "";
        }

        if (digits.Length > 0 || total <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{name} must look like 90s, 2m, 1h30m or 00:02:00 (a unit after each number); got '{value}'.");
        }

        return total;
    }

    private static double ParsePositive(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw new ArgumentException($"{name} must be a positive number; got '{value}'.");

    private static double ParseFraction(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number is >= 0 and < 0.9
            ? number
            : throw new ArgumentException($"{name} must be a fraction in [0, 0.9); got '{value}'.");

    public const string Usage = """
        Usage: dotnet run --project benchmarks/GrayRelease.Soak -c Release -- [options]
               dotnet run --project benchmarks/GrayRelease.Soak -c Release -- judge <folder of a run> [--short] [--warm-up f]
               dotnet run --project benchmarks/GrayRelease.Soak -c Release -- plot <folder of a run>
          --duration <d>         how long the load runs (default 2m); e.g. 90s, 2m, 1h30m
          --rate <n>             requests per second through the gateways (default 150)
          --sample-period <d>    sampling period per process (default 5s)
          --config-period <d>    a config push every <d> (default 5s)
          --churn-period <d>     a stock-app instance starts every <d>; beyond two the oldest stops or is killed -9 (default 15s)
          --restart-period <d>   the registry restarts every <d> (default 3m)
          --restart-down <d>     and stays down for <d> (default 5s)
          --warm-up <fraction>   share of the run not judged (default 0.2)
          --short                CI mode: caps instead of slopes
          --out <folder>         output folder (default artifacts/soak/<timestamp>)
          --samples-root <dir>   the samples' folder (default: samples/ of the repository)
          --configuration <c>    build configuration of the samples (default: the harness's own)
          --no-plots             CSV only
        """;
}
