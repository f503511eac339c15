using System.Runtime.InteropServices;
using System.Text;

namespace GrayRelease.Nacos.Discovery;

/// <summary>
/// The snapshot folder and its files, private to the user running the service: folders 0700, files 0600 on Unix, and a
/// folder another user owns is refused (they could read the lists and configurations, or plant their own first).
/// Used by the naming and the configuration snapshots alike.
/// </summary>
internal static class PrivateSnapshotFolder
{
    private const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>The default root: the user's local cache folder (XDG cache on Linux), never the shared temp folder.</summary>
    public static string DefaultRoot()
    {
        string? root = null;
        if (OperatingSystem.IsWindows())
        {
            root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
        }
        else
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg))
            {
                root = xdg;
            }
            else if (!string.IsNullOrEmpty(home))
            {
                root = OperatingSystem.IsMacOS() ? Path.Combine(home, "Library", "Caches") : Path.Combine(home, ".cache");
            }
        }

        // Only without any home folder (a locked-down service account) fall back to the temp folder, per user.
        return string.IsNullOrEmpty(root)
            ? Path.Combine(Path.GetTempPath(), "grayrelease-nacos-" + Environment.UserName)
            : Path.Combine(root, "grayrelease-nacos");
    }

    /// <summary>
    /// Creates <paramref name="folder"/> (0700 on Unix) or checks the existing one; returns why it must not be used, or
    /// <see langword="null"/>. Each folder from <paramref name="root"/> down to <paramref name="folder"/> must be ours.
    /// </summary>
    public static string? Prepare(string root, string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
            return null;
        }

        var top = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar);
        CreatePrivate(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar));
        var me = Owner.Current();
        for (var current = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar); ; current = Path.GetDirectoryName(current)!)
        {
            var owner = Owner.Of(current);
            if (me is { } uid && owner is { } ownerUid && ownerUid != uid)
            {
                return $"{current} is owned by user id {ownerUid}, not by this user ({uid})";
            }

            if (current.Length <= top.Length)
            {
                return null;
            }

            // A folder of ours below the root that is looser (created by an older version, or another umask): tighten
            // it. The root itself may be a configured folder with other uses, so it is left as it is.
            if ((File.GetUnixFileMode(current) & ~FolderMode) != 0)
            {
                File.SetUnixFileMode(current, FolderMode);
            }
        }
    }

    /// <summary>Creates the missing folders of <paramref name="folder"/> one by one, each 0700 (the mode of
    /// <c>Directory.CreateDirectory(path, mode)</c> applies to the last one only).</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void CreatePrivate(string folder)
    {
        var missing = new Stack<string>();
        for (var current = folder; !string.IsNullOrEmpty(current) && !Directory.Exists(current); current = Path.GetDirectoryName(current))
        {
            missing.Push(current);
        }

        while (missing.TryPop(out var next))
        {
            Directory.CreateDirectory(next, FolderMode);
        }
    }

    /// <summary>Replaces <paramref name="path"/> atomically (temporary file, then move); the file is 0600 on Unix.</summary>
    public static void Write(string path, string content)
    {
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        try
        {
            using (var stream = new FileStream(temp, options))
            using (var writer = new StreamWriter(stream, new UTF8Encoding(false)))
            {
                writer.Write(content);
            }

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

    /// <summary>File owners through the runtime's own native shim (the one <c>System.IO</c> calls for every stat).</summary>
    private static class Owner
    {
        public static uint? Current()
        {
            try
            {
                return NativeMethods.GetEUid();
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                return null;
            }
        }

        public static uint? Of(string path)
        {
            // FileStatus starts with int32 Flags, int32 Mode, uint32 Uid; the buffer is larger than the whole struct.
            var status = new byte[512];
            try
            {
                return NativeMethods.Stat(Encoding.UTF8.GetBytes(path + "\0"), status) == 0 ? BitConverter.ToUInt32(status, 8) : null;
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                return null;
            }
        }
    }

    private static class NativeMethods
    {
        [DllImport("libSystem.Native", EntryPoint = "SystemNative_GetEUid")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern uint GetEUid();

        [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Stat(byte[] path, byte[] status);
    }
}
