using Microsoft.Playwright;

namespace GrayRelease.Dashboard.Tests;

/// <summary>
/// Debian's Chromium, driven by the Playwright driver shipped in the Microsoft.Playwright package: no browser is
/// downloaded, ever. Missing Chromium fails the test with what to do (CI installs it in .ci/run).
/// </summary>
internal static class Chromium
{
    // /usr/bin/chromium is Debian's wrapper script; the binary it runs is under /usr/lib/chromium.
    private static readonly string[] Candidates = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"];

    public static string ExecutablePath => Resolve(Environment.GetEnvironmentVariable("GRAYRELEASE_CHROMIUM"), Candidates);

    /// <summary>The configured binary, else the first candidate present; none: a failure that says what to install (never a skip).</summary>
    internal static string Resolve(string? configured, IReadOnlyList<string> candidates)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured) ? configured : throw new InvalidOperationException($"GRAYRELEASE_CHROMIUM names '{configured}', which does not exist.");
        }

        return candidates.FirstOrDefault(File.Exists) ?? throw new InvalidOperationException(
            "Chromium is not installed: the dashboard's browser tests need it (apt-get install -y chromium; .ci/run installs it). "
            + "Looked for " + string.Join(", ", candidates) + "; set GRAYRELEASE_CHROMIUM to use another binary.");
    }

    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        var path = ExecutablePath;

        // The driver's own browser registry is never consulted with an explicit executable; this makes sure nothing
        // tries to fetch one anyway.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = path,
                Headless = true,
                Timeout = 30_000,

                // Root in CI containers: Chromium's sandbox needs user namespaces it may not have.
                Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
            });
            return (playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>The repository's root (where GrayRelease.sln is), for artifacts/.</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "GrayRelease.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("GrayRelease.sln not found above " + AppContext.BaseDirectory);
    }
}
