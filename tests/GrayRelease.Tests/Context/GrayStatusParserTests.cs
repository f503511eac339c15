namespace GrayRelease.Tests.Context;

public class GrayStatusParserTests
{
    [Theory]
    [InlineData("GRAY", GrayStatus.Gray)]
    [InlineData("gray", GrayStatus.Gray)]
    [InlineData("Prod", GrayStatus.Prod)]
    [InlineData(" ALL ", GrayStatus.All)]
    [InlineData("all", GrayStatus.All)]
    public void Wire_values_parse_case_insensitively(string value, GrayStatus expected)
    {
        Assert.True(GrayStatusParser.TryParse(value, out var status));
        Assert.Equal(expected, status);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("GREY")]
    [InlineData("gray-996")]
    [InlineData("GRAY,PROD")]
    [InlineData("灰度")]
    [InlineData("GRAY\0")]
    [InlineData("1")]
    public void Unknown_values_do_not_parse(string value)
    {
        Assert.False(GrayStatusParser.TryParse(value, out _));
    }

    [Fact]
    public void Huge_value_does_not_parse_and_does_not_throw()
    {
        Assert.False(GrayStatusParser.TryParse(new string('G', 1_000_000), out _));
    }

    [Theory]
    [InlineData(GrayStatus.All, "ALL")]
    [InlineData(GrayStatus.Prod, "PROD")]
    [InlineData(GrayStatus.Gray, "GRAY")]
    public void Status_round_trips_through_its_wire_value(GrayStatus status, string wire)
    {
        Assert.Equal(wire, status.ToWireValue());
        Assert.True(GrayStatusParser.TryParse(status.ToWireValue(), out var parsed));
        Assert.Equal(status, parsed);
    }

    [Fact]
    public void Undefined_status_has_no_wire_value()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ((GrayStatus)42).ToWireValue());
    }
}
