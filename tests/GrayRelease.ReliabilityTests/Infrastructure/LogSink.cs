using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace GrayRelease.ReliabilityTests.Infrastructure;

/// <summary>One logged line of any host: where it came from and everything it carried (message, state, exception).</summary>
internal sealed record CapturedLog(string Host, string Category, LogLevel Level, int EventId, string Message, string State, string? Exception)
{
    public string AllText => $"{Message} | {State} | {Exception}";
}

/// <summary>
/// Captures the logs of every host of a system at the level asked, with their structured state and scopes,
/// so that tests can wait for an event, assert an error was logged, or search every line for a secret.
/// </summary>
internal sealed class LogSink
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();

    public IReadOnlyCollection<CapturedLog> Entries => _entries;

    public ILoggerProvider For(string host) => new Provider(this, host);

    /// <summary>
    /// The lines of <paramref name="host"/> with <paramref name="eventId"/> from the package whose logger categories
    /// start with <paramref name="categoryPrefix"/>: event ids are unique within a package only (core, Nacos and the
    /// emulator all use 1-8 and 60-62), so an id alone could match another package's line.
    /// </summary>
    public IEnumerable<CapturedLog> Where(string host, string categoryPrefix, int eventId) =>
        _entries.Where(e => e.Host == host && e.EventId == eventId && e.Category.StartsWith(categoryPrefix, StringComparison.Ordinal));

    public bool Any(Func<CapturedLog, bool> predicate) => _entries.Any(predicate);

    private sealed class Provider(LogSink sink, string host) : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(Provider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => provider._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var text = new System.Text.StringBuilder();
                if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
                {
                    foreach (var (key, value) in pairs)
                    {
                        text.Append(key).Append('=').Append(value).Append(';');
                    }
                }

                provider._scopes.ForEachScope((scope, builder) => builder.Append(" scope:").Append(scope), text);
                provider.Sink.Add(new CapturedLog(provider.Host, category, logLevel, eventId.Id, formatter(state, exception), text.ToString(), exception?.ToString()));
            }
        }

        private LogSink Sink => sink;

        private string Host => host;
    }

    private void Add(CapturedLog entry) => _entries.Enqueue(entry);
}
