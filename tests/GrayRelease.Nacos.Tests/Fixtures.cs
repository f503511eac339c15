namespace GrayRelease.Nacos.Tests;

internal static class Fixtures
{
    public static string Read(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "fixtures", name);
        Assert.True(File.Exists(path), $"Fixture {path} is missing: the test project copies /work/shared/nacos/fixtures.");
        return File.ReadAllText(path);
    }
}
