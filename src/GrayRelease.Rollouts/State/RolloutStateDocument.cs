using System.Text.Json;
using System.Text.Json.Serialization;

namespace GrayRelease.Rollouts;

/// <summary>
/// The JSON of the rollout-state dataId. Operators may edit it (status, step) in the Nacos console: every gateway
/// follows what it holds; unknown fields are ignored and a document that does not parse is logged and ignored.
/// </summary>
internal sealed class RolloutStateDocument
{
    public const int MaxHistory = 100;

    public string GrayVersion { get; set; } = string.Empty;

    public string ProdVersion { get; set; } = string.Empty;

    public RolloutStatus Status { get; set; }

    /// <summary>Index into the configured steps (clamped when the steps change).</summary>
    public int Step { get; set; }

    /// <summary>The percentage of <see cref="Step"/> when written (informational: gateways derive it from the steps).</summary>
    public double Percentage { get; set; }

    public int FailedIntervals { get; set; }

    public long Revision { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }

    public RolloutVerdictDocument? LastVerdict { get; set; }

    /// <summary>Oldest first; the entries are immutable, so a snapshot shares them.</summary>
    public List<RolloutTransition> History { get; set; } = [];

    public RolloutStateDocument Clone() => JsonSerializer.Deserialize(JsonSerializer.Serialize(this, RolloutJsonContext.Default.RolloutStateDocument), RolloutJsonContext.Default.RolloutStateDocument)!;

    public void AddHistory(RolloutTransition entry)
    {
        History.Add(entry);
        if (History.Count > MaxHistory)
        {
            History.RemoveRange(0, History.Count - MaxHistory);
        }
    }
}

internal sealed class RolloutVerdictDocument
{
    public string Outcome { get; set; } = string.Empty;

    public string Reason { get; set; } = string.Empty;

    public string Figures { get; set; } = string.Empty;

    public DateTimeOffset At { get; set; }
}

/// <summary>The JSON of the lease dataId: who holds it, the term (increments on every takeover) and a renewal count.</summary>
internal sealed class RolloutLeaseDocument
{
    public string Holder { get; set; } = string.Empty;

    public long Term { get; set; }

    public long Renewal { get; set; }

    public DateTimeOffset RenewedAt { get; set; }

    public double DurationSeconds { get; set; }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, UseStringEnumConverter = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RolloutStateDocument))]
[JsonSerializable(typeof(RolloutLeaseDocument))]
[JsonSerializable(typeof(RolloutSnapshot))]
internal sealed partial class RolloutJsonContext : JsonSerializerContext;
