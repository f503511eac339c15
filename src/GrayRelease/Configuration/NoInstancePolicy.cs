namespace GrayRelease;

/// <summary>What the load balancer does when no instance of the wanted version is available.</summary>
public enum NoInstancePolicy
{
    /// <summary>Fail the call with <see cref="LoadBalancing.NoAvailableInstanceException"/> (503 through the middleware).</summary>
    Fail,

    /// <summary>
    /// Use the production version's instances instead; fail if there are none either. With no production version
    /// configured, PROD means any version, so this falls back to any routable instance.
    /// </summary>
    FallbackToProd,

    /// <summary>Use any routable instance, whatever its version; fail if there is none.</summary>
    FallbackToAll,
}
