namespace GrayRelease.Yarp.Tests.Infrastructure;

/// <summary>A backend's answer: which version and port served the request, and the gray and lane headers it received.</summary>
internal readonly record struct Reply(int Status, string Version, int Port, string Gray, string Lane = "")
{
    public static Reply Parse((int Status, string Body) response)
    {
        var parts = response.Body.Split(' ');
        return parts.Length is 3 or 4 && int.TryParse(parts[1], out var port)
            ? new Reply(response.Status, parts[0], port, parts[2], parts.Length == 4 ? parts[3] : string.Empty)
            : new Reply(response.Status, string.Empty, 0, response.Body);
    }
}
