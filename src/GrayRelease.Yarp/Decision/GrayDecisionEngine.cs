using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrayRelease.Yarp;

/// <summary>Holds the compiled gateway rules and recompiles them when the options change.</summary>
internal sealed class GrayDecisionEngine : IDisposable
{
    private readonly IGrayRule[] _customRules;
    private readonly ICityResolver _cityResolver;
    private readonly ILogger _logger;
    private readonly IDisposable? _subscription;
    private GrayRuleSet _rules;

    public GrayDecisionEngine(
        IOptionsMonitor<GrayGatewayOptions> options,
        IEnumerable<IGrayRule> customRules,
        ICityResolver cityResolver,
        ILogger<GrayDecisionEngine> logger)
    {
        _customRules = [.. customRules];
        _cityResolver = cityResolver;
        _logger = logger;
        _rules = Compile(options.CurrentValue);
        _subscription = options.OnChange(o => Volatile.Write(ref _rules, Compile(o)));
    }

    public GrayRuleSet Rules => Volatile.Read(ref _rules);

    public GrayDecision Decide(HttpContext context) => Volatile.Read(ref _rules).Decide(context);

    public void Dispose() => _subscription?.Dispose();

    private GrayRuleSet Compile(GrayGatewayOptions options)
    {
        var rules = GrayRuleSet.Compile(options, _customRules, _cityResolver, _logger);
        Log.GatewayRulesCompiled(_logger, rules.Enabled, rules.Description);

        // Said when there are lanes, and once more when the last one goes, so the log shows every change of lanes.
        if (rules.Lanes.Count > 0 || _rules?.Lanes.Count > 0)
        {
            Log.GatewayLanesCompiled(_logger, rules.LaneDescription);
        }

        return rules;
    }
}
