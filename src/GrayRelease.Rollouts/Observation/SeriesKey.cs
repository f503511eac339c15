namespace GrayRelease.Rollouts;

/// <summary>What the observer counts by: the service (cluster), the destination's version and the request's lane ("" = none).</summary>
internal readonly record struct SeriesKey(string Service, string Version, string Lane);
