using GrayRelease.Nacos.Emulator.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator.Http;

/// <summary>Applies <see cref="NacosEmulatorFaults"/> to each call, before anything else runs.</summary>
internal sealed class FaultMiddleware
{
    private readonly NacosEmulatorFaults _faults;
    private readonly ILogger _logger;
    private readonly Func<CancellationToken> _stopping;

    public FaultMiddleware(NacosEmulatorFaults faults, ILogger logger, Func<CancellationToken> stopping)
    {
        _faults = faults;
        _logger = logger;
        _stopping = stopping;
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        if (!_faults.AppliesTo(path))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping());
        try
        {
            await HangWhileSetAsync(path, cancellation.Token).ConfigureAwait(false);
            if (_faults.ResponseDelay > TimeSpan.Zero && _faults.AppliesTo(path))
            {
                Log.FaultInjected(_logger, path, "delay");
                await Task.Delay(_faults.ResponseDelay, cancellation.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            context.Abort();
            return;
        }

        if (_faults.ServerErrors && _faults.AppliesTo(path))
        {
            Log.FaultInjected(_logger, path, "server error");
            await Responses.Text(context, _faults.ServerErrorStatusCode, "emulated server error (NacosEmulatorFaults.ServerErrors)").ConfigureAwait(false);
            return;
        }

        if (_faults.MalformedBodies && _faults.AppliesTo(path))
        {
            Log.FaultInjected(_logger, path, "malformed body");
            await WriteMalformedAsync(context, next).ConfigureAwait(false);
            return;
        }

        await next(context).ConfigureAwait(false);
    }

    private async Task HangWhileSetAsync(string path, CancellationToken cancellationToken)
    {
        var logged = false;
        while (true)
        {
            // Take the signal before reading the flags, so a change in between is not missed.
            var changed = _faults.WhenChanged();
            if (!_faults.Hang || !_faults.AppliesTo(path))
            {
                return;
            }

            if (!logged)
            {
                Log.FaultInjected(_logger, path, "hang");
                logged = true;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task WriteMalformedAsync(HttpContext context, RequestDelegate next)
    {
        var original = context.Response.Body;
        using var captured = new MemoryStream();
        context.Response.Body = captured;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            context.Response.Body = original;
        }

        var body = captured.ToArray();
        var truncated = body.AsSpan(0, body.Length / 2).ToArray();
        byte[] garbage = [.. truncated, .. "\u0000#garbage{"u8];
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = Responses.JsonContentType;
        context.Response.ContentLength = garbage.Length;
        await original.WriteAsync(garbage, context.RequestAborted).ConfigureAwait(false);
    }
}
