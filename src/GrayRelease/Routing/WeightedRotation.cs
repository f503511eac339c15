namespace GrayRelease.Routing;

/// <summary>
/// The one weighted rotation of GrayRelease: the members of one group (a version, or every version) with a cursor.
/// The weighted order is precomputed when the group is built, so a pick is an interlocked increment and two array
/// reads, whatever the number of members. The gateway derives its destination list from it.
/// </summary>
internal class WeightedRotation<T>
    where T : class
{
    /// <summary>Upper bound on the length of a precomputed weighted schedule.</summary>
    internal const int MaxScheduleLength = 1 << 14;

    private readonly RouteMember<T>[] _members;

    // Indices into _members in smooth weighted order; null when every weight is equal (plain round-robin).
    private readonly int[]? _schedule;
    private int _cursor = -1;

    public WeightedRotation(RouteMember<T>[] members)
    {
        _members = members;
        _schedule = BuildSchedule(members);
    }

    public int Count => _members.Length;

    public bool IsEmpty => _members.Length == 0;

    public ReadOnlySpan<RouteMember<T>> Instances => _members;

    /// <summary>Picks the next member in (weighted) round-robin order; the group must not be empty.</summary>
    public RouteMember<T> Pick()
    {
        var schedule = _schedule;
        var next = (uint)Interlocked.Increment(ref _cursor);
        return schedule is null
            ? _members[(int)(next % (uint)_members.Length)]
            : _members[schedule[(int)(next % (uint)schedule.Length)]];
    }

    /// <summary>Picks the next member, skipping quarantined ones unless every member is quarantined.</summary>
    public RouteMember<T> Pick(long now)
    {
        var members = _members;
        var schedule = _schedule;
        var length = schedule?.Length ?? members.Length;
        var start = (uint)Interlocked.Increment(ref _cursor);

        RouteMember<T>? first = null;
        for (var attempt = 0u; attempt < (uint)length; attempt++)
        {
            var slot = (int)((start + attempt) % (uint)length);
            var candidate = members[schedule is null ? slot : schedule[slot]];
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
    /// Stride scheduling over integer weights: each member appears in proportion to its weight, interleaved
    /// (for weights 5:1:1 the order is spread out, not five in a row), so a short burst is still fair.
    /// </summary>
    private static int[]? BuildSchedule(RouteMember<T>[] members)
    {
        if (members.Length < 2)
        {
            return null;
        }

        var firstWeight = members[0].Weight;
        var allEqual = true;
        foreach (var member in members)
        {
            if (member.Weight != firstWeight)
            {
                allEqual = false;
                break;
            }
        }

        if (allEqual)
        {
            return null;
        }

        var weights = ToIntegerWeights(members);
        var total = 0;
        foreach (var weight in weights)
        {
            total += weight;
        }

        var schedule = new int[total];
        var queue = new PriorityQueue<int, (double Pass, int Index)>(members.Length);
        for (var i = 0; i < members.Length; i++)
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

    private static int[] ToIntegerWeights(RouteMember<T>[] members)
    {
        // Two decimals of precision (Nacos weights are doubles such as 2.5), reduced by their common divisor.
        var weights = new int[members.Length];
        long total = 0;
        var max = 0.0;
        foreach (var member in members)
        {
            max = Math.Max(max, member.Weight);
        }

        var scale = 100.0;
        if (max * scale > int.MaxValue / 4)
        {
            scale = (int.MaxValue / 4) / max;
        }

        var divisor = 0;
        for (var i = 0; i < members.Length; i++)
        {
            weights[i] = Math.Max(1, (int)Math.Round(members[i].Weight * scale));
            divisor = divisor == 0 ? weights[i] : Gcd(divisor, weights[i]);
        }

        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] /= divisor;
            total += weights[i];
        }

        if (total > MaxScheduleLength)
        {
            // Keep the schedule bounded; proportions stay within one slot per member.
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
