namespace GrayRelease.Yarp.Tests.Infrastructure;

/// <summary>A backend's answer: which version and port served the request, and the gray header it received.</summary>
internal readonly record struct Reply(int Status, string Version, int Port, string Gray)
{
    public static Reply Parse((int Status, string Body) response)
    {
        var parts = response.Body.Split(' ');
        return parts.Length == 3 && int.TryParse(parts[1], out var port)
            ? new Reply(response.Status, parts[0], port, parts[2])
            : new Reply(response.Status, string.Empty, 0, response.Body);
    }
}
