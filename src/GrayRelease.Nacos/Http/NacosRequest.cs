namespace GrayRelease.Nacos.Http;

/// <summary>One call to the Nacos Open API, relative to the context path (e.g. <c>v1/ns/instance</c>).</summary>
internal sealed class NacosRequest(HttpMethod method, string path)
{
    public HttpMethod Method { get; } = method;

    public string Path { get; } = path;

    public List<KeyValuePair<string, string>> Query { get; } = [];

    /// <summary>Form fields; when non-null the body is <c>application/x-www-form-urlencoded</c>.</summary>
    public List<KeyValuePair<string, string>>? Form { get; set; }

    public List<KeyValuePair<string, string>> Headers { get; } = [];

    /// <summary>Overrides <see cref="NacosOptions.DefaultTimeOut"/> (long polls).</summary>
    public TimeSpan? Timeout { get; set; }

    public NacosRequest WithQuery(string name, string? value)
    {
        Query.Add(new(name, value ?? string.Empty));
        return this;
    }

    public NacosRequest WithForm(string name, string? value)
    {
        (Form ??= []).Add(new(name, value ?? string.Empty));
        return this;
    }
}
