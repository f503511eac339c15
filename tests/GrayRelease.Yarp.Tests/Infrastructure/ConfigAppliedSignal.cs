using Yarp.ReverseProxy.Configuration;

namespace GrayRelease.Yarp.Tests.Infrastructure;

/// <summary>Lets a test wait for YARP to apply a new configuration instead of sleeping.</summary>
internal sealed class ConfigAppliedSignal : IConfigChangeListener
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Arm before causing the change; the task completes when YARP has applied the configuration after it.</summary>
    public Task Next()
    {
        _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _next.Task;
    }

    public void ConfigurationApplied(IReadOnlyList<IProxyConfig> proxyConfigs) => _next.TrySetResult();

    public void ConfigurationApplyingFailed(IReadOnlyList<IProxyConfig> proxyConfigs, Exception exception) => _next.TrySetException(exception);

    public void ConfigurationLoaded(IReadOnlyList<IProxyConfig> proxyConfigs)
    {
    }

    public void ConfigurationLoadingFailed(IProxyConfigProvider configProvider, Exception exception) => _next.TrySetException(exception);
}
