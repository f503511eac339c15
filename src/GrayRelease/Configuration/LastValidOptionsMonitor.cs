using System.Collections.Concurrent;
using GrayRelease.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace GrayRelease;

/// <summary>
/// An <see cref="IOptionsMonitor{TOptions}"/> that keeps the last valid value when a configuration reload yields
/// invalid options. The framework's monitor would throw from <c>CurrentValue</c> on every later call, turning one bad
/// push to Nacos config into a failure of every request; here the bad change is logged and ignored. The first value
/// is validated as usual, so invalid options still stop the application at start-up.
/// </summary>
internal sealed class LastValidOptionsMonitor<TOptions> : IOptionsMonitor<TOptions>, IDisposable
    where TOptions : class
{
    private readonly IOptionsFactory<TOptions> _factory;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, TOptions> _values = new(StringComparer.Ordinal);
    private readonly List<IDisposable> _registrations = [];
    private readonly object _listenersGate = new();
    private Action<TOptions, string?>[] _listeners = [];

    public LastValidOptionsMonitor(
        IOptionsFactory<TOptions> factory,
        IEnumerable<IOptionsChangeTokenSource<TOptions>> sources,
        ILoggerFactory loggerFactory)
    {
        _factory = factory;
        _logger = loggerFactory.CreateLogger("GrayRelease.Options");
        foreach (var source in sources)
        {
            _registrations.Add(ChangeToken.OnChange(source.GetChangeToken, OnSourceChanged, source.Name ?? Options.DefaultName));
        }
    }

    public TOptions CurrentValue => Get(Options.DefaultName);

    public TOptions Get(string? name) => _values.GetOrAdd(name ?? Options.DefaultName, static (key, factory) => factory.Create(key), _factory);

    public IDisposable OnChange(Action<TOptions, string?> listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        lock (_listenersGate)
        {
            _listeners = [.. _listeners, listener];
        }

        return new Subscription(this, listener);
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }

    private void OnSourceChanged(string name)
    {
        TOptions value;
        try
        {
            value = _factory.Create(name);
        }
        catch (OptionsValidationException exception)
        {
            Log.OptionsChangeRejected(_logger, typeof(TOptions).Name, string.Join(" ", exception.Failures));
            return;
        }
        catch (InvalidOperationException exception)
        {
            // The binder's own errors (a value that does not convert, such as an unknown enum name).
            Log.OptionsChangeRejected(_logger, typeof(TOptions).Name, exception.Message);
            return;
        }

        _values[name] = value;
        foreach (var listener in Volatile.Read(ref _listeners))
        {
            listener(value, name);
        }
    }

    private void Remove(Action<TOptions, string?> listener)
    {
        lock (_listenersGate)
        {
            _listeners = Array.FindAll(_listeners, existing => existing != listener);
        }
    }

    private sealed class Subscription(LastValidOptionsMonitor<TOptions> owner, Action<TOptions, string?> listener) : IDisposable
    {
        public void Dispose() => owner.Remove(listener);
    }
}
