using System.Text;
using GrayRelease.Nacos.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Discovery;

/// <summary>
/// Keeps the last instance-list answer of each service on disk, so a restart while Nacos is unreachable still finds
/// the instances. Files are replaced atomically (write a temporary file, then move it over the old one), and live in a
/// folder private to this user (<see cref="PrivateSnapshotFolder"/>); a folder another user owns is never read or written.
/// </summary>
internal sealed class InstanceSnapshotStore
{
    private readonly string _root;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private bool? _usable;

    public InstanceSnapshotStore(string root, string directory, ILogger logger)
    {
        _root = root;
        Directory = directory;
        _logger = logger;
    }

    public string Directory { get; }

    public string GetPath(string groupedName) => Path.Combine(Directory, Sanitize(groupedName) + ".json");

    public void Save(string groupedName, string body)
    {
        if (IsUsable())
        {
            PrivateSnapshotFolder.Write(GetPath(groupedName), body);
        }
    }

    public string? TryLoad(string groupedName)
    {
        var path = GetPath(groupedName);
        return IsUsable() && File.Exists(path) ? File.ReadAllText(path, Encoding.UTF8) : null;
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

    /// <summary>Checks the folder once (creating it private); a refused folder stays refused, logged once.</summary>
    private bool IsUsable()
    {
        lock (_gate)
        {
            if (_usable is { } known)
            {
                return known;
            }

            // IOException / UnauthorizedAccessException propagate to the caller, which logs them; checked again next time.
            var refused = PrivateSnapshotFolder.Prepare(_root, Directory);
            if (refused is not null)
            {
                Log.SnapshotFolderRefused(_logger, _root, refused);
            }

            _usable = refused is null;
            return _usable.Value;
        }
    }
}
