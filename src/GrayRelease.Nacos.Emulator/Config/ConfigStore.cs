using System.Security.Cryptography;
using System.Text;

namespace GrayRelease.Nacos.Emulator.Config;

/// <summary>Published configs, plus a signal that fires on every change so held listener calls re-check.</summary>
internal sealed class ConfigStore
{
    private readonly object _gate = new();
    private readonly Dictionary<ConfigKey, ConfigEntry> _configs = [];
    private readonly TimeProvider _timeProvider;
    private TaskCompletionSource _changed = NewSignal();
    private int _heldListeners;

    public ConfigStore(TimeProvider timeProvider) => _timeProvider = timeProvider;

    /// <summary>How many listener calls are being held right now (for tests that must know one is parked).</summary>
    public int HeldListeners => Volatile.Read(ref _heldListeners);

    public void ListenerHeld() => Interlocked.Increment(ref _heldListeners);

    public void ListenerReleased() => Interlocked.Decrement(ref _heldListeners);

    /// <summary>Lower-case hex MD5 of the UTF-8 bytes, as clients compute it.</summary>
    public static string Md5(string content)
    {
#pragma warning disable CA5351 // MD5 is what the Nacos protocol uses for change detection, not for security.
        var hash = MD5.HashData(Encoding.UTF8.GetBytes(content));
#if NET9_0_OR_GREATER
        return Convert.ToHexStringLower(hash);
#else
#pragma warning disable CA1308 // Nacos compares lower-case hex.
        return Convert.ToHexString(hash).ToLowerInvariant();
#pragma warning restore CA1308
#endif
#pragma warning restore CA5351
    }

    public void Publish(ConfigKey key, string content, string? type)
    {
        var entry = new ConfigEntry(content, Md5(content), NormalizeType(type), _timeProvider.GetUtcNow());
        lock (_gate)
        {
            _configs[key] = entry;
            SignalLocked();
        }
    }

    /// <summary>
    /// Publishes only if the stored md5 is <paramref name="casMd5"/>, atomically. As the server
    /// (config/.../repository/extrnal/ExternalConfigInfoPersistServiceImpl.java insertOrUpdateCas): a config that does
    /// not exist is inserted whatever the md5; an existing one is updated only where its md5 matches.
    /// </summary>
    /// <returns>False when the config exists and its md5 differs.</returns>
    public bool TryPublishCas(ConfigKey key, string content, string? type, string casMd5)
    {
        var entry = new ConfigEntry(content, Md5(content), NormalizeType(type), _timeProvider.GetUtcNow());
        lock (_gate)
        {
            if (_configs.TryGetValue(key, out var current) && !string.Equals(current.Md5, casMd5, StringComparison.Ordinal))
            {
                return false;
            }

            _configs[key] = entry;
            SignalLocked();
            return true;
        }
    }

    /// <summary>
    /// config/.../controller/ConfigController.java publishConfig: a type that <c>ConfigType.isValidType</c> does not
    /// know (an exact, case-sensitive match) is replaced by the default <c>text</c>, so <c>yml</c> or <c>YAML</c> is
    /// stored and answered (Config-Type) as <c>text</c>.
    /// </summary>
    internal static string NormalizeType(string? type) => type switch
    {
        "properties" or "xml" or "json" or "text" or "html" or "yaml" or "toml" or "unset" => type,
        _ => "text",
    };

    public bool Remove(ConfigKey key)
    {
        lock (_gate)
        {
            if (!_configs.Remove(key))
            {
                return false;
            }

            SignalLocked();
            return true;
        }
    }

    public ConfigEntry? Get(ConfigKey key)
    {
        lock (_gate)
        {
            return _configs.GetValueOrDefault(key);
        }
    }

    /// <summary>The server-side md5, empty when the config does not exist.</summary>
    public string GetMd5(ConfigKey key)
    {
        lock (_gate)
        {
            return _configs.TryGetValue(key, out var entry) ? entry.Md5 : string.Empty;
        }
    }

    /// <summary>A task that completes on the next change; take it before comparing to miss nothing.</summary>
    public Task WhenChanged()
    {
        lock (_gate)
        {
            return _changed.Task;
        }
    }

    private void SignalLocked()
    {
        var previous = _changed;
        _changed = NewSignal();
        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
