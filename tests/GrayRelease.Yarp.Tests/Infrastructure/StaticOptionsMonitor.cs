using Microsoft.Extensions.Options;

namespace GrayRelease.Yarp.Tests.Infrastructure;

/// <summary>An options monitor whose value a test sets directly.</summary>
internal sealed class StaticOptionsMonitor<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue { get; set; } = value;

    public T Get(string? name) => CurrentValue;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
