using System.Net;
using Relay.Config;

namespace Relay.Tests.Config;

public sealed class AddressParserTests
{
    [Theory]
    [InlineData("127.0.0.1:2000", "127.0.0.1", 2000)]
    [InlineData("localhost:2001", "127.0.0.1", 2001)]
    [InlineData("[::1]:2002", "::1", 2002)]
    [InlineData(" 0.0.0.0:0 ", "0.0.0.0", 0)]
    public void ParseEndpoint_ValidAddress_Parses(string text, string address, int port)
    {
        var endpoint = AddressParser.ParseEndpoint(text, "x");

        endpoint.Should().Be(new IPEndPoint(IPAddress.Parse(address), port));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:")]
    [InlineData("127.0.0.1:70000")]
    [InlineData("example.com:2000")]
    [InlineData("")]
    public void ParseEndpoint_Invalid_Throws(string text)
    {
        var act = () => AddressParser.ParseEndpoint(text, "x");

        act.Should().Throw<OptionsException>();
    }

    [Theory]
    [InlineData("127.0.0.1:2000", 2000, 2000)]
    [InlineData("tcp:127.0.0.1:2000 udp:127.0.0.1:2001", 2001, 2000)]
    [InlineData("udp:127.0.0.1:2001 tcp:127.0.0.1:2000", 2001, 2000)]
    public void ParseDaemonAddress_SdkForms_Parse(string text, int udpPort, int tcpPort)
    {
        var (udp, tcp) = AddressParser.ParseDaemonAddress(text, "x");

        udp.Port.Should().Be(udpPort);
        tcp.Port.Should().Be(tcpPort);
    }

    [Theory]
    [InlineData("udp:127.0.0.1:2001")]
    [InlineData("tcp:127.0.0.1:2000 tcp:127.0.0.1:2001")]
    [InlineData("http:127.0.0.1:2000 udp:127.0.0.1:2001")]
    public void ParseDaemonAddress_Incomplete_Throws(string text)
    {
        var act = () => AddressParser.ParseDaemonAddress(text, "x");

        act.Should().Throw<OptionsException>();
    }
}
