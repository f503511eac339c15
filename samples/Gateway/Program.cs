using GrayRelease.Samples;

var builder = WebApplication.CreateBuilder(args);
builder.AddGrayRelease().AddNacos();

// The rollout is wired but off: it runs only when GrayRelease:Gateway:Rollout:Enabled is true (the demo publishes that
// in gateway-app.yaml); until then the configured Percentage applies and nothing is read from Nacos for it.
builder.Services.AddReverseProxy()
    .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
    .AddGrayRelease()
    .AddGrayReleaseRollout();

var app = builder.Build();
app.MapReverseProxy(proxy =>
{
    proxy.UseGrayRouting();
    proxy.UseGrayReleaseObservation();
});

// GET the rollout's status, POST pause | resume | abort | promote. A sample on loopback; a real gateway protects it:
// .RequireAuthorization("operators").
app.MapGrayReleaseRollout("/_gray/rollout");

// The operations page (rules, instances by lane and version, traffic per version, the rollout and its buttons); the same
// protection applies to it in a real gateway.
app.MapGrayReleaseDashboard("/_gray");
app.MapSoakDiagnostics();
app.Run();
