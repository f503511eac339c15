namespace GrayRelease.Demo;

/// <summary>One request through the gateway and the versions that served it.</summary>
internal sealed record Hop(string Request, int Status, string OrderVersion, string UserVersion)
{
    public bool Succeeded => Status == 200;

    public string Path => $"{OrderVersion}→{UserVersion}";
}

/// <summary>What one scenario did and whether it behaved.</summary>
internal sealed record ScenarioReport(int Number, string Title, bool Passed, string Verdict, IReadOnlyList<Hop> Hops)
{
    public void WriteTo(TextWriter output, int maxRows = 12)
    {
        output.WriteLine();
        output.WriteLine($"Scenario {Number}: {Title}");
        if (Hops.Count > 0)
        {
            output.WriteLine($"  {"#",3}  {"request",-38} {"status",6}  {"order",-6} {"user",-6}");
            for (var i = 0; i < Hops.Count && i < maxRows; i++)
            {
                var hop = Hops[i];
                output.WriteLine($"  {i + 1,3}  {hop.Request,-38} {hop.Status,6}  {hop.OrderVersion,-6} {hop.UserVersion,-6}");
            }

            if (Hops.Count > maxRows)
            {
                output.WriteLine($"  ... {Hops.Count - maxRows} more; paths: {string.Join(", ", Hops.GroupBy(h => h.Succeeded ? h.Path : $"HTTP {h.Status}").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} ×{g.Count()}"))}");
            }
        }

        output.WriteLine($"  {(Passed ? "PASS" : "FAIL")}: {Verdict}");
    }
}
