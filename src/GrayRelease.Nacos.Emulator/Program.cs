using GrayRelease.Nacos.Emulator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

// Standalone: dotnet run --project src/GrayRelease.Nacos.Emulator [--port 8848] [--profile nacos-1.4|nacos-2|nacos-3.1|nacos-3.2]
//   [--host 127.0.0.1] [--auth] [--username u --password p]; gRPC listens on port + 1000.
var configuration = new ConfigurationBuilder().AddCommandLine(EmulatorCommandLine.Normalize(args)).Build();
using var loggerFactory = LoggerFactory.Create(logging => logging
    .AddSimpleConsole(console =>
    {
        console.SingleLine = true;
        console.TimestampFormat = "HH:mm:ss.fff ";
    })
    .SetMinimumLevel(configuration.GetValue("verbose", false) ? LogLevel.Debug : LogLevel.Warning));
var options = new NacosEmulatorOptions
{
    Host = configuration["host"] ?? "127.0.0.1",
    Port = configuration.GetValue("port", 8848),
    AuthEnabled = configuration.GetValue("auth", false),
    UserName = configuration["username"] ?? "nacos",
    Password = configuration["password"] ?? "nacos",
    LoggerFactory = loggerFactory,
};
if (EmulatorCommandLine.ParseProfile(configuration["profile"]) is { } profile)
{
    options.ServerLine = profile;
}

var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.TrySetResult();
};
// SIGTERM (docker stop, kill, a supervisor) must stop it as cleanly as Ctrl+C does.
using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.TrySetResult();
});

await using var emulator = await NacosEmulator.StartAsync(options);
Console.WriteLine(EmulatorCommandLine.Banner(emulator, options.AuthEnabled));
await stop.Task;
return 0;
