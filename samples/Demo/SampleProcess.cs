using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace GrayRelease.Demo;

/// <summary>One sample application run as its own process (<c>dotnet App.dll ...</c>), its output kept in a log file.</summary>
internal sealed partial class SampleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _logGate = new();
    private bool _disposed;
    private bool _exitedAtDispose;
    private int _processId;

    private SampleProcess(string name, Process process, StreamWriter log, string logPath)
    {
        Name = name;
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    public string Name { get; }

    public string LogPath { get; }

    public int ProcessId => _processId;

    /// <summary>Whether the process has ended (still answers after <see cref="DisposeAsync"/>).</summary>
    public bool HasExited => _disposed ? _exitedAtDispose : _process.HasExited;

    public static SampleProcess Start(string name, string dllPath, IEnumerable<string> arguments, string logFolder)
    {
        if (!File.Exists(dllPath))
        {
            throw new FileNotFoundException($"The sample {name} is not built at {dllPath}. Run `dotnet build GrayRelease.sln` (or `dotnet run --project samples/Demo`, which builds it).", dllPath);
        }

        var startInfo = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dllPath)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(dllPath);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Production";
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        startInfo.Environment["Logging__Console__FormatterName"] = "simple";
        startInfo.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";

        var logPath = Path.Combine(logFolder, name + ".log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var sample = new SampleProcess(name, process, log, logPath);
        process.OutputDataReceived += (_, e) => sample.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) => sample.OnOutput(e.Data);
        process.Exited += (_, _) => sample._listening.TrySetException(new InvalidOperationException($"{name} exited with code {process.ExitCode} before listening; see {logPath}"));
        process.Start();
        sample._processId = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return sample;
    }

    /// <summary>The address Kestrel reports once it has bound (port 0 becomes a real port).</summary>
    public Task<Uri> WaitUntilListeningAsync(CancellationToken cancellationToken) => _listening.Task.WaitAsync(cancellationToken);

    /// <summary>Asks the process to stop like `docker stop` would (SIGTERM), so it deregisters from Nacos first.</summary>
    public async Task StopGracefullyAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return;
        }

        if (!OperatingSystem.IsWindows() && SendTerminate(_process.Id) == 0)
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

        KillHard();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await StopGracefullyAsync(TimeSpan.FromSeconds(10));
        _exitedAtDispose = _process.HasExited;
        _disposed = true;
        _process.Dispose();
        lock (_logGate)
        {
            _log.Dispose();
        }
    }

    private void KillHard()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private void OnOutput(string? line)
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

        var match = ListeningLine().Match(line);
        if (match.Success && Uri.TryCreate(match.Groups[1].Value, UriKind.Absolute, out var address))
        {
            _listening.TrySetResult(address);
        }
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();

    private static int SendTerminate(int processId) => Kill(processId, 15);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
