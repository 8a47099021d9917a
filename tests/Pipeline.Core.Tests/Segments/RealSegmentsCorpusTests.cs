using Pipeline.Core.Segments;
using Pipeline.Testing;

namespace Pipeline.Core.Tests.Segments;

/// <summary>
/// Every document of ../shared/corpus/real-segments gets its MANIFEST verdict. `either` rows are
/// decided here, with the reason:
/// - 042..046 (the .NET SDK fixtures' trace epoch 0x11111111 = 1979): valid. A trace id's first 8 hex digits are random when the trace began in an
///   OpenTelemetry service without the X-Ray ID generator, so the archive cannot tell such data
///   from a broken generator; it keeps both, and X-Ray forwarding counts them as traces without an
///   epoch (SegmentValidator.RequirePlausibleTraceEpoch).
/// - 053 (Go SDK, uppercase hex epoch): valid; hex is case-insensitive and the relay's
///   TraceIdSniffer already accepts it, so ingest must not quarantine what the relay forwarded.
/// - 054, 055 (Python SDK, end_time plus in_progress=false): valid; a complete segment.
/// </summary>
public sealed class RealSegmentsCorpusTests
{
    /// <summary>A fixed clock after every trace epoch in the corpus (newest: July 2026).</summary>
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static readonly Dictionary<string, SegmentRejectReason> ExpectedRejections = new()
    {
        ["004"] = SegmentRejectReason.InvalidJson,
        ["005"] = SegmentRejectReason.InvalidJson,
        ["006"] = SegmentRejectReason.MissingTraceId,
        ["008"] = SegmentRejectReason.InvalidJson,
        ["009"] = SegmentRejectReason.MissingTraceId,
        ["010"] = SegmentRejectReason.InvalidJson,
        ["011"] = SegmentRejectReason.MissingTraceId,
        ["012"] = SegmentRejectReason.InvalidJson,
        ["013"] = SegmentRejectReason.InvalidJson,
        ["047"] = SegmentRejectReason.MissingTraceId,
        ["048"] = SegmentRejectReason.MissingTraceId,
        ["049"] = SegmentRejectReason.MissingTraceId,
        ["050"] = SegmentRejectReason.MissingTraceId,
        ["051"] = SegmentRejectReason.InvalidTraceId,
        ["056"] = SegmentRejectReason.MissingName,
        ["057"] = SegmentRejectReason.MissingParentId,
        ["058"] = SegmentRejectReason.MissingParentId,
        ["059"] = SegmentRejectReason.MissingParentId,
    };

    public static TheoryData<string, string> Manifest()
    {
        var data = new TheoryData<string, string>();
        foreach (var line in File.ReadLines(Path.Combine(RepoPaths.RealSegmentsCorpus, "MANIFEST.tsv")).Skip(1))
        {
            var columns = line.Split('\t');
            if (columns.Length >= 4)
            {
                data.Add(columns[0], columns[3]);
            }
        }

        return data;
    }

    [Fact]
    public void Manifest_ListsAll44Documents()
    {
        Manifest().Should().HaveCount(44);
    }

    [Theory]
    [MemberData(nameof(Manifest))]
    public void ParseAndValidate_RealDocument_GetsManifestVerdict(string file, string verdict)
    {
        var bytes = File.ReadAllBytes(Path.Combine(RepoPaths.RealSegmentsCorpus, file));
        var key = Path.GetFileName(file)[..3];

        var result = SegmentValidator.ParseAndValidate(bytes, Now);

        var expectValid = verdict switch
        {
            "valid" => true,
            "invalid" => false,
            _ => !ExpectedRejections.ContainsKey(key),
        };
        if (expectValid)
        {
            result.IsOk.Should().BeTrue($"{file} is valid but was rejected: {result.Rejection}");
            ExpectedRejections.Should().NotContainKey(key);
        }
        else
        {
            result.IsOk.Should().BeFalse($"{file} is {verdict}");
            ExpectedRejections.Should().ContainKey(key, $"every rejection needs its expected reason; got {result.Rejection}");
            result.Rejection.Reason.Should().Be(ExpectedRejections[key], file);
            result.Rejection.Path.Should().StartWith("$");
        }
    }
}
