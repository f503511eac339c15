using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace GrayRelease.Nacos.Emulator.Auth;

/// <summary>Issues JWT-shaped access tokens and checks them against the emulator's clock.</summary>
internal sealed class TokenService
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _tokens = new(StringComparer.Ordinal);
    private readonly NacosEmulatorOptions _options;

    public TokenService(NacosEmulatorOptions options) => _options = options;

    public enum TokenState
    {
        Valid,
        Expired,
        Unknown,
    }

    public string Issue(string userName)
    {
        var now = _options.TimeProvider.GetUtcNow();
        var expires = now + _options.TokenTtl;
        foreach (var (token, expiry) in _tokens)
        {
            if (expiry <= now)
            {
                _tokens.TryRemove(token, out _);
            }
        }

        var header = Base64Url("{\"alg\":\"HS256\"}");
        var payload = Base64Url("{\"sub\":\"" + userName + "\",\"exp\":"
            + expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) + "}");
        var signature = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var issued = header + "." + payload + "." + signature;
        _tokens[issued] = expires;
        return issued;
    }

    public TokenState Check(string token)
    {
        if (!_tokens.TryGetValue(token, out var expires))
        {
            return TokenState.Unknown;
        }

        return _options.TimeProvider.GetUtcNow() < expires ? TokenState.Valid : TokenState.Expired;
    }

    /// <summary>Forgets every issued token, as a server restarted with a new secret key; returns how many.</summary>
    public int RevokeAll()
    {
        var count = 0;
        foreach (var token in _tokens.Keys)
        {
            count += _tokens.TryRemove(token, out _) ? 1 : 0;
        }

        return count;
    }

    public bool CheckCredentials(string? userName, string? password) =>
        userName is not null && password is not null
        && string.Equals(userName, _options.UserName, StringComparison.Ordinal)
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(password), Encoding.UTF8.GetBytes(_options.Password));

    private static string Base64Url(string text) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
