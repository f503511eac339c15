using System.IO.Compression;
using System.Text.Json;

namespace GrayRelease.Nacos.Discovery;

/// <summary>A UDP push datagram: <c>{"type","lastRefTime","data"}</c>. <see cref="LastRefTimeRaw"/> is echoed verbatim in the ack.</summary>
internal sealed record NacosPushPacket(string Type, string LastRefTimeRaw, string? Data)
{
    /// <summary>A gzip datagram may not inflate beyond this: 64 KiB of deflate could otherwise become 64 MiB.</summary>
    internal const int MaxInflatedBytes = 1024 * 1024;

    /// <summary>Parses a datagram (plain or gzip JSON); <see langword="null"/> for anything else, whatever the bytes are.</summary>
    public static NacosPushPacket? TryParse(ReadOnlySpan<byte> datagram)
    {
        try
        {
            byte[]? inflated = null;
            if (datagram.Length > 2 && datagram[0] == 0x1f && datagram[1] == 0x8b)
            {
                inflated = Inflate(datagram.ToArray());
                if (inflated is null)
                {
                    return null;
                }
            }

            var reader = new Utf8JsonReader(inflated ?? datagram);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var type = Text(root, "type") ?? string.Empty;
            var lastRefTime = root.TryGetProperty("lastRefTime", out var value) && value.ValueKind is JsonValueKind.Number or JsonValueKind.String
                ? value.GetRawText()
                : "0";
            return new NacosPushPacket(type, lastRefTime, Text(root, "data"));
        }
#pragma warning disable CA1031 // Untrusted bytes: invalid UTF-8 (InvalidOperationException), bad gzip, bad JSON... all mean "unreadable".
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }

    private static byte[]? Inflate(byte[] compressed)
    {
        using var input = new MemoryStream(compressed);
        using var gzip = new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = gzip.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (output.Length + read > MaxInflatedBytes)
            {
                return null;
            }

            output.Write(buffer, 0, read);
        }

        return output.ToArray();
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
                _ => null,
            }
            : null;
}
