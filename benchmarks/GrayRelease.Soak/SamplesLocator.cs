namespace GrayRelease.Soak;

/// <summary>Finds the build output of the sample applications (built together with the harness) and the repository.</summary>
internal sealed class SamplesLocator(string samplesRoot, string configuration)
{
    public static SamplesLocator Locate(SoakOptions options)
    {
        var root = options.SamplesRoot ?? Path.Combine(RepositoryRoot(), "samples");
        // bin/<Configuration>/<tfm>/ of whatever runs this code (the harness or its test) names the configuration.
        var configuration = options.Configuration ?? new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent?.Name ?? "Debug";
        return new SamplesLocator(root, configuration);
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

        throw new DirectoryNotFoundException($"Could not find GrayRelease.sln above {AppContext.BaseDirectory}; pass --samples-root and --out.");
    }
}
