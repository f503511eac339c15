using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Moq;

namespace GrayRelease.Yarp.Tests.Rules;

/// <summary>Builds requests and runs the compiled rules on them, without a server.</summary>
internal static class RuleTestContext
{
    public static DefaultHttpContext Request(string remoteAddress = "203.0.113.10", params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(remoteAddress);
        foreach (var (name, value) in headers)
        {
            context.Request.Headers.Append(name, value);
        }

        return context;
    }

    public static DefaultHttpContext WithUser(this DefaultHttpContext context, params (string Type, string Value)[] claims)
    {
        var identity = new ClaimsIdentity(Array.ConvertAll(claims, c => new Claim(c.Type, c.Value)), authenticationType: "test");
        context.User = new ClaimsPrincipal(identity);
        return context;
    }

    public static GrayDecision Decide(GrayGatewayOptions options, HttpContext context, ICityResolver? cities = null, params IGrayRule[] customRules) =>
        GrayRuleSet.Compile(options, customRules, cities ?? Mock.Of<ICityResolver>()).Decide(context);

    public static GrayGatewayOptions Enabled(Action<GrayGatewayOptions>? configure = null)
    {
        // Header rule off unless a test turns it on, so each test exercises one rule.
        var options = new GrayGatewayOptions { Enabled = true, HeaderValue = null };
        configure?.Invoke(options);
        return options;
    }
}
