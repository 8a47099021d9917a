using Pipeline.Testing.Builders;

namespace Pipeline.Functions.Tests.Ingest;

/// <summary>
/// The archive invariant under Lambda's retry shapes: each valid segment is in the archive exactly
/// once after the retries settle (functions/Pipeline.Functions/Ingest/README.md, "The archive holds each valid segment exactly once", states the scheme and its precise guarantee).
/// "An attempt that failed after its archive write" is modelled by running the handler and then
/// ignoring its answer, as Lambda does after a timeout or crash.
/// </summary>
public sealed class ArchiveRetryShapeTests
{
    private const int Records = 12;
    private readonly IngestHarness _harness = new(rate: 0.0);
    private readonly List<SegmentBuilder> _segments = IngestHarness.Segments(Records, seedBase: 900);
    private readonly List<byte[]> _records;

    public ArchiveRetryShapeTests() => _records = [.. _segments.Select(s => s.ToUtf8())];

    [Fact]
    public async Task Archive_RetryFromTheReportedRecordInTheMiddleOfTheShard_EachSegmentOnce()
    {
        (await RunAsync(0, 4)).Should().BeEmpty();
        _harness.Store.FailingPrefixes.Add("segments/");
        (await RunAsync(4, 9)).Should().Equal(IngestHarness.Sequence(4));
        _harness.Store.FailingPrefixes.Clear();

        (await RunAsync(4, 12)).Should().BeEmpty();

        AssertEachSegmentOnce();
    }

    [Fact]
    public async Task Archive_LongerRetriedBatchAfterACrashAfterTheWrite_OverwritesTheSameKey()
    {
        await RunAsync(0, 6);
        var keysAfterCrash = SegmentKeys();

        (await RunAsync(0, 12)).Should().BeEmpty();

        SegmentKeys().Should().Equal(keysAfterCrash, "the retry starts at the same record, so it rewrites the same object");
        AssertEachSegmentOnce();
    }

    [Fact]
    public async Task Archive_BisectedBatchAfterACrashAfterTheWrite_EachHalfItsOwnKeyEachSegmentOnce()
    {
        await RunAsync(0, 12);

        (await RunAsync(0, 6)).Should().BeEmpty();
        (await RunAsync(6, 12)).Should().BeEmpty();

        SegmentKeys().Should().HaveCount(2);
        AssertEachSegmentOnce();
    }

    [Fact]
    public async Task Archive_BisectedTwiceWithCrashesAfterEachWrite_EachSegmentOnce()
    {
        await RunAsync(0, 12);
        await RunAsync(0, 6);

        (await RunAsync(0, 3)).Should().BeEmpty();
        (await RunAsync(3, 6)).Should().BeEmpty();
        (await RunAsync(6, 12)).Should().BeEmpty();

        AssertEachSegmentOnce();
    }

    [Fact]
    public async Task Archive_BisectedHalfWithNoValidSegment_StillOverwritesTheStaleObject()
    {
        _records[0] = "not json"u8.ToArray();
        _records[1] = "{}"u8.ToArray();
        await RunAsync(0, 12);

        (await RunAsync(0, 2)).Should().BeEmpty();
        (await RunAsync(2, 12)).Should().BeEmpty();

        var counts = _harness.ArchivedIdCounts();
        counts.Values.Should().AllSatisfy(c => c.Should().Be(1));
        counts.Keys.Should().BeEquivalentTo(_segments.Skip(2).Select(s => s.Id));
    }

    [Fact]
    public async Task Archive_ManyRandomRetryHistories_EachSegmentOnce()
    {
        // A small model of the event-source mapping: a batch either succeeds, fails before its
        // archive write (reported), or crashes after it; a failed batch is retried from its first
        // record, longer, the same, or bisected. Bounded: 40 histories, ≤ 60 invocations each.
        for (var seed = 0; seed < 40; seed++)
        {
            var random = new Random(seed);
            var harness = new IngestHarness(rate: 0.0);
            var position = 0;
            var pending = new Stack<(int From, int To)>();
            var invocations = 0;
            while (position < Records && invocations++ < 60)
            {
                var (from, to) = pending.Count > 0 ? pending.Pop() : (position, Math.Min(Records, position + random.Next(1, 6)));
                var outcome = invocations > 40 ? 0 : random.Next(4);
                if (outcome == 1)
                {
                    harness.Store.FailingPrefixes.Add("segments/");
                }

                var failures = await harness.RunAsync(IngestHarness.Batch(_records, from, to));
                harness.Store.FailingPrefixes.Clear();
                if (outcome == 0)
                {
                    failures.Should().BeEmpty();
                    position = to;
                    continue;
                }

                // Failed (reported, or crashed after the write): retry from `from`.
                var shape = random.Next(3);
                if (shape == 0 && to - from >= 2)
                {
                    var middle = from + ((to - from) / 2);
                    pending.Push((middle, to));
                    pending.Push((from, middle));
                }
                else
                {
                    pending.Push((from, shape == 1 ? Math.Min(Records, to + random.Next(0, 4)) : to));
                }

                // A longer retry may reach past what a queued second half covers: drop halves it swallowed.
                var top = pending.Pop();
                var rest = pending.Where(p => p.From >= top.To).ToList();
                pending.Clear();
                foreach (var p in Enumerable.Reverse(rest))
                {
                    pending.Push(p);
                }

                pending.Push(top);
            }

            position.Should().Be(Records, $"seed {seed} should settle");
            harness.ArchivedIdCounts().Should().BeEquivalentTo(_segments.ToDictionary(s => s.Id, _ => 1), $"seed {seed}");
        }
    }

    private Task<IReadOnlyList<string>> RunAsync(int from, int to) => _harness.RunAsync(IngestHarness.Batch(_records, from, to));

    private List<string> SegmentKeys() => [.. _harness.Store.Keys.Where(k => k.StartsWith("segments/", StringComparison.Ordinal))];

    private void AssertEachSegmentOnce() =>
        _harness.ArchivedIdCounts().Should().BeEquivalentTo(_segments.ToDictionary(s => s.Id, _ => 1));
}
