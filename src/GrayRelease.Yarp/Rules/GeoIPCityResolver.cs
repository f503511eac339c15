using System.Net;
using System.Net.Sockets;
using MaxMind.Db;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrayRelease.Yarp;

/// <summary>
/// The default <see cref="ICityResolver"/>: the <see cref="GrayGatewayOptions.Cities"/> table first (operators pin their
/// own networks there), then, when <see cref="GrayGatewayOptions.GeoIPDatabase"/> is set, a MaxMind DB file
/// (GeoLite2-City / GeoIP2-City format). The file is loaded into memory and reopened when the path changes.
/// </summary>
internal sealed class GeoIPCityResolver : ICityResolver, IDisposable
{
    private readonly ConfigurationCityResolver _table;
    private readonly ILogger _logger;
    private readonly IDisposable? _subscription;
    private Database? _database;

    public GeoIPCityResolver(IOptionsMonitor<GrayGatewayOptions> options, ILogger<GeoIPCityResolver> logger)
    {
        _table = new ConfigurationCityResolver(options);
        _logger = logger;
        _database = Open(options.CurrentValue, current: null);
        _subscription = options.OnChange(o => Volatile.Write(ref _database, Open(o, Volatile.Read(ref _database))));
    }

    public string? ResolveCity(IPAddress address)
    {
        if (_table.ResolveCity(address) is { } city)
        {
            return city;
        }

        if (Volatile.Read(ref _database) is not { } database)
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        else if (address.AddressFamily == AddressFamily.InterNetworkV6 && database.Reader.Metadata.IPVersion == 4)
        {
            return null;
        }

        try
        {
            return database.Reader.Find<Dictionary<string, object>>(address) is { } record
                && record.TryGetValue("city", out var cityRecord) && cityRecord is Dictionary<string, object> cityMap
                && cityMap.TryGetValue("names", out var names) && names is Dictionary<string, object> nameMap
                && nameMap.TryGetValue(database.Language, out var name)
                    ? name as string
                    : null;
        }
        catch (Exception ex) when (ex is InvalidDatabaseException or DeserializationException)
        {
            Log.GeoIPLookupFailed(_logger, ex);
            return null;
        }
    }

    public void Dispose()
    {
        _subscription?.Dispose();
        _table.Dispose();
        Volatile.Read(ref _database)?.Reader.Dispose();
    }

    private Database? Open(GrayGatewayOptions options, Database? current)
    {
        var path = options.GeoIPDatabase;
        var language = string.IsNullOrWhiteSpace(options.GeoIPLanguage) ? "en" : options.GeoIPLanguage.Trim();
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }

        if (current is not null && current.Path == path)
        {
            return current.Language == language ? current : current with { Language = language };
        }

        try
        {
            // Memory mode: a replaced reader holds only a byte array, so lookups still running on it stay safe.
            var reader = new Reader(path, FileAccessMode.Memory);
            Log.GeoIPDatabaseOpened(_logger, path, reader.Metadata.DatabaseType);
            return new Database(reader, path, language);
        }
        catch (Exception ex) when (ex is IOException or InvalidDatabaseException or UnauthorizedAccessException)
        {
            // Start-up validation has checked the file exists; a broken replacement keeps the previous database.
            Log.GeoIPDatabaseFailed(_logger, path, ex);
            return current;
        }
    }

    private sealed record Database(Reader Reader, string Path, string Language);
}
