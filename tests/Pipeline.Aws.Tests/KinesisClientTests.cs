using System.Net;
using System.Text;
using System.Text.Json;
using Pipeline.Aws.Kinesis;
using Pipeline.Aws.Tests.Support;

namespace Pipeline.Aws.Tests;

/// <summary>The Kinesis JSON 1.1 wire format, on a fake handler.</summary>
public sealed class KinesisClientTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly RecordingTimeProvider _time = new(TestAws.SigningTime);

    [Fact]
    public async Task PutRecords_Request_IsJson11WithBase64DataAndTarget()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.OK, """{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"},{"SequenceNumber":"2","ShardId":"shardId-000000000000"}]}""");
        using var aws = TestAws.Clients(handler, _time);

        await aws.Kinesis.PutRecordsAsync("traces", [new(new byte[] { 0, 1, 255 }, "trace-1"), new("x"u8.ToArray(), "trace-2", "42")], _ct);

        var request = handler.Requests.Single();
        request.Method.Should().Be(HttpMethod.Post);
        request.Uri.AbsolutePath.Should().Be("/");
        request.Header("Content-Type").Should().Be("application/x-amz-json-1.1");
        request.Header("X-Amz-Target").Should().Be("Kinesis_20131202.PutRecords");
        var json = JsonDocument.Parse(request.Body).RootElement;
        json.GetProperty("StreamName").GetString().Should().Be("traces");
        var records = json.GetProperty("Records");
        records[0].GetProperty("Data").GetString().Should().Be("AAH/");
        records[0].GetProperty("PartitionKey").GetString().Should().Be("trace-1");
        records[0].TryGetProperty("ExplicitHashKey", out _).Should().BeFalse();
        records[1].GetProperty("ExplicitHashKey").GetString().Should().Be("42");
    }

    [Fact]
    public void PutRecordsBody_WrittenIntoThePooledBuffer_IsByteForByteWhatTheSerializerWrites()
    {
        // Large enough to grow the pooled buffer past its estimate, with characters that need escaping.
        var random = new Random(7);
        var records = Enumerable.Range(0, 500)
            .Select(i => new PutRecordsEntry(Enumerable.Range(0, 2000 + i).Select(_ => (byte)random.Next(256)).ToArray(), $"1-5f84c7a4-{i:x24}<\"é>", i % 3 == 0 ? (i * 7919).ToString(System.Globalization.CultureInfo.InvariantCulture) : null))
            .ToList();
        var wire = new PutRecordsRequestWire("traces\"s", records.Select(r => new PutRecordsRequestEntryWire(r.Data, r.PartitionKey, r.ExplicitHashKey)).ToList());
        var expected = JsonSerializer.SerializeToUtf8Bytes(wire, KinesisJsonContext.Default.PutRecordsRequestWire);

        using var body = new Pipeline.Runtime.Buffers.PooledBufferWriter(16, KinesisClient.MaxPutRecordsBodyBytes);
        KinesisClient.WritePutRecords(body, "traces\"s", records);

        body.WrittenMemory.ToArray().Should().Equal(expected);
    }

    [Fact]
    public async Task PutRecords_RetriedAfterA500_SendsTheSameSignedBodyBothTimes()
    {
        var handler = FakeAwsHandler.Sequence(
            () => FakeAwsHandler.Response(HttpStatusCode.InternalServerError, """{"__type":"InternalFailure"}"""),
            () => FakeAwsHandler.Response(HttpStatusCode.OK, """{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"}]}"""));
        using var aws = TestAws.Clients(handler, _time);

        await _time.RunAsync(aws.Kinesis.PutRecordsAsync("traces", [new("segment"u8.ToArray(), "trace-1")], _ct));

        handler.Requests.Should().HaveCount(2);
        handler.Requests[1].Body.Should().Equal(handler.Requests[0].Body);
        handler.Requests[1].Header("X-Amz-Content-SHA256").Should().Be(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(handler.Requests[0].Body)));
    }

    [Fact]
    public async Task PutRecords_PartialFailure_IsPerRecordNotAnException()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.OK, """
            {"FailedRecordCount":1,"Records":[
              {"SequenceNumber":"49590338271490256608559692538361571095921575989136588898","ShardId":"shardId-000000000001"},
              {"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded for shard shardId-000000000001"},
              {"SequenceNumber":"3","ShardId":"shardId-000000000001"}]}
            """);
        using var aws = TestAws.Clients(handler, _time);

        var result = await aws.Kinesis.PutRecordsAsync("traces", [new("a"u8.ToArray(), "k"), new("b"u8.ToArray(), "k"), new("c"u8.ToArray(), "k")], _ct);

        result.FailedRecordCount.Should().Be(1);
        result.Records.Select(r => r.Succeeded).Should().Equal(true, false, true);
        result.Records[1].ErrorCode.Should().Be("ProvisionedThroughputExceededException");
        result.Records[1].ErrorMessage.Should().Contain("Rate exceeded");
        result.Records[0].SequenceNumber.Should().Be("49590338271490256608559692538361571095921575989136588898");
        handler.Calls.Should().Be(1);
    }

    [Fact]
    public async Task PutRecords_ResultCountDiffersFromRequest_IsAnError()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.OK, """{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"s"}]}""");
        using var aws = TestAws.Clients(handler, _time);

        var act = () => aws.Kinesis.PutRecordsAsync("traces", [new("a"u8.ToArray(), "k"), new("b"u8.ToArray(), "k")], _ct);

        await act.Should().ThrowAsync<InvalidDataException>();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(501)]
    public async Task PutRecords_OutsideOneTo500Records_IsRejectedBeforeSending(int count)
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.OK, "{}");
        using var aws = TestAws.Clients(handler, _time);
        var records = Enumerable.Range(0, count).Select(_ => new PutRecordsEntry(new byte[] { 1 }, "k")).ToList();

        var act = () => aws.Kinesis.PutRecordsAsync("traces", records, _ct);

        await act.Should().ThrowAsync<ArgumentOutOfRangeException>();
        handler.Calls.Should().Be(0);
    }

    [Fact]
    public async Task GetRecords_Answer_DecodesDataKeysAndArrivalTime()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.OK, """
            {"Records":[{"SequenceNumber":"7","ApproximateArrivalTimestamp":1.6025373775E9,"Data":"eyJhIjoxfQ==","PartitionKey":"t1","EncryptionType":"NONE"}],
             "NextShardIterator":"next-it","MillisBehindLatest":1234}
            """);
        using var aws = TestAws.Clients(handler, _time);

        var result = await aws.Kinesis.GetRecordsAsync("it", 100, _ct);

        var record = result.Records.Single();
        Encoding.UTF8.GetString(record.Data.Span).Should().Be("""{"a":1}""");
        (record.SequenceNumber, record.PartitionKey).Should().Be(("7", "t1"));
        record.ApproximateArrivalTimestamp.Should().Be(DateTimeOffset.FromUnixTimeMilliseconds(1602537377500));
        (result.NextShardIterator, result.MillisBehindLatest).Should().Be(("next-it", 1234L));
        var sent = JsonDocument.Parse(handler.Requests.Single().Body).RootElement;
        (sent.GetProperty("ShardIterator").GetString(), sent.GetProperty("Limit").GetInt32()).Should().Be(("it", 100));
    }

    [Fact]
    public async Task GetRecords_ClosedShard_HasNoNextIterator()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.OK, """{"Records":[],"MillisBehindLatest":0}""");
        using var aws = TestAws.Clients(handler, _time);

        var result = await aws.Kinesis.GetRecordsAsync("it", cancellationToken: _ct);

        result.Records.Should().BeEmpty();
        result.NextShardIterator.Should().BeNull();
    }

    [Theory]
    [InlineData(ShardIteratorType.TrimHorizon, null, "TRIM_HORIZON")]
    [InlineData(ShardIteratorType.Latest, null, "LATEST")]
    [InlineData(ShardIteratorType.AtSequenceNumber, "5", "AT_SEQUENCE_NUMBER")]
    [InlineData(ShardIteratorType.AfterSequenceNumber, "5", "AFTER_SEQUENCE_NUMBER")]
    public async Task GetShardIterator_Type_IsSentWithItsWireName(ShardIteratorType type, string? sequence, string wire)
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.OK, """{"ShardIterator":"it"}""");
        using var aws = TestAws.Clients(handler, _time);

        await aws.Kinesis.GetShardIteratorAsync("traces", "shardId-000000000000", type, sequence, _ct);

        var sent = JsonDocument.Parse(handler.Requests.Single().Body).RootElement;
        sent.GetProperty("ShardIteratorType").GetString().Should().Be(wire);
        sent.TryGetProperty("StartingSequenceNumber", out var seq).Should().Be(sequence is not null);
        if (sequence is not null)
        {
            seq.GetString().Should().Be(sequence);
        }
    }

    [Fact]
    public async Task GetShardIterator_AtSequenceWithoutNumber_IsRejected()
    {
        using var aws = TestAws.Clients(FakeAwsHandler.Always(HttpStatusCode.OK, "{}"), _time);

        var act = () => aws.Kinesis.GetShardIteratorAsync("traces", "shardId-000000000000", ShardIteratorType.AtSequenceNumber, null, _ct);

        await act.Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task ListShards_Paged_FollowsNextTokenWithoutTheStreamName()
    {
        var handler = new FakeAwsHandler((n, _) => FakeAwsHandler.Response(HttpStatusCode.OK, n == 0
            ? """{"Shards":[{"ShardId":"shardId-0","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"9"}}],"NextToken":"tok"}"""
            : """{"Shards":[{"ShardId":"shardId-1","HashKeyRange":{"StartingHashKey":"10","EndingHashKey":"19"}}]}"""));
        using var aws = TestAws.Clients(handler, _time);

        var shards = await aws.Kinesis.ListShardsAsync("traces", _ct);

        shards.Should().Equal(new Shard("shardId-0", "0", "9"), new Shard("shardId-1", "10", "19"));
        handler.Requests.Select(r => r.BodyText).Should().Equal("""{"StreamName":"traces"}""", """{"NextToken":"tok"}""");
    }

    [Fact]
    public async Task DescribeStreamSummary_Answer_IsMapped()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.OK, """
            {"StreamDescriptionSummary":{"StreamName":"traces","StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/traces",
             "StreamStatus":"ACTIVE","OpenShardCount":4,"RetentionPeriodHours":24,"StreamCreationTimestamp":1.6E9}}
            """);
        using var aws = TestAws.Clients(handler, _time);

        var summary = await aws.Kinesis.DescribeStreamSummaryAsync("traces", _ct);

        summary.Should().Be(new StreamSummary("traces", "arn:aws:kinesis:us-east-1:123456789012:stream/traces", "ACTIVE", 4));
        handler.Requests.Single().Header("X-Amz-Target").Should().Be("Kinesis_20131202.DescribeStreamSummary");
    }

    [Fact]
    public async Task CreateStream_Request_CarriesNameAndShardCount()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.OK, string.Empty);
        using var aws = TestAws.Clients(handler, _time);

        await aws.Kinesis.CreateStreamAsync("traces", 3, _ct);

        handler.Requests.Single().BodyText.Should().Be("""{"StreamName":"traces","ShardCount":3}""");
        handler.Requests.Single().Header("X-Amz-Target").Should().Be("Kinesis_20131202.CreateStream");
    }
}
