using GrayRelease.Nacos.Configuration;

namespace GrayRelease.Nacos.Tests.Configuration;

public class ConfigContentParserTests
{
    [Fact]
    public void Yaml_nesting_and_sequences_become_configuration_keys()
    {
        var data = YamlConfigContentParser.Instance.Parse("""
            GrayRelease:
              ProdVersion: V1
              GrayVersion: "V2"
              Services:
                user-app:
                  GrayVersion: V3
            Tags:
              - a
              - b
            Empty: ~
            """);

        Assert.Equal("V1", data["GrayRelease:ProdVersion"]);
        Assert.Equal("V2", data["GrayRelease:GrayVersion"]);
        Assert.Equal("V3", data["GrayRelease:Services:user-app:GrayVersion"]);
        Assert.Equal("a", data["Tags:0"]);
        Assert.Equal("b", data["Tags:1"]);
        Assert.Null(data["Empty"]);
    }

    [Fact]
    public void Json_nesting_and_arrays_become_configuration_keys()
    {
        var data = JsonConfigContentParser.Instance.Parse("""{"GrayRelease":{"ProdVersion":"V1","Enabled":true,"List":[1,{"x":"y"}]}}""");

        Assert.Equal("V1", data["GrayRelease:ProdVersion"]);
        Assert.Equal("true", data["GrayRelease:Enabled"]);
        Assert.Equal("1", data["GrayRelease:List:0"]);
        Assert.Equal("y", data["GrayRelease:List:1:x"]);
    }

    [Fact]
    public void Properties_dots_and_indices_become_configuration_levels()
    {
        var data = PropertiesConfigContentParser.Instance.Parse(
            "# comment\n! other comment\nGrayRelease.ProdVersion=V1\nGrayRelease.GrayVersion : V2\nlist[0]=a\nlong=one \\\n    two\nunicode=\\u0041\nspaced value here\n");

        Assert.Equal("V1", data["GrayRelease:ProdVersion"]);
        Assert.Equal("V2", data["GrayRelease:GrayVersion"]);
        Assert.Equal("a", data["list:0"]);
        Assert.Equal("one two", data["long"]);
        Assert.Equal("A", data["unicode"]);
        Assert.Equal("value here", data["spaced"]);
    }

    [Theory]
    [InlineData("{\"a\": ")]
    [InlineData("\"just a string\"")]
    public void Malformed_json_is_a_format_exception(string content)
    {
        Assert.Throws<FormatException>(() => JsonConfigContentParser.Instance.Parse(content));
    }

    [Theory]
    [InlineData("a: [1, 2")]
    [InlineData("just a scalar")]
    [InlineData("a:\n  b: 1\n c: 2")]
    public void Malformed_yaml_is_a_format_exception(string content)
    {
        Assert.Throws<FormatException>(() => YamlConfigContentParser.Instance.Parse(content));
    }

    [Theory]
    [InlineData("common.yaml", null, "a: 1", "yaml")]
    [InlineData("common.yml", null, "a: 1", "yaml")]
    [InlineData("common.json", null, "{}", "json")]
    [InlineData("common.properties", null, "a=1", "properties")]
    [InlineData("common", "properties", "a=1", "properties")]
    [InlineData("common.yaml", "json", "{}", "json")]
    [InlineData("common", null, " {\"a\":1}", "json")]
    [InlineData("common", null, "a: 1", "yaml")]
    public void Parser_is_chosen_by_type_then_extension_then_content(string dataId, string? type, string content, string expected)
    {
        Assert.Equal(expected, ConfigFormats.Select(dataId, type, content).Name);
    }
}
