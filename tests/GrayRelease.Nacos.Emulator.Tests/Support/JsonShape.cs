using System.Text.Json;

namespace GrayRelease.Nacos.Emulator.Tests.Support;

/// <summary>Asserts that two JSON documents have the same keys and value kinds, recursively.</summary>
internal static class JsonShape
{
    public static void AssertSame(JsonElement expected, JsonElement actual, string path = "$")
    {
        Assert.True(
            Kind(expected) == Kind(actual),
            $"{path}: expected a {expected.ValueKind} but got a {actual.ValueKind} ({actual.GetRawText()})");
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                var expectedNames = expected.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
                var actualNames = actual.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
                if (path.EndsWith(".metadata", StringComparison.Ordinal))
                {
                    // Metadata is a free map of strings: compare value kinds only.
                    foreach (var property in actual.EnumerateObject())
                    {
                        Assert.Equal(JsonValueKind.String, property.Value.ValueKind);
                    }

                    return;
                }

                Assert.True(
                    expectedNames.SetEquals(actualNames),
                    $"{path}: keys differ. Missing: [{string.Join(", ", expectedNames.Except(actualNames))}]; extra: [{string.Join(", ", actualNames.Except(expectedNames))}]");
                foreach (var property in expected.EnumerateObject())
                {
                    AssertSame(property.Value, actual.GetProperty(property.Name), path + "." + property.Name);
                }

                break;
            case JsonValueKind.Array:
                if (expected.GetArrayLength() == 0)
                {
                    return;
                }

                var template = expected[0];
                var index = 0;
                foreach (var item in actual.EnumerateArray())
                {
                    AssertSame(template, item, $"{path}[{index++}]");
                }

                break;
        }
    }

    /// <summary>true and false are one kind; so are all numbers.</summary>
    private static JsonValueKind Kind(JsonElement element) =>
        element.ValueKind == JsonValueKind.False ? JsonValueKind.True : element.ValueKind;
}
