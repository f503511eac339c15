namespace GrayRelease.LoadBalancing;

/// <summary>
/// The routable instances of one version (or of all versions) of a service, with a round-robin cursor.
/// Built once per instance-list change; a pick is an interlocked increment and an array read.
/// </summary>
internal sealed class InstanceGroup
{
    /// <summary>Upper bound on the length of a precomputed weighted schedule.</summary>
    internal const int MaxScheduleLength = 1 << 14;

    public static readonly InstanceGroup Empty = new([]);

    private readonly RoutableInstance[] _instances;

    // Indices into _instances in smooth weighted order; null when every weight is equal (plain round-robin).
    private readonly int[]? _schedule;
    private int _cursor = -1;

    public InstanceGroup(RoutableInstance[] instances)
    {
        _instances = instances;
        _schedule = BuildSchedule(instances);
    }

    public int Count => _instances.Length;

    public bool IsEmpty => _instances.Length == 0;

    public ReadOnlySpan<RoutableInstance> Instances => _instances;

    internal int[]? Schedule => _schedule;

    /// <summary>Picks the next instance in (weighted) round-robin order.</summary>
    public RoutableInstance Pick()
    {
        var schedule = _schedule;
        var next = (uint)Interlocked.Increment(ref _cursor);
        return schedule is null
            ? _instances[(int)(next % (uint)_instances.Length)]
            : _instances[schedule[(int)(next % (uint)schedule.Length)]];
    }

    /// <summary>Picks the next instance, skipping quarantined ones unless every instance is quarantined.</summary>
    public RoutableInstance Pick(long now)
    {
        var instances = _instances;
        var schedule = _schedule;
        var length = schedule?.Length ?? instances.Length;
        var start = (uint)Interlocked.Increment(ref _cursor);

        RoutableInstance? first = null;
        for (var attempt = 0u; attempt < (uint)length; attempt++)
        {
            var slot = (int)((start + attempt) % (uint)length);
            var candidate = instances[schedule is null ? slot : schedule[slot]];
            if (!candidate.IsQuarantined(now))
            {
                return candidate;
            }

            first ??= candidate;
        }

        // Every candidate failed recently: trying one is better than failing without a try.
        return first!;
    }

    /// <summary>
    /// Stride scheduling over integer weights: each instance appears in proportion to its weight, interleaved
    /// (for weights 5:1:1 the order is spread out, not five in a row), so a short burst is still fair.
    /// </summary>
    private static int[]? BuildSchedule(RoutableInstance[] instances)
    {
        if (instances.Length < 2)
        {
            return null;
        }

        var firstWeight = instances[0].Instance.Weight;
        var allEqual = true;
        foreach (var instance in instances)
        {
            if (instance.Instance.Weight != firstWeight)
            {
                allEqual = false;
                break;
            }
        }

        if (allEqual)
        {
            return null;
        }

        var weights = ToIntegerWeights(instances);
        var total = 0;
        foreach (var weight in weights)
        {
            total += weight;
        }

        var schedule = new int[total];
        var queue = new PriorityQueue<int, (double Pass, int Index)>(instances.Length);
        for (var i = 0; i < instances.Length; i++)
        {
            queue.Enqueue(i, (1.0 / weights[i], i));
        }

        for (var slot = 0; slot < total; slot++)
        {
            queue.TryDequeue(out var index, out var priority);
            schedule[slot] = index;
            queue.Enqueue(index, (priority.Pass + (1.0 / weights[index]), index));
        }

        return schedule;
    }

    private static int[] ToIntegerWeights(RoutableInstance[] instances)
    {
        // Two decimals of precision (Nacos weights are doubles such as 2.5), reduced by their common divisor.
        var weights = new int[instances.Length];
        long total = 0;
        var max = 0.0;
        foreach (var instance in instances)
        {
            max = Math.Max(max, instance.Instance.Weight);
        }

        var scale = 100.0;
        if (max * scale > int.MaxValue / 4)
        {
            scale = (int.MaxValue / 4) / max;
        }

        var divisor = 0;
        for (var i = 0; i < instances.Length; i++)
        {
            weights[i] = Math.Max(1, (int)Math.Round(instances[i].Instance.Weight * scale));
            divisor = divisor == 0 ? weights[i] : Gcd(divisor, weights[i]);
        }

        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] /= divisor;
            total += weights[i];
        }

        if (total > MaxScheduleLength)
        {
            // Keep the schedule bounded; proportions stay within one slot per instance.
            var shrink = (double)MaxScheduleLength / total;
            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] = Math.Max(1, (int)Math.Round(weights[i] * shrink));
            }
        }

        return weights;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
