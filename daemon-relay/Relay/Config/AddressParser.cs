using System.Globalization;
using System.Net;

namespace Relay.Config;

/// <summary>
/// Parses listen addresses the way the X-Ray SDKs spell <c>AWS_XRAY_DAEMON_ADDRESS</c>:
/// <c>host:port</c> (UDP and TCP on the same address) or <c>tcp:host:port udp:host:port</c> in
/// either order. Hosts are IP literals or <c>localhost</c>; no DNS is done for a bind address.
/// </summary>
public static class AddressParser
{
    /// <summary>Parses a single <c>host:port</c> (IPv6 as <c>[::1]:2000</c>).</summary>
    public static IPEndPoint ParseEndpoint(string text, string what)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text.Trim();
        if (string.Equals(value.Split(':')[0], "localhost", StringComparison.OrdinalIgnoreCase))
        {
            value = "127.0.0.1" + value[9..];
        }

        if (!IPEndPoint.TryParse(value, out var endpoint) || !HasPort(value))
        {
            throw new OptionsException($"{what}: '{text}' is not an address of the form host:port (for example 127.0.0.1:2000)");
        }

        if (endpoint.Port is < 0 or > 65535)
        {
            throw new OptionsException($"{what}: port {endpoint.Port.ToString(CultureInfo.InvariantCulture)} is out of range");
        }

        return endpoint;
    }

    /// <summary>
    /// Parses the SDK address form. Returns the UDP and TCP endpoints; a plain <c>host:port</c>
    /// gives the same endpoint for both.
    /// </summary>
    public static (IPEndPoint Udp, IPEndPoint Tcp) ParseDaemonAddress(string text, string what)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 1 && !HasScheme(parts[0]))
        {
            var both = ParseEndpoint(parts[0], what);
            return (both, both);
        }

        IPEndPoint? udp = null;
        IPEndPoint? tcp = null;
        foreach (var part in parts)
        {
            if (part.StartsWith("udp:", StringComparison.OrdinalIgnoreCase) && udp is null)
            {
                udp = ParseEndpoint(part[4..], what);
            }
            else if (part.StartsWith("tcp:", StringComparison.OrdinalIgnoreCase) && tcp is null)
            {
                tcp = ParseEndpoint(part[4..], what);
            }
            else
            {
                throw new OptionsException($"{what}: '{text}' must be host:port or 'tcp:host:port udp:host:port'");
            }
        }

        if (udp is null || tcp is null)
        {
            throw new OptionsException($"{what}: '{text}' must name both udp: and tcp: addresses");
        }

        return (udp, tcp);
    }

    private static bool HasScheme(string part) =>
        part.StartsWith("udp:", StringComparison.OrdinalIgnoreCase) || part.StartsWith("tcp:", StringComparison.OrdinalIgnoreCase);

    private static bool HasPort(string value)
    {
        // IPEndPoint.TryParse accepts "127.0.0.1" with port 0; a bind address must say its port.
        var close = value.LastIndexOf(']');
        var colon = value.LastIndexOf(':');
        return colon > close && colon < value.Length - 1 && (close >= 0 || value.IndexOf(':', StringComparison.Ordinal) == colon);
    }
}
