using FsCheck.Xunit;
using Pipeline.Core.Otlp;
using Pipeline.Core.Segments;

namespace Pipeline.Core.Tests.Otlp;

public sealed class SpanConverterPropertyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Any decodable request: every span ends in exactly one valid document or in the quarantine with a reason; nothing throws.</summary>
    [Property(MaxTest = 400)]
    public bool Convert_AnyDecodableRequest_GivesValidDocumentsOrReasonedQuarantine(int seed, bool validIds)
    {
        var bytes = OtlpProtobufEncoder.Encode(OtlpModels.Random(seed, validIds));
        var request = OtlpProtobufDecoder.Decode(bytes).Request!;

        var conversion = SpanConverter.Convert(request);

        var accounted = conversion.ConvertedSpans + conversion.Quarantined.Count == request.SpanCount;
        var valid = conversion.Documents.All(d => SegmentValidator.ParseAndValidate(d.Document, Now, SpanConverterTests.AnyEpoch).IsOk);
        var reasoned = conversion.Quarantined.All(q => q.Problem != OtlpSpanProblem.None && OtlpProtobufDecoder.Decode(q.Original).Request!.SpanCount == 1);
        var allGoodSpansConverted = !validIds || conversion.Quarantined.All(q => q.Problem == OtlpSpanProblem.DocumentTooLarge);
        return accounted && valid && reasoned && allGoodSpansConverted;
    }
}
