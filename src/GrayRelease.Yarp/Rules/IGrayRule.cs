namespace GrayRelease.Yarp;

/// <summary>
/// A rule that can send a request to the gray version. Register extra rules as singletons
/// (<c>services.AddSingleton&lt;IGrayRule, MyRule&gt;()</c>); they run after the configured ones, on every request, so
/// they must be fast and thread-safe.
/// </summary>
public interface IGrayRule
{
    /// <summary>Short, stable name used in logs and as the <c>rule</c> tag of the decision metric (keep the set small).</summary>
    string Name { get; }

    /// <summary>Whether the request must go to the gray version.</summary>
    bool IsGray(in GrayRuleContext context);
}
