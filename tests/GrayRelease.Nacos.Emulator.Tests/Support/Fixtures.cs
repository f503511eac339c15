using System.Text.Json;

namespace GrayRelease.Nacos.Emulator.Tests.Support;

/// <summary>The answers of a real server, linked from /work/shared/nacos/fixtures into the output folder.</summary>
internal static class Fixtures
{
    public static string Text(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", name));

    public static JsonElement Json(string name)
    {
        using var document = JsonDocument.Parse(Text(name));
        return document.RootElement.Clone();
    }
}
