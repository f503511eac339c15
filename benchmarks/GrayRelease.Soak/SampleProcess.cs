using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace GrayRelease.Soak;

/// <summary>
/// One process the harness runs (<c>dotnet App.dll ...</c>), its output kept in a log file. Adapted from samples/Demo's
/// SampleProcess (not referenced: the demo is an application, not a library), with a hard kill (SIGKILL: a crash) and
/// the environment the soak sets (the samples' diagnostics endpoint).
/// </summary>
internal sealed partial class SampleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _logGate = new();
    private bool _disposed;

    private SampleProcess(string name, Process process, StreamWriter log, string logPath)
    {
        Name = name;
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    public string Name { get; }

    public string LogPath { get; }

    public int ProcessId { get; private set; }

    public Uri? Address => _listening.Task.IsCompletedSuccessfully ? _listening.Task.Result : null;

    public bool HasExited
    {
        get
        {
            try
            {
                return _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }
    }

    /// <summary>Lines the process wrote to standard output, for a caller that talks to it (the emulator child).</summary>
    public Action<string>? OnLine { get; set; }

    public static SampleProcess Start(string name, string fileName, IEnumerable<string> arguments, string logFolder, IReadOnlyDictionary<string, string>? environment = null, bool redirectInput = false)
    {
        if (!File.Exists(fileName) && fileName != "dotnet")
        {
            throw new FileNotFoundException($"{name}: {fileName} is not built. Run `dotnet build benchmarks/GrayRelease.Soak`, which builds the samples.", fileName);
        }

        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        if (startInfo.ArgumentList.Count > 0 && startInfo.ArgumentList[0].EndsWith(".dll", StringComparison.Ordinal))
        {
            startInfo.WorkingDirectory = Path.GetDirectoryName(startInfo.ArgumentList[0])!;
        }

        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Production";
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        startInfo.Environment["Logging__Console__FormatterName"] = "simple";
        startInfo.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        startInfo.Environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[key] = value;
        }

        var logPath = Path.Combine(logFolder, name + ".log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var sample = new SampleProcess(name, process, log, logPath);
        process.OutputDataReceived += (_, e) => sample.OnOutput(e.Data, fromStdout: true);
        process.ErrorDataReceived += (_, e) => sample.OnOutput(e.Data, fromStdout: false);
        process.Exited += (_, _) => sample._listening.TrySetException(new InvalidOperationException($"{name} exited before listening; see {logPath}"));
        process.Start();
        sample.ProcessId = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return sample;
    }

    /// <summary>The address Kestrel reports once it has bound (port 0 becomes a real port).</summary>
    public Task<Uri> WaitUntilListeningAsync(CancellationToken cancellationToken) => _listening.Task.WaitAsync(cancellationToken);

    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Asks the process to stop like `docker stop` would (SIGTERM), so it deregisters from Nacos first.</summary>
    public async Task StopGracefullyAsync(TimeSpan timeout)
    {
        if (HasExited)
        {
            return;
        }

        if (!OperatingSystem.IsWindows() && Kill(_process.Id, 15) == 0)
        {
            using var wait = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(wait.Token);
                return;
            }
            catch (OperationCanceledException)
            {
                // Fall through to a hard kill.
            }
        }

        await CrashAsync();
    }

    /// <summary>SIGKILL: the process vanishes without deregistering or closing anything, as in a crash or an OOM kill.</summary>
    public async Task CrashAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (Exception exception) when (exception is InvalidOperationException or OperationCanceledException)
        {
            // Already gone, or the kernel is slow to reap it: either way nothing more to do.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await StopGracefullyAsync(TimeSpan.FromSeconds(10));
        _disposed = true;
        _process.Dispose();
        lock (_logGate)
        {
            _log.Dispose();
        }
    }

    private void OnOutput(string? line, bool fromStdout)
    {
        if (line is null)
        {
            return;
        }

        lock (_logGate)
        {
            if (_log.BaseStream.CanWrite)
            {
                _log.WriteLine(line);
            }
        }

        if (fromStdout)
        {
            OnLine?.Invoke(line);
        }

        var match = ListeningLine().Match(line);
        if (match.Success && Uri.TryCreate(match.Groups[1].Value, UriKind.Absolute, out var address))
        {
            _listening.TrySetResult(address);
        }
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
