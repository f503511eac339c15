using System.Text.Json;

namespace GrayRelease.Rollouts.Tests;

/// <summary>The rollout-state dataId is read by every gateway and edited by operators: its JSON must not drift.</summary>
public sealed class StateDocumentTests
{
    private const string Written = """
        {
          "grayVersion": "v2",
          "prodVersion": "v1",
          "status": "Progressing",
          "step": 1,
          "percentage": 10,
          "failedIntervals": 0,
          "revision": 3,
          "updatedAt": "2026-11-30T10:00:00+00:00",
          "updatedBy": "gw-1",
          "lastVerdict": {
            "outcome": "Pass",
            "reason": "no difference",
            "figures": "n=100",
            "at": "2026-11-30T10:00:00+00:00"
          },
          "history": [
            {
              "at": "2026-11-30T09:59:00+00:00",
              "from": "Progressing",
              "to": "Progressing",
              "fromStep": 0,
              "toStep": 1,
              "percentage": 10,
              "reason": "interval passed",
              "figures": "n=100",
              "by": "gw-1"
            },
            {
              "at": "2026-11-30T09:58:00+00:00",
              "from": "Paused",
              "to": "Progressing",
              "fromStep": 0,
              "toStep": 0,
              "percentage": 1,
              "reason": "RESUME by operator"
            }
          ]
        }
        """;

    [Fact]
    public void The_state_document_reads_and_writes_back_the_same_json()
    {
        var state = JsonSerializer.Deserialize(Written, RolloutJsonContext.Default.RolloutStateDocument)!;

        Assert.Equal(2, state.History.Count);
        Assert.Equal((RolloutStatus.Paused, RolloutStatus.Progressing, "RESUME by operator"), (state.History[1].From, state.History[1].To, state.History[1].Reason));
        Assert.Null(state.History[1].Figures);
        Assert.Equal(Written.ReplaceLineEndings("\n"), JsonSerializer.Serialize(state, RolloutJsonContext.Default.RolloutStateDocument).ReplaceLineEndings("\n"));
        Assert.Equal(Written.ReplaceLineEndings("\n"), JsonSerializer.Serialize(state.Clone(), RolloutJsonContext.Default.RolloutStateDocument).ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_history_entry_an_operator_wrote_without_a_reason_reads_as_an_empty_reason()
    {
        const string edited = """{"grayVersion":"v2","prodVersion":"v1","status":"Paused","history":[{"from":"Progressing","to":"Paused"}]}""";

        var state = JsonSerializer.Deserialize(edited, RolloutJsonContext.Default.RolloutStateDocument)!;

        var entry = Assert.Single(state.History);
        Assert.Equal(string.Empty, entry.Reason);
        Assert.Equal(RolloutStatus.Paused, entry.To);
    }
}
