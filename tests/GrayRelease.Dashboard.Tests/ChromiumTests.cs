namespace GrayRelease.Dashboard.Tests;

/// <summary>How the browser tests find Chromium (no browser needed).</summary>
public sealed class ChromiumTests
{
    [Fact]
    public void Without_Chromium_the_browser_tests_fail_saying_how_to_install_it()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-chromium-" + Guid.NewGuid().ToString("N"));
        var error = Assert.Throws<InvalidOperationException>(() => Chromium.Resolve(null, [missing]));
        Assert.Contains("apt-get install -y chromium", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => Chromium.Resolve(missing, []));
    }
}
