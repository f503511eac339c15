using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;

namespace GrayRelease.Yarp;

/// <summary>The gateway rules compiled from one version of the options; immutable, swapped whole on change.</summary>
internal sealed class GrayRuleSet
{
    private static readonly GrayDecision Disabled = new(GrayStatus.All, GrayDecision.DisabledRule);
    private static readonly GrayDecision Prod = new(GrayStatus.Prod, GrayDecision.NoRule);

    private readonly bool _enabled;
    private readonly IGrayRule[] _rules;
    private readonly GrayDecision[] _grayDecisions;
    private readonly IPRangeSet _trustedProxies;
    private readonly string? _userIdHeader;
    private readonly string? _userIdClaim;

    private GrayRuleSet(GrayGatewayOptions options, IGrayRule[] rules)
    {
        _enabled = options.Enabled;
        _rules = rules;
        _grayDecisions = new GrayDecision[rules.Length];
        for (var i = 0; i < rules.Length; i++)
        {
            _grayDecisions[i] = new GrayDecision(GrayStatus.Gray, rules[i].Name ?? rules[i].GetType().Name);
        }

        _trustedProxies = IPRangeSet.Create(options.TrustedProxies);
        _userIdHeader = string.IsNullOrWhiteSpace(options.UserIdHeader) ? null : options.UserIdHeader.Trim();
        _userIdClaim = string.IsNullOrWhiteSpace(options.UserIdClaim) ? null : options.UserIdClaim.Trim();
    }

    /// <summary>Names of the active rules, in evaluation order.</summary>
    public IReadOnlyList<string> RuleNames => Array.ConvertAll(_rules, static r => r.Name);

    /// <summary>The rule names as one line, for the log.</summary>
    public string Description => string.Join(", ", RuleNames);

    public bool Enabled => _enabled;

    public static GrayRuleSet Compile(GrayGatewayOptions options, IEnumerable<IGrayRule> customRules, ICityResolver cityResolver)
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
        return new GrayRuleSet(options, [.. rules]);
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

        var ruleContext = new GrayRuleContext(context, ClientAddressResolver.Resolve(context, _trustedProxies), GetUserId(context));
        for (var i = 0; i < _rules.Length; i++)
        {
            if (_rules[i].IsGray(in ruleContext))
            {
                return _grayDecisions[i];
            }
        }

        return Prod;
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
}
