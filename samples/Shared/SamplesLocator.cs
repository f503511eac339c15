namespace GrayRelease.Samples;

/// <summary>
/// Finds the build output of the sample applications (built together with the demo or the soak harness that starts
/// them) and the repository. A source file linked into both.
/// </summary>
internal sealed class SamplesLocator(string samplesRoot, string configuration)
{
    /// <summary>The samples under <paramref name="samplesRoot"/> (default: the repository's), built in <paramref name="configuration"/> (default: this program's).</summary>
    public static SamplesLocator Locate(string? samplesRoot = null, string? configuration = null)
    {
        var root = samplesRoot ?? Path.Combine(RepositoryRoot(), "samples");
        // bin/<Configuration>/<tfm>/ of whatever runs this code (the demo, the harness or their tests) names the configuration.
        return new SamplesLocator(root, configuration ?? new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent?.Name ?? "Debug");
    }

    public string DllPath(string project) =>
        Path.Combine(samplesRoot, project, "bin", configuration, "net10.0", project + ".dll");

    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "GrayRelease.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException($"Could not find GrayRelease.sln above {AppContext.BaseDirectory}: run from the repository (dotnet run --project samples/Demo), or pass --samples-root (and the soak's --out).");
    }
}
