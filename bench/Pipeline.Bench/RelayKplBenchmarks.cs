using System.Text;
using BenchmarkDotNet.Attributes;
using Pipeline.Core.Kpl;
using Pipeline.Core.Wire;

namespace Pipeline.Bench;

/// <summary>
/// The relay's per-segment work that is pure code: header split + trace id sniff, and KPL packing
/// and unpacking of 700-byte segments (the ingest de-aggregates every record).
/// `dotnet run -c Release --project bench/Pipeline.Bench -- --filter '*RelayKpl*'`
/// </summary>
[MemoryDiagnoser]
public class RelayKplBenchmarks
{
    private byte[][] _segments = [];
    private string[] _keys = [];
    private byte[] _datagram = [];
    private byte[] _aggregated = [];

    [GlobalSetup]
    public void Setup()
    {
        _segments = new byte[70][];
        _keys = new string[70];
        for (var i = 0; i < _segments.Length; i++)
        {
            _keys[i] = $"1-5f84c7a4-{i / 5:x24}";
            _segments[i] = Encoding.UTF8.GetBytes($"{{\"trace_id\":\"{_keys[i]}\",\"id\":\"{i:x16}\",\"name\":\"service-a\",\"start_time\":1700000000.1,\"end_time\":1700000000.2,\"metadata\":{{\"pad\":\"{new string('x', 560)}\"}}}}");
        }

        _datagram = [.. "{\"format\":\"json\",\"version\":1}\n"u8, .. _segments[0]];
        _aggregated = Aggregate();
    }

    [Benchmark]
    public int SplitAndSniff()
    {
        Datagram.TrySplit(_datagram, out var body);
        return TraceIdSniffer.Find(_datagram.AsSpan()[body]).Length;
    }

    /// <summary>70 segments of ~700 bytes: one 51,200-byte aggregated record, as the relay packs.</summary>
    [Benchmark]
    public byte[] Aggregate()
    {
        var aggregator = new KplAggregator(51_200);
        for (var i = 0; i < _segments.Length; i++)
        {
            aggregator.TryAdd(_keys[i], null, _segments[i]);
        }

        return aggregator.Build();
    }

    [Benchmark]
    public int Deaggregate() => KplDeaggregator.Deaggregate(_aggregated, _keys[0]).Records.Count;
}
