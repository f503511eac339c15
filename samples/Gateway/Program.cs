var builder = WebApplication.CreateBuilder(args);
builder.AddGrayRelease().AddNacos();

builder.Services.AddReverseProxy()
    .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
    .AddGrayRelease();

var app = builder.Build();
app.MapReverseProxy(proxy => proxy.UseGrayRouting());
app.Run();
