using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Configuration;

/// <summary>
/// Loggers for the configuration path, which runs before the application's logging exists: until a real factory is
/// attached, messages are kept (the first <see cref="Capacity"/>, in order) and written on attach, so start-up
/// failover, login and snapshot messages are not lost.
/// </summary>
internal sealed class DeferredLoggerFactory
{
    internal const int Capacity = 256;

    private readonly object _gate = new();
    private readonly Queue<Action<ILoggerFactory>> _pending = new();
    private ILoggerFactory? _target;
    private int _dropped;

    public ILogger CreateLogger(string categoryName) => new DeferredLogger(this, categoryName);

    /// <summary>Writes what was kept to <paramref name="factory"/>'s loggers and sends everything there from now on.</summary>
    public void Attach(ILoggerFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        lock (_gate)
        {
            while (_pending.TryDequeue(out var write))
            {
                write(factory);
            }

            if (_dropped > 0)
            {
                Diagnostics.Log.DeferredLogsDropped(factory.CreateLogger("GrayRelease.Nacos.Configuration"), _dropped);
                _dropped = 0;
            }

            Volatile.Write(ref _target, factory);
        }
    }

    private bool TryDefer(Action<ILoggerFactory> write)
    {
        lock (_gate)
        {
            if (_target is not null)
            {
                return false;
            }

            if (_pending.Count < Capacity)
            {
                _pending.Enqueue(write);
            }
            else
            {
                _dropped++;
            }

            return true;
        }
    }

    private sealed class DeferredLogger(DeferredLoggerFactory owner, string categoryName) : ILogger
    {
        private ILogger? _logger;
        private ILoggerFactory? _loggerFrom;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => Target()?.BeginScope(state);

        // Until a factory is attached its filters are unknown: keep Information and above, not the chatty levels.
        public bool IsEnabled(LogLevel logLevel) => Target() is { } target ? target.IsEnabled(logLevel) : logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (Target() is { } target)
            {
                target.Log(logLevel, eventId, state, exception, formatter);
                return;
            }

            if (logLevel < LogLevel.Information || !owner.TryDefer(factory => factory.CreateLogger(categoryName).Log(logLevel, eventId, state, exception, formatter)))
            {
                // Attached meanwhile (or a chatty level before attach): write it now if there is somewhere to write.
                Target()?.Log(logLevel, eventId, state, exception, formatter);
            }
        }

        private ILogger? Target()
        {
            var factory = Volatile.Read(ref owner._target);
            if (factory is null)
            {
                return null;
            }

            if (!ReferenceEquals(factory, Volatile.Read(ref _loggerFrom)))
            {
                _logger = factory.CreateLogger(categoryName);
                Volatile.Write(ref _loggerFrom, factory);
            }

            return _logger;
        }
    }
}
