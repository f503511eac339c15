namespace GrayRelease.Demo;

/// <summary>Finds the build output of the sample applications (built together with the demo).</summary>
internal sealed class SamplesLocator(string samplesRoot, string configuration)
{
    public static SamplesLocator Locate(DemoOptions options)
    {
        var root = options.SamplesRoot ?? FindSamplesFolder();
        // bin/<Configuration>/<tfm>/ of whatever runs this code (the demo or its test) names the configuration.
        var configuration = options.Configuration ?? new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent?.Name ?? "Debug";
        return new SamplesLocator(root, configuration);
    }

    public string DllPath(string project) =>
        Path.Combine(samplesRoot, project, "bin", configuration, "net10.0", project + ".dll");

    private static string FindSamplesFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "GrayRelease.sln")))
            {
                return Path.Combine(directory.FullName, "samples");
            }
        }

        throw new DirectoryNotFoundException($"Could not find GrayRelease.sln above {AppContext.BaseDirectory}; run the demo from the repository (dotnet run --project samples/Demo).");
    }
}
