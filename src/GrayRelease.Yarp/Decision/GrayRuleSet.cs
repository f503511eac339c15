using System.Collections.Frozen;
using GrayRelease.Diagnostics;
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
    private readonly LogThrottle[] _failures;

    // Lane entry rules flattened in evaluation order (lanes by priority, then each lane's rules in the gray rules' order),
    // so the first entry that matches names the first matching lane.
    private readonly LaneEntry[] _laneEntries;

    // [entry][gray rule index + 1] (0: no gray rule matched): every (lane entry, gray outcome) decision, built once.
    private readonly GrayDecision[][] _laneDecisions;
    private readonly ILogger _logger;
    private readonly IPRangeSet _trustedProxies;
    private readonly ClientAddressHeader[] _clientAddressHeaders;
    private readonly string? _userIdHeader;
    private readonly string? _userIdClaim;

    private GrayRuleSet(GrayGatewayOptions options, IGrayRule[] rules, CompiledLane[] lanes, ILogger logger)
    {
        _enabled = options.Enabled;
        _rules = rules;
        _logger = logger;
        _grayDecisions = new GrayDecision[rules.Length];
        _failures = new LogThrottle[rules.Length];
        for (var i = 0; i < rules.Length; i++)
        {
            _grayDecisions[i] = new GrayDecision(GrayStatus.Gray, rules[i].Name ?? rules[i].GetType().Name);
            _failures[i] = NewFailureThrottle();
        }

        Lanes = lanes;
        var entries = new List<LaneEntry>();
        foreach (var lane in lanes)
        {
            foreach (var rule in lane.Rules)
            {
                entries.Add(new LaneEntry(lane.Name, rule, NewFailureThrottle()));
            }
        }

        _laneEntries = [.. entries];
        _laneDecisions = new GrayDecision[_laneEntries.Length][];
        for (var k = 0; k < _laneEntries.Length; k++)
        {
            var (lane, rule, _) = _laneEntries[k];
            var decisions = new GrayDecision[rules.Length + 1];
            decisions[0] = new GrayDecision(GrayStatus.Prod, GrayDecision.NoRule, lane, rule.Name);
            for (var i = 0; i < rules.Length; i++)
            {
                decisions[i + 1] = new GrayDecision(GrayStatus.Gray, _grayDecisions[i].Rule, lane, rule.Name);
            }

            _laneDecisions[k] = decisions;
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

    /// <summary>The lanes with their entry rules, in the order they are tried.</summary>
    public IReadOnlyList<CompiledLane> Lanes { get; }

    /// <summary>The lanes as one line, for the log.</summary>
    public string LaneDescription => Lanes.Count == 0 ? "none" : string.Join(", ", Lanes);

    public static GrayRuleSet Compile(GrayGatewayOptions options, IEnumerable<IGrayRule> customRules, ICityResolver cityResolver, ILogger? logger = null)
    {
        var rules = new List<IGrayRule>();
        AddRules(rules, options.HeaderName, options.HeaderValue, options.IpList, options.CityList, options.UserIdList, options.Percentage, options.PercentageSalt, cityResolver);
        rules.AddRange(customRules);

        var lanes = new List<CompiledLane>(options.Lanes.Count);
        foreach (var (name, lane) in options.Lanes)
        {
            if (lane is null)
            {
                continue;
            }

            var laneRules = new List<IGrayRule>();

            // Without a salt of its own a lane hashes with its name, so two lanes at 10 % (or a lane and the gray
            // percentage) do not claim the same first buckets, where the lane tried first would take every user.
            var salt = string.IsNullOrEmpty(lane.PercentageSalt) ? name : lane.PercentageSalt;
            AddRules(laneRules, lane.HeaderName, lane.HeaderValue, lane.IpList, lane.CityList, lane.UserIdList, lane.Percentage, salt, cityResolver);
            lanes.Add(new CompiledLane(name, lane.Priority, [.. laneRules]));
        }

        lanes.Sort(static (a, b) => a.Priority != b.Priority ? a.Priority.CompareTo(b.Priority) : string.CompareOrdinal(a.Name, b.Name));
        return new GrayRuleSet(options, [.. rules], [.. lanes], logger ?? NullLogger.Instance);
    }

    // One set of rule kinds for the gray decision and every lane, always in this order: header, ip, city, user, percentage.
    private static void AddRules(
        List<IGrayRule> rules,
        string? headerName,
        string? headerValue,
        List<string>? ipList,
        List<string>? cityList,
        List<string>? userIdList,
        double percentage,
        string? salt,
        ICityResolver cityResolver)
    {
        if (!string.IsNullOrEmpty(headerName) && !string.IsNullOrEmpty(headerValue))
        {
            rules.Add(new HeaderRule(headerName.Trim(), headerValue.Trim()));
        }

        var ipRanges = IPRangeSet.Create(ipList);
        if (!ipRanges.IsEmpty)
        {
            rules.Add(new IPRule(ipRanges));
        }

        var cities = ToSet(cityList, StringComparer.OrdinalIgnoreCase);
        if (cities.Count > 0)
        {
            rules.Add(new CityRule(cities, cityResolver));
        }

        var userIds = ToSet(userIdList, StringComparer.Ordinal);
        if (userIds.Count > 0)
        {
            rules.Add(new UserIdRule(userIds));
        }

        if (percentage > 0)
        {
            rules.Add(new PercentageRule(percentage, salt));
        }
    }

    public GrayDecision Decide(HttpContext context)
    {
        if (!_enabled)
        {
            return Disabled;
        }

        if (_rules.Length == 0 && _laneEntries.Length == 0)
        {
            return Prod;
        }

        var ruleContext = new GrayRuleContext(context, ClientAddressResolver.Resolve(context, _trustedProxies, _clientAddressHeaders), GetUserId(context));
        var gray = -1;
        for (var i = 0; i < _rules.Length; i++)
        {
            if (IsGray(i, in ruleContext))
            {
                gray = i;
                break;
            }
        }

        // The lane is decided independently of the status: a request may be GRAY and in a lane.
        for (var k = 0; k < _laneEntries.Length; k++)
        {
            if (EntersLane(k, in ruleContext))
            {
                return _laneDecisions[k][gray + 1];
            }
        }

        return gray < 0 ? Prod : _grayDecisions[gray];
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
            if (_failures[index].TryEnter(out var unlogged))
            {
                Log.GrayRuleFailed(_logger, _grayDecisions[index].Rule, unlogged + 1, exception);
            }

            return false;
        }
    }

    /// <summary>A lane rule that throws (a custom city resolver) counts as not matched, as a gray rule does: the baseline is the safe side.</summary>
    private bool EntersLane(int index, in GrayRuleContext context)
    {
        var entry = _laneEntries[index];
        try
        {
            return entry.Rule.IsGray(in context);
        }
        catch (Exception exception)
        {
            if (entry.Failures.TryEnter(out var unlogged))
            {
                Log.GrayRuleFailed(_logger, $"lane {entry.Lane}: {entry.Rule.Name}", unlogged + 1, exception);
            }

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

    /// <summary>One lane's entry rules, compiled.</summary>
    internal sealed class CompiledLane(string name, int priority, IGrayRule[] rules)
    {
        public string Name { get; } = name;

        public int Priority { get; } = priority;

        public IGrayRule[] Rules { get; } = rules;

        public override string ToString() =>
            $"{Name} (priority {Priority}: {(Rules.Length == 0 ? "no rule" : string.Join(", ", Array.ConvertAll(Rules, static r => r.Name)))})";
    }

    private sealed record LaneEntry(string Lane, IGrayRule Rule, LogThrottle Failures);

    /// <summary>
    /// Rate-limits the warning of one failing rule: the first failure is logged with its exception, then at most one
    /// line a minute with the count in between. A rule that throws on every request would otherwise write a stack trace
    /// per request; this keeps the cause and the scale visible without flooding the log.
    /// </summary>
    private static LogThrottle NewFailureThrottle() => new(TimeSpan.FromMinutes(1), TimeProvider.System);
}
