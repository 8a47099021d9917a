using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Pipeline.Core.Segments;

namespace Pipeline.Core.Tests.Segments;

public sealed class SegmentParserPropertyTests
{
    [Property(MaxTest = 1000)]
    public bool Parse_ArbitraryBytes_NeverThrows(byte[] bytes)
    {
        var result = SegmentValidator.ParseAndValidate(bytes, SegmentGenerators.Now);
        return result.IsOk || result.Rejection.IsRejected;
    }

    [Property(MaxTest = 500)]
    public Property Parse_TruncatedOrCorruptedValidDocument_NeverThrows() =>
        Prop.ForAll(
            SegmentGenerators.ValidSegment().ToArbitrary(),
            Gen.Choose(0, 10_000).ToArbitrary(),
            Gen.Choose(0, 255).ToArbitrary(),
            (builder, position, value) =>
            {
                var bytes = builder.ToUtf8();
                var cut = bytes[..(position % (bytes.Length + 1))];
                var flipped = (byte[])bytes.Clone();
                flipped[position % bytes.Length] = (byte)value;
                var a = SegmentValidator.ParseAndValidate(cut, SegmentGenerators.Now);
                var b = SegmentValidator.ParseAndValidate(flipped, SegmentGenerators.Now);
                return (a.IsOk || a.Rejection.IsRejected) && (b.IsOk || b.Rejection.IsRejected);
            });
}
