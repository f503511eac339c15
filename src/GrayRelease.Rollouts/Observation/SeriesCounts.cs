namespace GrayRelease.Rollouts;

/// <summary>Outcome counts (indexed by <see cref="Outcome"/>) and a latency histogram (<see cref="LatencyBuckets"/>): cumulative, or the difference of two reads.</summary>
internal sealed class SeriesCounts
{
    public static readonly SeriesCounts Empty = new(new long[GrayRelease.Rollouts.Outcomes.Count], new long[LatencyBuckets.Count]);

    public SeriesCounts(long[] outcomes, long[] latency)
    {
        Outcomes = outcomes;
        Latency = latency;
    }

    public long[] Outcomes { get; }

    public long[] Latency { get; }

    public long Requests => Outcomes[0] + Outcomes[1] + Outcomes[2] + Outcomes[3];

    /// <summary>5xx and transport errors: what counts against a version (4xx is the caller's doing).</summary>
    public long Errors => Outcomes[(int)Outcome.ServerError] + Outcomes[(int)Outcome.TransportError];

    public SeriesCounts Minus(SeriesCounts earlier)
    {
        var outcomes = new long[Outcomes.Length];
        for (var i = 0; i < outcomes.Length; i++)
        {
            outcomes[i] = Math.Max(0, Outcomes[i] - earlier.Outcomes[i]);
        }

        var latency = new long[Latency.Length];
        for (var i = 0; i < latency.Length; i++)
        {
            latency[i] = Math.Max(0, Latency[i] - earlier.Latency[i]);
        }

        return new SeriesCounts(outcomes, latency);
    }

    public SeriesCounts Plus(SeriesCounts other)
    {
        var outcomes = new long[Outcomes.Length];
        for (var i = 0; i < outcomes.Length; i++)
        {
            outcomes[i] = Outcomes[i] + other.Outcomes[i];
        }

        var latency = new long[Latency.Length];
        for (var i = 0; i < latency.Length; i++)
        {
            latency[i] = Latency[i] + other.Latency[i];
        }

        return new SeriesCounts(outcomes, latency);
    }
}
