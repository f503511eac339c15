using System.Diagnostics;
using System.Text.Json;
using GrayRelease.Diagnostics;
using GrayRelease.LoadBalancing;
using GrayRelease.Propagation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace GrayRelease.AspNetCore;

/// <summary>
/// Reads the gray header (or, with <c>GrayRelease:Propagation</c> Baggage or Both, the gray members of W3C baggage) of an
/// inbound request into <see cref="GrayContext"/> for that request's own async flow, adds the status to the log scope and
/// the request's Activity, and answers 503 when a downstream call found no instance of the wanted version.
/// </summary>
internal sealed class GrayReleaseMiddleware
{
    internal const string ActivityTagName = "gray.status";

    internal const string LaneActivityTagName = "gray.lane";

    // A lane name is a short token: it is echoed into logs, metrics and the next hop's headers.
    internal const int MaxLaneLength = 64;

    private readonly RequestDelegate _next;
    private readonly IOptionsMonitor<GrayReleaseOptions> _options;
    private readonly GrayReleaseMetrics _metrics;
    private readonly MalformedBaggageReporter _baggageProblems;
    private readonly ILogger _logger;

    public GrayReleaseMiddleware(
        RequestDelegate next,
        IOptionsMonitor<GrayReleaseOptions> options,
        GrayReleaseMetrics metrics,
        MalformedBaggageReporter baggageProblems,
        ILogger<GrayReleaseMiddleware> logger)
    {
        _next = next;
        _options = options;
        _metrics = metrics;
        _baggageProblems = baggageProblems;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var options = _options.CurrentValue;
        var propagation = options.Propagation;
        GrayStatus? status = null;
        string? lane = null;
        if (propagation != GrayPropagation.Baggage)
        {
            status = ReadStatus(context.Request.Headers, options.HeaderName);
            lane = ReadLane(context.Request.Headers, options.LaneHeaderName);
        }

        if (propagation != GrayPropagation.Header)
        {
            // Both: a valid header wins; a member only fills what the header left unset.
            ReadBaggage(context.Request.Headers, options, ref status, ref lane);

            // Baggage.Current gets a holder of this async method's flow, so the change is this request's only.
            GrayBaggage.Agree(
                Activity.Current,
                options.BaggageStatusKey,
                (status ?? GrayContext.Current)?.ToWireValue(),
                options.BaggageLaneKey,
                lane ?? GrayContext.CurrentLane);
        }

        _metrics.InboundRequest(status);
        if (lane is not null)
        {
            await InvokeInLaneAsync(context, status, lane).ConfigureAwait(false);
            return;
        }

        if (status is null)
        {
            // No tag of its own: keep whatever an earlier middleware (a gateway decision) may have set.
            await InvokeNextAsync(context).ConfigureAwait(false);
            return;
        }

        Activity.Current?.SetTag(ActivityTagName, status.Value.ToWireValue());
        using (GrayContext.Begin(status.Value))
        using (_logger.BeginScope(GrayLogScope.For(status.Value)))
        {
            await InvokeNextAsync(context).ConfigureAwait(false);
        }
    }

    private async Task InvokeInLaneAsync(HttpContext context, GrayStatus? status, string lane)
    {
        var activity = Activity.Current;
        if (status is { } known)
        {
            activity?.SetTag(ActivityTagName, known.ToWireValue());
        }

        activity?.SetTag(LaneActivityTagName, lane);

        // Without a status of its own the request keeps whatever an earlier middleware (a gateway decision) set.
        using (GrayContext.Set(status ?? GrayContext.Current, lane))
        using (status is { } tagged ? _logger.BeginScope(GrayLogScope.For(tagged)) : null)
        using (_logger.BeginScope(new GrayLaneLogScope(lane)))
        {
            await InvokeNextAsync(context).ConfigureAwait(false);
        }
    }

    private void ReadBaggage(IHeaderDictionary headers, GrayReleaseOptions options, ref GrayStatus? status, ref string? lane)
    {
        var parsed = headers.TryGetValue(W3CBaggage.HeaderName, out var values) ? W3CBaggage.Parse(values) : BaggageParseResult.Empty;
        _baggageProblems.Report(parsed);
        if (status is null && FindMember(parsed, options.BaggageStatusKey) is { } statusMember)
        {
            if (statusMember.Value.Length <= GrayStatusParser.MaxWireLength && GrayStatusParser.TryParse(statusMember.Value, out var parsedStatus))
            {
                status = parsedStatus;
            }
            else
            {
                Log.IgnoredGrayBaggageMember(_logger, options.BaggageStatusKey, statusMember.Source, "unknown value");
            }
        }

        if (lane is null && FindMember(parsed, options.BaggageLaneKey) is { } laneMember)
        {
            if (GrayReleaseOptionsValidator.IsLaneName(laneMember.Value))
            {
                lane = laneMember.Value;
            }
            else
            {
                Log.IgnoredGrayBaggageMember(_logger, options.BaggageLaneKey, laneMember.Source, "a lane name is at most 64 letters, digits, '-', '_' and '.'");
            }
        }
    }

    private (string Value, string Source)? FindMember(BaggageParseResult parsed, string key)
    {
        var value = GrayBaggage.Find(parsed, key, out var source, out var repeated);
        if (repeated)
        {
            // As for two gray headers: which one the client meant cannot be known.
            Log.IgnoredGrayBaggageMember(_logger, key, source, "repeated member");
        }

        return value is null ? null : (value, source);
    }

    internal string? ReadLane(IHeaderDictionary headers, string headerName)
    {
        if (!headers.TryGetValue(headerName, out var values) || StringValues.IsNullOrEmpty(values))
        {
            return null;
        }

        if (values.Count != 1 || values[0]?.Contains(',', StringComparison.Ordinal) == true)
        {
            Log.IgnoredGrayHeader(_logger, headerName, "repeated header");
            return null;
        }

        var value = values[0];
        if (value is null || value.Length > MaxLaneLength)
        {
            Log.IgnoredGrayHeader(_logger, headerName, "value too long");
            return null;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                Log.IgnoredGrayHeader(_logger, headerName, "a lane name is letters, digits, '-', '_' and '.'");
                return null;
            }
        }

        return value;
    }

    internal GrayStatus? ReadStatus(IHeaderDictionary headers, string headerName)
    {
        if (!headers.TryGetValue(headerName, out var values) || StringValues.IsNullOrEmpty(values))
        {
            return null;
        }

        // Two header lines arrive as two values; proxies and HttpClient may fold them into one, comma-separated.
        if (values.Count != 1 || values[0]?.Contains(',', StringComparison.Ordinal) == true)
        {
            Log.IgnoredGrayHeader(_logger, headerName, "repeated header");
            return null;
        }

        var value = values[0];
        if (value is null || value.Length > GrayStatusParser.MaxWireLength)
        {
            Log.IgnoredGrayHeader(_logger, headerName, "value too long");
            return null;
        }

        if (!GrayStatusParser.TryParse(value, out var status))
        {
            Log.IgnoredGrayHeader(_logger, headerName, "unknown value");
            return null;
        }

        return status;
    }

    // Client libraries wrap what a handler throws (Refit: ApiRequestException; others: HttpRequestException).
    private static NoAvailableInstanceException? FindNoInstance(Exception? exception)
    {
        for (var depth = 0; exception is not null && depth < 8; depth++, exception = exception.InnerException)
        {
            if (exception is NoAvailableInstanceException noInstance)
            {
                return noInstance;
            }
        }

        return null;
    }

    private async Task InvokeNextAsync(HttpContext context)
    {
        try
        {
            await _next(context).ConfigureAwait(false);
        }
        catch (Exception thrown) when (!context.Response.HasStarted && FindNoInstance(thrown) is { } exception)
        {
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.ContentType = "application/problem+json";
            var problem = new NoInstanceProblem(
                "No instance of the wanted version is available.",
                StatusCodes.Status503ServiceUnavailable,
                exception.Message,
                exception.ServiceName,
                exception.WantedVersion,
                exception.AvailableVersions);
            await JsonSerializer.SerializeAsync(context.Response.Body, problem, GrayReleaseJsonContext.Default.NoInstanceProblem, context.RequestAborted).ConfigureAwait(false);
        }
    }
}
