using System.Net;
using System.Text;

namespace GrayRelease.Yarp.Tests.Infrastructure;

/// <summary>
/// Writes a tiny MaxMind DB (format 2.0, 24-bit records) with city names, so the GeoIP resolver can be tested against
/// the real reader without shipping a GeoLite2 database. Follows https://maxmind.github.io/MaxMind-DB/.
/// </summary>
internal sealed class MaxMindDbWriter(int ipVersion)
{
    private readonly Node _root = new();
    private readonly List<byte> _data = [];

    /// <summary>Maps <paramref name="cidr"/> to a city with names per language (e.g. en, zh-CN).</summary>
    public MaxMindDbWriter Add(string cidr, params (string Language, string Name)[] names)
    {
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        var address = IPAddress.Parse(cidr[..slash]);
        var prefix = int.Parse(cidr[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var bytes = address.GetAddressBytes();
        if (ipVersion == 6 && bytes.Length == 4)
        {
            // IPv4 networks live under ::/96 in an IPv6 tree.
            bytes = [.. new byte[12], .. bytes];
            prefix += 96;
        }

        var offset = _data.Count;
        WriteMap(1);
        WriteString("city");
        WriteMap(1);
        WriteString("names");
        WriteMap(names.Length);
        foreach (var (language, name) in names)
        {
            WriteString(language);
            WriteString(name);
        }

        var node = _root;
        for (var bit = 0; bit < prefix; bit++)
        {
            var side = (bytes[bit / 8] >> (7 - (bit % 8))) & 1;
            if (bit == prefix - 1)
            {
                node.Records[side] = offset;
            }
            else
            {
                if (node.Records[side] is not Node child)
                {
                    node.Records[side] = child = new Node();
                }

                node = child;
            }
        }

        return this;
    }

    public void WriteTo(string path)
    {
        var nodes = new List<Node>();
        var queue = new Queue<Node>([_root]);
        while (queue.TryDequeue(out var node))
        {
            node.Id = nodes.Count;
            nodes.Add(node);
            foreach (var record in node.Records)
            {
                if (record is Node child)
                {
                    queue.Enqueue(child);
                }
            }
        }

        using var file = new MemoryStream();
        foreach (var node in nodes)
        {
            foreach (var record in node.Records)
            {
                var value = record switch
                {
                    Node child => child.Id,
                    int dataOffset => nodes.Count + 16 + dataOffset,
                    _ => nodes.Count,
                };
                file.Write([(byte)(value >> 16), (byte)(value >> 8), (byte)value]);
            }
        }

        file.Write(new byte[16]);
        file.Write([.. _data]);

        file.Write([0xAB, 0xCD, 0xEF]);
        file.Write("MaxMind.com"u8);
        var metadata = new MaxMindDbWriter(ipVersion);
        metadata.WriteMap(9);
        metadata.WriteString("node_count");
        metadata.WriteUnsigned(6, (ulong)nodes.Count);
        metadata.WriteString("record_size");
        metadata.WriteUnsigned(5, 24);
        metadata.WriteString("ip_version");
        metadata.WriteUnsigned(5, (ulong)ipVersion);
        metadata.WriteString("database_type");
        metadata.WriteString("GrayRelease-Test-City");
        metadata.WriteString("languages");
        metadata.WriteExtended(11, 1);
        metadata.WriteString("en");
        metadata.WriteString("binary_format_major_version");
        metadata.WriteUnsigned(5, 2);
        metadata.WriteString("binary_format_minor_version");
        metadata.WriteUnsigned(5, 0);
        metadata.WriteString("build_epoch");
        metadata.WriteExtended(9, 4);
        metadata._data.AddRange([0x65, 0x00, 0x00, 0x00]);
        metadata.WriteString("description");
        metadata.WriteMap(1);
        metadata.WriteString("en");
        metadata.WriteString("test database");
        file.Write([.. metadata._data]);

        File.WriteAllBytes(path, file.ToArray());
    }

    private void WriteMap(int pairs) => WriteControl(7, pairs);

    private void WriteString(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        WriteControl(2, bytes.Length);
        _data.AddRange(bytes);
    }

    private void WriteUnsigned(int type, ulong value)
    {
        var bytes = new List<byte>();
        for (var v = value; v != 0; v >>= 8)
        {
            bytes.Insert(0, (byte)v);
        }

        WriteControl(type, bytes.Count);
        _data.AddRange(bytes);
    }

    // Extended types (> 7): type bits 0, then the type - 7 in the next byte.
    private void WriteExtended(int type, int size)
    {
        _data.Add((byte)size);
        _data.Add((byte)(type - 7));
    }

    private void WriteControl(int type, int size)
    {
        if (size < 29)
        {
            _data.Add((byte)((type << 5) | size));
        }
        else
        {
            _data.Add((byte)((type << 5) | 29));
            _data.Add((byte)(size - 29));
        }
    }

    private sealed class Node
    {
        public int Id { get; set; }

        public object?[] Records { get; } = new object?[2];
    }
}
