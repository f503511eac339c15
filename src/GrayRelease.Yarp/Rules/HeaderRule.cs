namespace GrayRelease.Yarp;

/// <summary>Gray when the configured header carries the configured value (the original gateway's header key rule).</summary>
internal sealed class HeaderRule(string headerName, string headerValue) : IGrayRule
{
    public string Name => "header";

    public bool IsGray(in GrayRuleContext context)
    {
        var values = context.HttpContext.Request.Headers[headerName];
        foreach (var value in values)
        {
            if (value is not null && value.AsSpan().Trim().SequenceEqual(headerValue))
            {
                return true;
            }
        }

        return false;
    }
}
