using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace GrayRelease.Samples;

/// <summary>
/// One process run by the demo or the soak harness (<c>dotnet App.dll ...</c>, or an executable), its output kept in a
/// log file. A source file linked into both (each is an application, not a library to reference).
/// </summary>
internal sealed partial class SampleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _logGate = new();
    private bool _disposed;
    private bool _exitedAtDispose;

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

    /// <summary>The address Kestrel reported, once it has.</summary>
    public Uri? Address => _listening.Task.IsCompletedSuccessfully ? _listening.Task.Result : null;

    /// <summary>Whether the process has ended (still answers after <see cref="DisposeAsync"/>).</summary>
    public bool HasExited => _disposed ? _exitedAtDispose : ProcessHasExited();

    /// <summary>Lines the process wrote to standard output, for a caller that talks to it (the soak's emulator child).</summary>
    public Action<string>? OnLine { get; set; }

    /// <summary>
    /// Starts <paramref name="fileName"/>: an application's .dll (run by <c>dotnet</c>), <c>dotnet</c> itself (the .dll
    /// first in <paramref name="arguments"/>) or an executable. <paramref name="timestamps"/> puts the time on every log
    /// line (the soak lines up several processes' logs); <paramref name="environment"/> adds to the environment.
    /// </summary>
    public static SampleProcess Start(
        string name,
        string fileName,
        IEnumerable<string> arguments,
        string logFolder,
        IReadOnlyDictionary<string, string>? environment = null,
        bool redirectInput = false,
        bool timestamps = false)
    {
        if (fileName != "dotnet" && !File.Exists(fileName))
        {
            throw new FileNotFoundException($"{name}: {fileName} is not built. Run `dotnet build GrayRelease.sln` (running samples/Demo or benchmarks/GrayRelease.Soak also builds the samples).", fileName);
        }

        var startInfo = new ProcessStartInfo(fileName.EndsWith(".dll", StringComparison.Ordinal) ? "dotnet" : fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
        };
        if (fileName.EndsWith(".dll", StringComparison.Ordinal))
        {
            startInfo.ArgumentList.Add(fileName);
        }

        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // An application finds its appsettings.json next to its .dll.
        if (startInfo.ArgumentList.Count > 0 && startInfo.ArgumentList[0].EndsWith(".dll", StringComparison.Ordinal))
        {
            startInfo.WorkingDirectory = Path.GetDirectoryName(startInfo.ArgumentList[0])!;
        }

        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Production";
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        startInfo.Environment["Logging__Console__FormatterName"] = "simple";
        startInfo.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        if (timestamps)
        {
            startInfo.Environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";
        }

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
        process.Exited += (_, _) => sample._listening.TrySetException(new InvalidOperationException($"{name} exited{sample.ExitCodeText()} before listening; see {logPath}"));
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
        if (ProcessHasExited())
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
        _exitedAtDispose = ProcessHasExited();
        _disposed = true;
        _process.Dispose();
        lock (_logGate)
        {
            _log.Dispose();
        }
    }

    private bool ProcessHasExited()
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

    // Exited may be raised after Dispose, when the exit code is no longer there to read.
    private string ExitCodeText()
    {
        try
        {
            return $" with code {_process.ExitCode}";
        }
        catch (InvalidOperationException)
        {
            return string.Empty;
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
