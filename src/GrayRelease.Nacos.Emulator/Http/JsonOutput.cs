using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace GrayRelease.Nacos.Emulator.Http;

/// <summary>Writes JSON the way the Java server (Jackson) does: plain quotes, unescaped non-ASCII, doubles as 1.0.</summary>
internal static class JsonOutput
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    public static byte[] ToBytes(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] ToBytes<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer, state);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Java prints whole doubles with a trailing <c>.0</c>; clients keyed on "number" accept either.</summary>
    public static void WriteJavaDouble(this Utf8JsonWriter writer, string name, double value)
    {
        writer.WritePropertyName(name);
        if (double.IsFinite(value) && Math.Abs(value) < 1e7 && value == Math.Floor(value))
        {
            writer.WriteRawValue(value.ToString("0.0", CultureInfo.InvariantCulture), skipInputValidation: true);
        }
        else
        {
            writer.WriteNumberValue(value);
        }
    }

    public static void WriteStringMap(this Utf8JsonWriter writer, string name, IReadOnlyDictionary<string, string> map)
    {
        writer.WriteStartObject(name);
        foreach (var (key, value) in map)
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
    }
}
