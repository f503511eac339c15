using System.Diagnostics;
using Microsoft.Extensions.Primitives;
using OpenTelemetry.Context;
using OtelBaggage = OpenTelemetry.Baggage;

namespace GrayRelease.Propagation;

/// <summary>
/// The gray members of W3C baggage and the two .NET baggage APIs that hold them: <see cref="Activity.Baggage"/> (filled
/// by ASP.NET Core's hosting from the inbound header, injected by HttpClient's DiagnosticsHandler and YARP through
/// <see cref="DistributedContextPropagator"/>) and OpenTelemetry's <c>Baggage.Current</c> (filled by its ASP.NET Core
/// instrumentation, injected by its HttpClient instrumentation, which replaces the whole <c>baggage</c> header).
/// </summary>
internal static class GrayBaggage
{
    public const string HeaderSource = "the baggage header";

    public const string ActivitySource = "Activity.Baggage";

    public const string OpenTelemetrySource = "OpenTelemetry Baggage.Current";

    // opentelemetry-dotnet src/OpenTelemetry.Api/Baggage.cs: Baggage.Current lives in a mutable holder kept in this
    // runtime-context slot, and setting Current changes the holder in place when the flow already has one, i.e. for every
    // flow that shares it (the caller, parallel calls). We put a holder of our own in the slot first, so a change made
    // for one request or one call stays in that flow.
    private const string OpenTelemetryBaggageSlot = "otel.baggage";

    /// <summary>
    /// The value of <paramref name="key"/> for an inbound request: the <c>baggage</c> header decides when it names the key
    /// (a repeated or malformed member yields nothing); else <see cref="Activity.Current"/>'s baggage, else
    /// OpenTelemetry's, in case something other than the header (another propagator, app code) filled them.
    /// </summary>
    public static string? Find(BaggageParseResult header, string key, out string source, out bool repeated)
    {
        repeated = false;
        source = HeaderSource;
        if (header.Mentions(key))
        {
            if (header.CountOf(key) > 1)
            {
                repeated = true;
                return null;
            }

            var index = header.IndexOf(key);
            return index < 0 ? null : header.Members[index].Value;
        }

        if (Activity.Current?.GetBaggageItem(key) is { } fromActivity)
        {
            source = ActivitySource;
            return fromActivity;
        }

        source = OpenTelemetrySource;
        return OtelBaggage.GetBaggage(key);
    }

    /// <summary>
    /// Makes <paramref name="activity"/>'s baggage and <c>Baggage.Current</c> hold exactly these values of the gray members
    /// (a null value removes the member), so app code reading either API sees what <see cref="GrayContext"/> says.
    /// The write to <c>Baggage.Current</c> is an async-local write: call it from the async method whose flow it is for.
    /// </summary>
    public static void Agree(Activity? activity, string statusKey, string? status, string laneKey, string? lane)
    {
        if (activity is not null)
        {
            AgreeActivity(activity, statusKey, status);
            AgreeActivity(activity, laneKey, lane);
        }

        var current = OtelBaggage.Current;
        var agreed = Aligned(current, statusKey, status, laneKey, lane);
        if (agreed != current)
        {
            TrySetForThisFlow(agreed, out _);
        }
    }

    /// <summary>
    /// Before a call leaves: makes a non-empty <c>Baggage.Current</c> agree with the gray context until <see cref="Restore"/>,
    /// so OpenTelemetry's HttpClient instrumentation, which rewrites the header from it, carries the same gray members as
    /// we do. An empty one is left alone: the instrumentation then writes nothing and our header stands.
    /// </summary>
    public static bool TryAlignForCall(string statusKey, string? status, string laneKey, string? lane, out object? previousHolder)
    {
        previousHolder = null;
        var current = OtelBaggage.Current;
        if (current.Count == 0)
        {
            return false;
        }

        var aligned = Aligned(current, statusKey, status, laneKey, lane);
        return aligned != current && TrySetForThisFlow(aligned, out previousHolder);
    }

    /// <summary>Puts back the holder <see cref="TryAlignForCall"/> found; flows started meanwhile keep the aligned one.</summary>
    public static void Restore(object? previousHolder) => RuntimeContext.SetValue(OpenTelemetryBaggageSlot, previousHolder!);

    private static bool TrySetForThisFlow(OtelBaggage baggage, out object? previousHolder)
    {
        try
        {
            previousHolder = RuntimeContext.GetValue(OpenTelemetryBaggageSlot);
            RuntimeContext.SetValue(OpenTelemetryBaggageSlot, null!);
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or NotSupportedException)
        {
            // A runtime context without that slot (another OpenTelemetry version): leave Baggage.Current alone rather
            // than change a holder other flows share.
            previousHolder = null;
            return false;
        }

        OtelBaggage.Current = baggage;
        return true;
    }

    /// <summary>
    /// The <c>baggage</c> header an outgoing call must carry, or <see langword="null"/> to leave the call as it is. Our
    /// members come first; a header the caller set is kept, member by member (a gray member the caller set itself wins,
    /// as for the gray headers); without one, the members of <paramref name="activity"/>'s baggage are carried too,
    /// because a header of ours stops DiagnosticsHandler from injecting them (it never overwrites a header).
    /// </summary>
    public static string? BuildOutbound(StringValues existing, Activity? activity, string statusKey, string? status, string laneKey, string? lane)
    {
        List<KeyValuePair<string, string>> ours = [];
        List<string> others = [];
        if (!StringValues.IsNullOrEmpty(existing))
        {
            var parsed = W3CBaggage.Parse(existing);
            if (status is not null && !parsed.Mentions(statusKey))
            {
                ours.Add(new(statusKey, status));
            }

            if (lane is not null && !parsed.Mentions(laneKey))
            {
                ours.Add(new(laneKey, lane));
            }

            if (ours.Count == 0)
            {
                return null;
            }

            foreach (var member in parsed.Members)
            {
                others.Add(member.Raw);
            }

            return W3CBaggage.Build(ours, others);
        }

        if (status is not null)
        {
            ours.Add(new(statusKey, status));
        }

        if (lane is not null)
        {
            ours.Add(new(laneKey, lane));
        }

        var activityHasGray = false;
        if (activity is not null)
        {
            List<string>? seen = null;
            foreach (var (key, value) in activity.Baggage)
            {
                if (string.Equals(key, statusKey, StringComparison.Ordinal) || string.Equals(key, laneKey, StringComparison.Ordinal))
                {
                    activityHasGray = true;
                    continue;
                }

                // A child's item hides its parent's of the same key (Activity.GetBaggageItem reads the nearest).
                seen ??= [];
                if (value is null || !W3CBaggage.IsKey(key) || seen.Contains(key, StringComparer.Ordinal))
                {
                    continue;
                }

                seen.Add(key);
                others.Add(W3CBaggage.Format(key, value));
            }
        }

        // Nothing of ours, and the activity has no gray member to hide: DiagnosticsHandler's own header is the same.
        if (ours.Count == 0 && !activityHasGray)
        {
            return null;
        }

        return W3CBaggage.Build(ours, others) ?? string.Empty;
    }

    /// <summary>Makes <paramref name="activity"/>'s baggage hold <paramref name="value"/> for <paramref name="key"/>, once.</summary>
    public static void AgreeActivity(Activity activity, string key, string? value)
    {
        if (string.Equals(activity.GetBaggageItem(key), value, StringComparison.Ordinal))
        {
            return;
        }

        // A repeated member becomes as many items (hosting adds each one): remove them all, then set ours. An item on a
        // parent activity cannot be removed from here; the bound keeps that case from spinning.
        for (var i = 0; i <= W3CBaggage.MaxMembers && activity.GetBaggageItem(key) is not null; i++)
        {
            activity.SetBaggage(key, null);
        }

        if (value is not null)
        {
            activity.SetBaggage(key, value);
        }
    }

    private static OtelBaggage Aligned(OtelBaggage baggage, string statusKey, string? status, string laneKey, string? lane)
    {
        baggage = AlignedMember(baggage, statusKey, status);
        return AlignedMember(baggage, laneKey, lane);
    }

    private static OtelBaggage AlignedMember(OtelBaggage baggage, string key, string? value)
    {
        if (string.Equals(baggage.GetBaggage(key), value, StringComparison.Ordinal))
        {
            return baggage;
        }

        return value is null ? baggage.RemoveBaggage(key) : baggage.SetBaggage(key, value);
    }
}
