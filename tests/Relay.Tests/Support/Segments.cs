using System.Globalization;
using System.Text;

namespace Relay.Tests.Support;

/// <summary>Builds X-Ray daemon datagrams and segment documents for tests.</summary>
internal static class Segments
{
    public const string Header = "{\"format\":\"json\",\"version\":1}";

    public static string TraceId(int n) => $"1-5f84c7a4-{n.ToString("x24", CultureInfo.InvariantCulture)}";

    public static string Document(string traceId, int n, int padding = 0) =>
        "{\"trace_id\":\"" + traceId + "\",\"id\":\"" + n.ToString("x16", CultureInfo.InvariantCulture)
        + "\",\"name\":\"svc\",\"start_time\":1700000000.5,\"end_time\":1700000001.5,\"metadata\":{\"pad\":\"" + new string('x', padding) + "\"}}";

    public static byte[] Datagram(string traceId, int n, int padding = 0) => Encoding.UTF8.GetBytes(Header + "\n" + Document(traceId, n, padding));
}
