using System.Text.Json;
using GrayRelease.Nacos.Emulator.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GrayRelease.Nacos.Emulator.Tests;

public sealed class LoggingTests : EmulatorTestBase
{
    private const string Password = "Pa55-word-never-logged";
    private readonly FakeLogCollector _logs = new();
    private ILoggerFactory? _loggerFactory;

    protected override void Configure(NacosEmulatorOptions options)
    {
        _loggerFactory = LoggerFactory.Create(logging => logging
            .AddProvider(new FakeLoggerProvider(_logs))
            .SetMinimumLevel(LogLevel.Trace));
        options.LoggerFactory = _loggerFactory;
        options.AuthEnabled = true;
        options.Password = Password;
    }

    [Fact]
    public async Task Logs_never_contain_passwords_or_tokens()
    {
        var login = await SendTextAsync(HttpMethod.Post, "v1/auth/login", content: Form(("username", "nacos"), ("password", Password)));
        var token = JsonDocument.Parse(login).RootElement.GetProperty("accessToken").GetString()!;
        await SendTextAsync(HttpMethod.Post, "v1/ns/instance?serviceName=a&ip=127.0.0.1&port=1&accessToken=" + Uri.EscapeDataString(token));
        await SendTextAsync(HttpMethod.Post, "v1/auth/login", System.Net.HttpStatusCode.Forbidden, Form(("username", "nacos"), ("password", Password + "x")));
        await SendTextAsync(HttpMethod.Get, "v1/ns/instance/list?serviceName=a&accessToken=" + Uri.EscapeDataString(token + "x"), System.Net.HttpStatusCode.Forbidden);

        var records = _logs.GetSnapshot();
        Assert.Contains(records, r => r.Message.Contains("logged in", StringComparison.Ordinal));
        Assert.Contains(records, r => r.Message.Contains("Login refused", StringComparison.Ordinal));
        Assert.Contains(records, r => r.Message.Contains("Registered 127.0.0.1:1", StringComparison.Ordinal));
        Assert.DoesNotContain(records, r => r.Message.Contains(Password, StringComparison.Ordinal) || r.Message.Contains(token, StringComparison.Ordinal));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _loggerFactory?.Dispose();
    }
}
