using GrayRelease.Nacos.Emulator.Push;

namespace GrayRelease.Nacos.Emulator.Tests;

public sealed class ClientAgentTests
{
    [Theory]
    [InlineData("Nacos-Java-Client:v1.0.0", true)]
    [InlineData("Nacos-Java-Client:v0.1.0", true)]
    [InlineData("Nacos-Java-Client:v0.0.9", false)]
    [InlineData("Nacos-Go-Client:v2.2.1", true)]
    [InlineData("Nacos-C-Client:v1.0.12", true)]
    [InlineData("Nacos-C-Client:v1.0.11", false)]
    [InlineData("Nacos-CSharp-Client:v0.9.0", true)]
    [InlineData("Nacos-CSharp-Client:v0.8.9", false)]
    [InlineData("Nacos-CSharp-Client:v1.3.10-beta", true)]
    [InlineData("Nacos-DNS:v0.4.3", true)]
    [InlineData("Nacos-Php-Client:v1.0.0", false)]
    [InlineData("Nacos-Java-Client", false)]
    [InlineData("Mozilla/5.0", false)]
    [InlineData("", false)]
    public void Push_is_enabled_only_for_known_clients_at_their_minimum_version(string agent, bool expected)
    {
        Assert.Equal(expected, ClientAgent.CanPush(agent));
    }
}
