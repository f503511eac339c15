using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrayRelease.Yarp;

/// <summary>The gateway rules compiled from one version of the options; immutable, swapped whole on change.</summary>
internal sealed class GrayRuleSet
{
    private static readonly GrayDecision Disabled = new(GrayStatus.All, GrayDecision.DisabledRule);
    private static readonly GrayDecision Prod = new(GrayStatus.Prod, GrayDecision.NoRule);

    private readonly bool _enabled;
    private readonly IGrayRule[] _rules;
    private readonly GrayDecision[] _grayDecisions;
    private readonly RuleFailures[] _failures;
    private readonly ILogger _logger;
    private readonly IPRangeSet _trustedProxies;
    private readonly ClientAddressHeader[] _clientAddressHeaders;
    private readonly string? _userIdHeader;
    private readonly string? _userIdClaim;

    private GrayRuleSet(GrayGatewayOptions options, IGrayRule[] rules, ILogger logger)
    {
        _enabled = options.Enabled;
        _rules = rules;
        _logger = logger;
        _grayDecisions = new GrayDecision[rules.Length];
        _failures = new RuleFailures[rules.Length];
        for (var i = 0; i < rules.Length; i++)
        {
            _grayDecisions[i] = new GrayDecision(GrayStatus.Gray, rules[i].Name ?? rules[i].GetType().Name);
            _failures[i] = new RuleFailures();
        }

        _trustedProxies = IPRangeSet.Create(options.TrustedProxies);
        // Validation rejects a bad list at start-up and on reload; the default order is only a belt for direct use.
        _clientAddressHeaders = ClientAddressResolver.TryParseHeaders(options.ClientAddressHeaders, out var order, out _) ? order : [ClientAddressHeader.ForwardedFor];
        _userIdHeader = string.IsNullOrWhiteSpace(options.UserIdHeader) ? null : options.UserIdHeader.Trim();
        _userIdClaim = string.IsNullOrWhiteSpace(options.UserIdClaim) ? null : options.UserIdClaim.Trim();
    }

    /// <summary>Names of the active rules, in evaluation order.</summary>
    public IReadOnlyList<string> RuleNames => Array.ConvertAll(_rules, static r => r.Name);

    /// <summary>The rule names as one line, for the log.</summary>
    public string Description => string.Join(", ", RuleNames);

    public bool Enabled => _enabled;

    public static GrayRuleSet Compile(GrayGatewayOptions options, IEnumerable<IGrayRule> customRules, ICityResolver cityResolver, ILogger? logger = null)
    {
        var rules = new List<IGrayRule>();
        if (!string.IsNullOrEmpty(options.HeaderName) && !string.IsNullOrEmpty(options.HeaderValue))
        {
            rules.Add(new HeaderRule(options.HeaderName.Trim(), options.HeaderValue.Trim()));
        }

        var ipRanges = IPRangeSet.Create(options.IpList);
        if (!ipRanges.IsEmpty)
        {
            rules.Add(new IPRule(ipRanges));
        }

        var cities = ToSet(options.CityList, StringComparer.OrdinalIgnoreCase);
        if (cities.Count > 0)
        {
            rules.Add(new CityRule(cities, cityResolver));
        }

        var userIds = ToSet(options.UserIdList, StringComparer.Ordinal);
        if (userIds.Count > 0)
        {
            rules.Add(new UserIdRule(userIds));
        }

        if (options.Percentage > 0)
        {
            rules.Add(new PercentageRule(options.Percentage, options.PercentageSalt));
        }

        rules.AddRange(customRules);
        return new GrayRuleSet(options, [.. rules], logger ?? NullLogger.Instance);
    }

    public GrayDecision Decide(HttpContext context)
    {
        if (!_enabled)
        {
            return Disabled;
        }

        if (_rules.Length == 0)
        {
            return Prod;
        }

        var ruleContext = new GrayRuleContext(context, ClientAddressResolver.Resolve(context, _trustedProxies, _clientAddressHeaders), GetUserId(context));
        for (var i = 0; i < _rules.Length; i++)
        {
            if (IsGray(i, in ruleContext))
            {
                return _grayDecisions[i];
            }
        }

        return Prod;
    }

    /// <summary>
    /// A rule that throws (a custom one, typically) counts as not matched: one broken rule must not turn every request
    /// into a 500, and "not gray" is the production path, the safe side.
    /// </summary>
    private bool IsGray(int index, in GrayRuleContext context)
    {
        try
        {
            return _rules[index].IsGray(in context);
        }
        catch (Exception exception)
        {
            _failures[index].Report(_logger, _grayDecisions[index].Rule, exception);
            return false;
        }
    }

    private string? GetUserId(HttpContext context)
    {
        if (_userIdClaim is not null && context.User is { Identity.IsAuthenticated: true } user)
        {
            var value = user.FindFirst(_userIdClaim)?.Value;
            if (!string.IsNullOrEmpty(value))
            {
                return value;
            }
        }

        if (_userIdHeader is not null)
        {
            var values = context.Request.Headers[_userIdHeader];
            if (values.Count == 1 && !string.IsNullOrWhiteSpace(values[0]))
            {
                return values[0]!.Trim();
            }
        }

        return null;
    }

    private static FrozenSet<string> ToSet(List<string>? values, StringComparer comparer)
    {
        if (values is null || values.Count == 0)
        {
            return FrozenSet<string>.Empty;
        }

        var trimmed = new List<string>(values.Count);
        foreach (var value in values)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                trimmed.Add(value.Trim());
            }
        }

        return trimmed.ToFrozenSet(comparer);
    }

    /// <summary>
    /// Rate-limits the warning of one failing rule: the first failure is logged with its exception, then at most one
    /// line a minute with the count in between. A rule that throws on every request would otherwise write a stack trace
    /// per request; this keeps the cause and the scale visible without flooding the log.
    /// </summary>
    private sealed class RuleFailures
    {
        private const long ReportIntervalMilliseconds = 60_000;
        private long _nextReportAt = long.MinValue;
        private long _unreported;

        public void Report(ILogger logger, string rule, Exception exception)
        {
            Interlocked.Increment(ref _unreported);
            var now = Environment.TickCount64;
            var next = Volatile.Read(ref _nextReportAt);
            if (now < next || Interlocked.CompareExchange(ref _nextReportAt, now + ReportIntervalMilliseconds, next) != next)
            {
                return;
            }

            Log.GrayRuleFailed(logger, rule, Interlocked.Exchange(ref _unreported, 0), exception);
        }
    }
}
