using System.Text;

namespace GrayRelease.Nacos.Discovery;

/// <summary>
/// Keeps the last instance-list answer of each service on disk, so a restart while Nacos is unreachable still finds
/// the instances. Files are replaced atomically (write a temporary file, then move it over the old one).
/// </summary>
internal sealed class InstanceSnapshotStore(string directory)
{
    public string Directory { get; } = directory;

    public string GetPath(string groupedName) => Path.Combine(Directory, Sanitize(groupedName) + ".json");

    public void Save(string groupedName, string body)
    {
        var path = GetPath(groupedName);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            File.WriteAllText(temp, body, Encoding.UTF8);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    public string? TryLoad(string groupedName)
    {
        var path = GetPath(groupedName);
        return File.Exists(path) ? File.ReadAllText(path, Encoding.UTF8) : null;
    }

    internal static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '@' ? c : '_');
        }

        return builder.ToString();
    }
}
