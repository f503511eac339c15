using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Registration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GrayRelease.Nacos.Configuration;

/// <summary>Validates <see cref="NacosOptions"/> at start-up; every failure names the configuration key and the value.</summary>
/// <param name="environment">Gives the application name, the default of <c>nacos:ServiceName</c>, when a host runs.</param>
internal sealed class NacosOptionsValidator(IHostEnvironment? environment = null) : IValidateOptions<NacosOptions>
{
    public ValidateOptionsResult Validate(string? name, NacosOptions options)
    {
        var failures = new List<string>();
        var servers = options.GetServerAddresses();
        if (servers.Count == 0)
        {
            failures.Add(NacosOptionsValidatorMessages.NoServers(options));
        }

        for (var i = 0; i < servers.Count; i++)
        {
            if (!NacosServerAddress.TryParse(servers[i], out _))
            {
                failures.Add($"nacos:ServerAddresses:{i} must be an absolute http(s) address such as http://127.0.0.1:8848; got '{servers[i]}'.");
            }
        }

        if (options.Port is < 0 or > 65535)
        {
            failures.Add($"nacos:Port must be between 0 (the bound port) and 65535; got '{options.Port}'.");
        }

        if (options.InstanceGrpcPort is < 0 or > 65535)
        {
            failures.Add($"nacos:InstanceGrpcPort must be between 0 (none, or the endpoint marked with PublishAsNacosGrpcPort()) and 65535; got '{options.InstanceGrpcPort}'.");
        }

        if (string.IsNullOrWhiteSpace(options.GrpcPortMetadataKey) || options.GrpcPortMetadataKey.Trim().Length != options.GrpcPortMetadataKey.Length)
        {
            failures.Add($"nacos:GrpcPortMetadataKey must be a metadata key without surrounding spaces (usually 'gRPC_port'); got '{options.GrpcPortMetadataKey}'.");
        }

        if (!string.IsNullOrEmpty(options.Ip) && !System.Net.IPAddress.TryParse(options.Ip, out _))
        {
            failures.Add($"nacos:Ip must be an IP address; got '{options.Ip}'.");
        }

        if (!string.IsNullOrEmpty(options.UdpHost) && !System.Net.IPAddress.TryParse(options.UdpHost.Trim('[', ']'), out _))
        {
            failures.Add($"nacos:UdpHost must be an IP address (the server pushes to exactly this address); got '{options.UdpHost}'.");
        }

        if (options.UdpPort is < 0 or > 65535)
        {
            failures.Add($"nacos:UdpPort must be between 0 (any free port) and 65535; got '{options.UdpPort}'.");
        }

        foreach (var sender in (options.UdpTrustedSenders ?? string.Empty).Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!System.Net.IPAddress.TryParse(sender, out _))
            {
                failures.Add($"nacos:UdpTrustedSenders must be comma-separated IP addresses; got '{sender}' in '{options.UdpTrustedSenders}'.");
            }
        }

        if (!double.IsFinite(options.Weight) || options.Weight < 0 || options.Weight > NacosRegistrationRules.MaxWeight)
        {
            failures.Add($"nacos:Weight must be a number from 0 to 10000 (the server refuses others); got '{options.Weight}'.");
        }

        Grpc.NacosGrpcServer.Validate(options, failures);

        if (options.DefaultTimeOut <= 0)
        {
            failures.Add($"nacos:DefaultTimeOut must be a positive number of milliseconds; got '{options.DefaultTimeOut}'.");
        }

        if (options.ListenInterval <= 0)
        {
            failures.Add($"nacos:ListenInterval must be a positive number of milliseconds; got '{options.ListenInterval}'.");
        }

        if (options.V3PollInterval < TimeSpan.FromMilliseconds(100) || options.V3PollInterval > TimeSpan.FromMinutes(1))
        {
            failures.Add($"nacos:V3PollInterval must be between 00:00:00.1 and 00:01:00; got '{options.V3PollInterval}'.");
        }

        if (options.MaxServices is < 1 or > 1_000_000)
        {
            failures.Add($"nacos:MaxServices must be between 1 and 1000000 (services cached, subscribed and polled); got '{options.MaxServices}'.");
        }

        if (options.RecoveryGrace < TimeSpan.Zero)
        {
            failures.Add($"nacos:RecoveryGrace must not be negative; got '{options.RecoveryGrace}'.");
        }

        if (options.DrainDelay < TimeSpan.Zero)
        {
            failures.Add($"nacos:DrainDelay must not be negative; got '{options.DrainDelay}'.");
        }

        if (string.IsNullOrWhiteSpace(options.GroupName))
        {
            failures.Add($"nacos:GroupName must not be empty; got '{options.GroupName}'.");
        }
        else
        {
            AddIfFailed(failures, NacosRegistrationRules.CheckGroup(options.GroupName));
        }

        if (!string.IsNullOrWhiteSpace(options.ServiceName))
        {
            AddIfFailed(failures, NacosRegistrationRules.CheckServiceName(options.ServiceName, "nacos:ServiceName"));
        }
        else if (options.RegisterEnabled && !string.IsNullOrEmpty(environment?.ApplicationName))
        {
            AddIfFailed(failures, NacosRegistrationRules.CheckServiceName(
                environment.ApplicationName, "nacos:ServiceName (unset, so the application name)"));
        }

        AddIfFailed(failures, NacosRegistrationRules.CheckCluster(options.ClusterName));
        AddIfFailed(failures, NacosRegistrationRules.CheckNamespace(options.Namespace));
        var metadata = new Dictionary<string, string>(options.Metadata, StringComparer.Ordinal);
        if (options.Secure)
        {
            metadata["secure"] = "true";
        }

        AddIfFailed(failures, NacosRegistrationRules.CheckMetadata(metadata));
        AddIfFailed(failures, NacosRegistrationRules.CheckHeartbeatMetadata(metadata));

        if (!string.IsNullOrEmpty(options.UserName) && string.IsNullOrEmpty(options.Password))
        {
            failures.Add($"nacos:Password must be set when nacos:UserName is set (user '{options.UserName}').");
        }

        for (var i = 0; i < options.Listeners.Count; i++)
        {
            var listener = options.Listeners[i];
            if (!NacosConfigKey.IsValidName(listener.DataId))
            {
                failures.Add($"nacos:Listeners:{i}:DataId must be letters, digits and _ . - : only; got '{listener.DataId}'.");
            }

            if (!NacosConfigKey.IsValidName(listener.Group))
            {
                failures.Add($"nacos:Listeners:{i}:Group must be letters, digits and _ . - : only; got '{listener.Group}'.");
            }

            if (listener.Type is not null && ConfigFormats.Find(listener.Type) is null)
            {
                failures.Add($"nacos:Listeners:{i}:Type must be json, yaml or properties; got '{listener.Type}'.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void AddIfFailed(List<string> failures, string? failure)
    {
        if (failure is not null)
        {
            failures.Add(failure);
        }
    }
}

/// <summary>Messages shared by the validator and the client (which may be built before options are validated).</summary>
internal static class NacosOptionsValidatorMessages
{
    public static string NoServers(NacosOptions options) =>
        $"nacos:ServerAddresses must contain at least one absolute http(s) address; got '{string.Join(",", options.ServerAddresses)}'.";
}
