using System.Collections.Frozen;

namespace GrayRelease.Yarp;

/// <summary>Gray when the user id is in <see cref="GrayGatewayOptions.UserIdList"/>.</summary>
internal sealed class UserIdRule(FrozenSet<string> userIds) : IGrayRule
{
    public string Name => "user";

    public bool IsGray(in GrayRuleContext context) => context.UserId is { } userId && userIds.Contains(userId);
}
