using System.Text;
using Pipeline.Core.Traces;
using Pipeline.Testing.Builders;

namespace Pipeline.Core.Tests.Traces;

/// <summary>The demo-like faulted trace of <see cref="DemoTrace"/> at <see cref="SegmentBuilder.DefaultStart"/>, and helpers.</summary>
internal static class TraceFixtures
{
    public const string SegmentA = DemoTrace.SegmentA;
    public const string CallB = DemoTrace.CallB;
    public const string SegmentB = DemoTrace.SegmentB;
    public const string Dynamo = DemoTrace.Dynamo;
    public const string Independent = DemoTrace.Independent;

    public static readonly DateTimeOffset Start = SegmentBuilder.DefaultStart;
    public static readonly string TraceId = DemoTrace.TraceId(Start);

    public static double T(double ms) => (Start.ToUnixTimeMilliseconds() + ms) / 1000.0;

    public static IReadOnlyList<string> FaultedTrace() => DemoTrace.Documents(Start, TraceId);

    public static TraceTree Assemble(IEnumerable<string> lines, string? traceId = null) =>
        TraceAssembler.Assemble(traceId ?? TraceId, lines.Select(l => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(l)));

    public static TraceSpan Span(this TraceTree tree, string id) => tree.Spans.Single(s => s.Id == id);
}
