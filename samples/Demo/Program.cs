using GrayRelease.Demo;

DemoOptions options;
try
{
    options = DemoOptions.Parse(args);
}
catch (ArgumentException exception)
{
    Console.Error.WriteLine(exception.Message);
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // Let the runner stop every child process before the demo exits.
    e.Cancel = true;
    stop.Cancel();
};

// The same for SIGTERM (kill, a CI timeout), which would otherwise end the demo and orphan its children.
using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

try
{
    return await new DemoRunner(options, Console.Out).RunAsync(stop.Token);
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.WriteLine("Interrupted.");
    return options.KeepRunning ? 0 : 130;
}
catch (Exception exception) when (exception is TimeoutException or InvalidOperationException or FileNotFoundException or DirectoryNotFoundException or HttpRequestException)
{
    Console.Error.WriteLine($"The demo failed: {exception.Message}");
    return 1;
}
