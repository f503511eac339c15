namespace GrayRelease.Nacos.Tests;

public class PlaceholderTests
{
    [Fact]
    public void Placeholder() => Assert.True(true);
}
