using FsCheck;
using FsCheck.Xunit;
using Pipeline.Core.Usage;
using static Pipeline.Core.Tests.Cost.UsageBuilder;

namespace Pipeline.Core.Tests.Cost;

public sealed class UsageAggregatorPropertyTests
{
    /// <summary>
    /// Whatever retry shape each batch went through, and in whatever order the files are
    /// listed, the daily total is the true count of the batches: one trace per record here.
    /// </summary>
    [Property(MaxTest = 300)]
    public bool Fold_AnyRetryShapeAndListingOrder_CountsEveryRecordOnce(PositiveInt[] batchSizes, byte[] shapes, int shuffleSeed)
    {
        var files = new List<UsageRecord>();
        long sequence = 1, expected = 0;
        for (var i = 0; i < batchSizes.Length; i++)
        {
            var size = (batchSizes[i].Get % 20) + 1;
            var first = sequence;
            var last = sequence + size - 1;
            expected += size;
            var shape = shapes.Length == 0 ? 0 : shapes[i % shapes.Length] % 3;
            switch (shape)
            {
                case 0:
                    // Written once.
                    files.Add(Record("s", first, last, traces: size));
                    break;
                case 1:
                    // The same key listed (or read) twice.
                    files.Add(Record("s", first, last, traces: size));
                    files.Add(Record("s", first, last, traces: size));
                    break;
                default:
                    // First attempt's record still under the first key while the bisected
                    // retry's second half has written its own.
                    var middle = first + (size / 2);
                    files.Add(Record("s", first, last, traces: size));
                    if (middle <= last && middle > first)
                    {
                        files.Add(Record("s", middle, last, traces: last - middle + 1));
                    }

                    break;
            }

            sequence = last + 1;
        }

        var random = new Random(shuffleSeed);
        var aggregator = new UsageAggregator();
        foreach (var file in files.OrderBy(_ => random.Next()))
        {
            aggregator.Add(UsageJson.Serialize(file));
        }

        var total = aggregator.Fold().Days.Sum(d => d.TracesSeen);
        return total == expected;
    }
}
