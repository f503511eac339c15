namespace GrayRelease.Demo;

/// <summary>
/// One request through the gateway, the versions (and lanes: null = the baseline) that served it, and a failure's detail;
/// <paramref name="Grpc"/>: order-app called user-app over gRPC (<c>/orders/{id}/grpc</c>), not REST.
/// </summary>
internal sealed record Hop(string Request, int Status, string OrderVersion, string UserVersion, string? OrderLane = null, string? UserLane = null, string? Detail = null, bool Grpc = false)
{
    public bool Succeeded => Status == 200;

    /// <summary>
    /// Paths and their counts (<c>V1→V1 ×6, HTTP 503 ×2</c>); when some hops went over gRPC, REST and gRPC apart
    /// (<c>REST V1→V1 ×6; gRPC V1→V1 ×6</c>), so a table shows that both ways behaved.
    /// </summary>
    public static string Summarize(IEnumerable<Hop> hops)
    {
        var list = hops as IReadOnlyCollection<Hop> ?? [.. hops];
        if (!list.Any(h => h.Grpc))
        {
            return Count(list);
        }

        return $"REST {Count(list.Where(h => !h.Grpc))}; gRPC {Count(list.Where(h => h.Grpc))}";

        static string Count(IEnumerable<Hop> some) =>
            string.Join(", ", some.GroupBy(h => h.Succeeded ? h.Path : $"HTTP {h.Status}").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} ×{g.Count()}"));
    }

    /// <summary>Versions hop by hop (<c>V1→V2</c>); a hop served in a lane shows the lane instead (<c>V1→feature-a</c>).</summary>
    public string Path => $"{OrderLane ?? OrderVersion}→{UserLane ?? UserVersion}";

    /// <summary>True when any hop was served by an instance in a lane.</summary>
    public bool InAnyLane => OrderLane is not null || UserLane is not null;

    public string OrderServed => Served(OrderVersion, OrderLane);

    public string UserServed => Served(UserVersion, UserLane);

    private string Served(string version, string? lane) => !Succeeded ? version : lane is null ? $"{version} baseline" : $"{version} {lane}";
}

/// <summary>
/// What one scenario did and whether it behaved; <paramref name="ShowLanes"/> prints each hop's lane beside its version;
/// <paramref name="Timeline"/> (rollouts) is printed as it is, before the verdict.
/// </summary>
internal sealed record ScenarioReport(int Number, string Title, bool Passed, string Verdict, IReadOnlyList<Hop> Hops, bool ShowLanes = false, IReadOnlyList<string>? Timeline = null)
{
    public void WriteTo(TextWriter output, int maxRows = 12)
    {
        output.WriteLine();
        output.WriteLine($"Scenario {Number}: {Title}");
        foreach (var line in Timeline ?? [])
        {
            output.WriteLine("  " + line);
        }

        if (Hops.Count > 0)
        {
            if (ShowLanes)
            {
                output.WriteLine($"  {"#",3}  {"request",-62} {"status",6}  {"order-app",-16} {"user-app",-16}");
            }
            else
            {
                output.WriteLine($"  {"#",3}  {"request",-44} {"status",6}  {"order",-6} {"user",-6}");
            }

            for (var i = 0; i < Hops.Count && i < maxRows; i++)
            {
                var hop = Hops[i];
                output.WriteLine(ShowLanes
                    ? $"  {i + 1,3}  {hop.Request,-62} {hop.Status,6}  {hop.OrderServed,-16} {hop.UserServed,-16}"
                    : $"  {i + 1,3}  {hop.Request,-44} {hop.Status,6}  {hop.OrderVersion,-6} {hop.UserVersion,-6}");
            }

            if (Hops.Count > maxRows)
            {
                output.WriteLine($"  ... {Hops.Count - maxRows} more; paths: {Hop.Summarize(Hops)}");
            }
        }

        output.WriteLine($"  {(Passed ? "PASS" : "FAIL")}: {Verdict}");
    }
}
