namespace GrayRelease.Nacos.Emulator;

/// <summary>Lets flags be given bare (<c>--auth</c>, <c>--verbose</c>), which the command-line provider needs a value for.</summary>
internal static class EmulatorCommandLine
{
    private static readonly string[] Flags = ["--auth", "--verbose"];

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
}
