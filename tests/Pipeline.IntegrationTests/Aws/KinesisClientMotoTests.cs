using System.Numerics;
using System.Text;
using Pipeline.Aws;
using Pipeline.Aws.Http;
using Pipeline.Aws.Kinesis;
using Pipeline.Testing;

namespace Pipeline.IntegrationTests.Aws;

/// <summary>Every Kinesis call against moto. One writer per stream at a time (see MOTO.md).</summary>
public sealed class KinesisClientMotoTests(MotoFixture moto) : IDisposable
{
    private readonly AwsClients _aws = MotoAws.Clients(moto);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task CreateStream_ThenDescribeStreamSummary_IsActiveWithItsShards()
    {
        var name = MotoFixture.UniqueName("stream");
        await _aws.Kinesis.CreateStreamAsync(name, 2, _ct);

        var summary = await _aws.Kinesis.DescribeStreamSummaryAsync(name, _ct);

        summary.StreamName.Should().Be(name);
        summary.StreamStatus.Should().Be("ACTIVE");
        summary.OpenShardCount.Should().Be(2);
        summary.StreamArn.Should().StartWith("arn:aws:kinesis:us-east-1:").And.EndWith(":stream/" + name);
    }

    [Fact]
    public async Task ListShards_ThreeShards_CoverTheWholeHashRange()
    {
        var name = MotoFixture.UniqueName("stream");
        await _aws.Kinesis.CreateStreamAsync(name, 3, _ct);

        var shards = await _aws.Kinesis.ListShardsAsync(name, _ct);

        shards.Should().HaveCount(3);
        shards.Select(s => s.ShardId).Should().OnlyHaveUniqueItems();
        var ranges = shards.Select(s => (Start: BigInteger.Parse(s.StartingHashKey), End: BigInteger.Parse(s.EndingHashKey))).OrderBy(r => r.Start).ToList();
        ranges[0].Start.Should().Be(BigInteger.Zero);
        ranges[^1].End.Should().Be(BigInteger.Pow(2, 128) - 1);
        for (var i = 1; i < ranges.Count; i++)
        {
            ranges[i].Start.Should().Be(ranges[i - 1].End + 1);
        }
    }

    [Fact]
    public async Task PutRecords_ThenGetRecords_RoundTripsBytesKeysAndOrder()
    {
        var name = MotoFixture.UniqueName("stream");
        await _aws.Kinesis.CreateStreamAsync(name, 1, _ct);
        var payloads = Enumerable.Range(0, 20).Select(i => Encoding.UTF8.GetBytes($"{{\"n\":{i},\"bin\":\"\u00e9\"}}\0\xff")).ToList();
        var entries = payloads.Select((p, i) => new PutRecordsEntry(p, $"key-{i}")).ToList();

        var put = await _aws.Kinesis.PutRecordsAsync(name, entries, _ct);

        put.FailedRecordCount.Should().Be(0);
        put.Records.Should().HaveCount(20).And.AllSatisfy(r => r.Succeeded.Should().BeTrue());
        var shard = (await _aws.Kinesis.ListShardsAsync(name, _ct)).Single();
        var iterator = await _aws.Kinesis.GetShardIteratorAsync(name, shard.ShardId, ShardIteratorType.TrimHorizon, cancellationToken: _ct);
        var read = await _aws.Kinesis.GetRecordsAsync(iterator, cancellationToken: _ct);

        read.Records.Select(r => r.Data.ToArray()).Should().BeEquivalentTo(payloads, o => o.WithStrictOrdering());
        read.Records.Select(r => r.PartitionKey).Should().Equal(entries.Select(e => e.PartitionKey));
        read.Records.Select(r => r.SequenceNumber).Should().Equal(put.Records.Select(r => r.SequenceNumber));
        read.Records.Should().AllSatisfy(r => r.ApproximateArrivalTimestamp.Year.Should().BeGreaterThan(2020));
        read.NextShardIterator.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task PutRecords_OnePartitionKey_LandsOnOneShard()
    {
        var name = MotoFixture.UniqueName("stream");
        await _aws.Kinesis.CreateStreamAsync(name, 4, _ct);
        var entries = Enumerable.Range(0, 10).Select(i => new PutRecordsEntry(new byte[] { (byte)i }, "1-5f84c7a1-0123456789abcdef01234567")).ToList();

        var put = await _aws.Kinesis.PutRecordsAsync(name, entries, _ct);

        put.Records.Select(r => r.ShardId).Distinct().Should().ContainSingle();
    }

    [Fact]
    public async Task GetShardIterator_AfterSequenceNumber_ReadsOnlyLaterRecords()
    {
        var name = MotoFixture.UniqueName("stream");
        await _aws.Kinesis.CreateStreamAsync(name, 1, _ct);
        var put = await _aws.Kinesis.PutRecordsAsync(name, [new("a"u8.ToArray(), "k"), new("b"u8.ToArray(), "k"), new("c"u8.ToArray(), "k")], _ct);
        var first = put.Records[0];

        var iterator = await _aws.Kinesis.GetShardIteratorAsync(name, first.ShardId!, ShardIteratorType.AfterSequenceNumber, first.SequenceNumber, _ct);
        var read = await _aws.Kinesis.GetRecordsAsync(iterator, cancellationToken: _ct);

        read.Records.Select(r => Encoding.ASCII.GetString(r.Data.Span)).Should().Equal("b", "c");
    }

    [Fact]
    public async Task GetRecords_LatestIteratorThenLimit_SeesOnlyNewRecordsAPageAtATime()
    {
        var name = MotoFixture.UniqueName("stream");
        await _aws.Kinesis.CreateStreamAsync(name, 1, _ct);
        await _aws.Kinesis.PutRecordsAsync(name, [new("old"u8.ToArray(), "k")], _ct);
        var shard = (await _aws.Kinesis.ListShardsAsync(name, _ct)).Single();
        var iterator = await _aws.Kinesis.GetShardIteratorAsync(name, shard.ShardId, ShardIteratorType.Latest, cancellationToken: _ct);
        await _aws.Kinesis.PutRecordsAsync(name, [new("new1"u8.ToArray(), "k"), new("new2"u8.ToArray(), "k")], _ct);

        var page1 = await _aws.Kinesis.GetRecordsAsync(iterator, limit: 1, cancellationToken: _ct);
        var page2 = await _aws.Kinesis.GetRecordsAsync(page1.NextShardIterator!, limit: 1, cancellationToken: _ct);

        Encoding.ASCII.GetString(page1.Records.Single().Data.Span).Should().Be("new1");
        Encoding.ASCII.GetString(page2.Records.Single().Data.Span).Should().Be("new2");
    }

    [Fact]
    public async Task DescribeStreamSummary_MissingStream_ThrowsResourceNotFound()
    {
        var act = () => _aws.Kinesis.DescribeStreamSummaryAsync(MotoFixture.UniqueName("missing"), _ct);

        var error = await act.Should().ThrowAsync<AwsResourceNotFoundException>();
        error.Which.ErrorCode.Should().Be("ResourceNotFoundException");
        error.Which.Service.Should().Be("kinesis");
        ((int)error.Which.StatusCode).Should().Be(400);
    }

    [Fact]
    public async Task CreateStream_ExistingName_ThrowsResourceInUse()
    {
        var name = MotoFixture.UniqueName("stream");
        await _aws.Kinesis.CreateStreamAsync(name, 1, _ct);

        var act = () => _aws.Kinesis.CreateStreamAsync(name, 1, _ct);

        await act.Should().ThrowAsync<AwsResourceInUseException>();
    }

    [Fact]
    public async Task PutRecords_ParallelWritersOnSeparateStreams_LoseNothing()
    {
        // One client shared by four writers, one writer per stream (moto loses records when two
        // writers share a stream). Bounded: 4 streams × 5 batches × 100 records.
        const int streams = 4, batches = 5, perBatch = 100;
        var names = Enumerable.Range(0, streams).Select(_ => MotoFixture.UniqueName("parallel")).ToList();
        foreach (var name in names)
        {
            await _aws.Kinesis.CreateStreamAsync(name, 2, _ct);
        }

        await Task.WhenAll(names.Select(async name =>
        {
            for (var b = 0; b < batches; b++)
            {
                var entries = Enumerable.Range(0, perBatch).Select(i => new PutRecordsEntry(Encoding.ASCII.GetBytes($"{name}/{b}/{i}"), $"key-{i % 7}")).ToList();
                var result = await _aws.Kinesis.PutRecordsAsync(name, entries, _ct);
                result.FailedRecordCount.Should().Be(0);
            }
        }));

        foreach (var name in names)
        {
            var payloads = new List<string>();
            foreach (var shard in await _aws.Kinesis.ListShardsAsync(name, _ct))
            {
                var iterator = await _aws.Kinesis.GetShardIteratorAsync(name, shard.ShardId, ShardIteratorType.TrimHorizon, cancellationToken: _ct);
                var read = await _aws.Kinesis.GetRecordsAsync(iterator, cancellationToken: _ct);
                payloads.AddRange(read.Records.Select(r => Encoding.ASCII.GetString(r.Data.Span)));
            }

            payloads.Should().HaveCount(batches * perBatch).And.OnlyHaveUniqueItems().And.AllSatisfy(p => p.Should().StartWith(name + "/"));
        }
    }

    public void Dispose() => _aws.Dispose();
}
