using System.Text;
using System.Text.Json;
using Pipeline.Functions.Events;
using Pipeline.Testing.Builders;

namespace Pipeline.Functions.Tests.Events;

public sealed class KinesisEventTests
{
    // The shape of the example event in the Lambda developer guide (Kinesis), values our own.
    private const string DocumentedShape = """
        {
          "Records": [
            {
              "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": "1-5759e988-bd862e3fe1be46a994272793",
                "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
                "data": "eyJpZCI6IjEyMyJ9",
                "approximateArrivalTimestamp": 1545084650.987
              },
              "eventSource": "aws:kinesis",
              "eventVersion": "1.0",
              "eventID": "shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
              "eventName": "aws:kinesis:record",
              "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
              "awsRegion": "us-east-2",
              "eventSourceARN": "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"
            }
          ]
        }
        """;

    [Fact]
    public void Deserialize_DocumentedShape_ReadsEveryField()
    {
        var evt = JsonSerializer.Deserialize(DocumentedShape, EventsJsonContext.Default.KinesisEvent)!;

        var record = evt.Records.Should().ContainSingle().Subject;
        Encoding.UTF8.GetString(record.Kinesis.Data.Span).Should().Be("""{"id":"123"}""");
        record.Kinesis.PartitionKey.Should().Be("1-5759e988-bd862e3fe1be46a994272793");
        record.Kinesis.SequenceNumber.Should().Be("49590338271490256608559692538361571095921575989136588898");
        record.Kinesis.ApproximateArrivalTimestamp.Should().Be(DateTimeOffset.FromUnixTimeMilliseconds(1545084650987));
        record.Kinesis.KinesisSchemaVersion.Should().Be("1.0");
        record.EventId.Should().Be("shardId-000000000006:49590338271490256608559692538361571095921575989136588898");
        record.ShardId.Should().Be("shardId-000000000006");
        record.EventName.Should().Be("aws:kinesis:record");
        record.EventSource.Should().Be("aws:kinesis");
        record.AwsRegion.Should().Be("us-east-2");
        record.EventSourceArn.Should().Be("arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream");
    }

    [Fact]
    public async Task Deserialize_BuilderEvent_KeepsOrderPayloadsAndSequenceNumbers()
    {
        var arrival = new DateTimeOffset(2026, 11, 25, 13, 59, 59, 500, TimeSpan.Zero);
        var builder = new KinesisEventBuilder()
            .FromStream("segments", "eu-west-1")
            .FromShard("shardId-000000000003")
            .ArrivingAt(arrival)
            .AddRecord("""{"name":"a"}""", partitionKey: "1-00000001-000000000000000000000001")
            .AddRecord([0x00, 0xFF, 0x10])
            .AddRecord("third");

        await using var input = builder.BuildStream();
        var evt = (await JsonSerializer.DeserializeAsync(input, EventsJsonContext.Default.KinesisEvent, TestContext.Current.CancellationToken))!;

        evt.Records.Select(r => r.Kinesis.SequenceNumber).Should().Equal(builder.SequenceNumbers);
        evt.Records[0].Kinesis.PartitionKey.Should().Be("1-00000001-000000000000000000000001");
        evt.Records[1].Kinesis.Data.ToArray().Should().Equal(0x00, 0xFF, 0x10);
        Encoding.UTF8.GetString(evt.Records[2].Kinesis.Data.Span).Should().Be("third");
        evt.Records.Select(r => r.Kinesis.ApproximateArrivalTimestamp).Should().Equal(arrival, arrival.AddMilliseconds(1), arrival.AddMilliseconds(2));
        evt.Records.Should().AllSatisfy(r =>
        {
            r.ShardId.Should().Be("shardId-000000000003");
            r.EventId.Should().Be("shardId-000000000003:" + r.Kinesis.SequenceNumber);
            r.EventSourceArn.Should().Be("arn:aws:kinesis:eu-west-1:123456789012:stream/segments");
            r.AwsRegion.Should().Be("eu-west-1");
        });
    }

    [Fact]
    public void Builder_SequenceNumbers_AreIncreasingInKinesisOrder()
    {
        var builder = new KinesisEventBuilder().StartingAtSequence("99").AddRecord("a").AddRecord("b").AddRecord("c");

        builder.SequenceNumbers.Should().Equal("99", "100", "101");
        KinesisSequenceNumber.Compare("99", "100").Should().BeNegative();
        KinesisSequenceNumber.Compare("101", "100").Should().BePositive();
        KinesisSequenceNumber.Compare("100", "100").Should().Be(0);
    }

    [Fact]
    public void Deserialize_RecordWithoutSequenceNumber_Throws()
    {
        const string Json = """{"Records":[{"eventID":"s:1","eventSourceARN":"a","kinesis":{"data":"","partitionKey":"p","approximateArrivalTimestamp":1}}]}""";

        var parse = () => JsonSerializer.Deserialize(Json, EventsJsonContext.Default.KinesisEvent);

        parse.Should().Throw<JsonException>().WithMessage("*sequenceNumber*");
    }

    [Theory]
    [InlineData("\"1545084650.987\"")]
    [InlineData("null")]
    public void Deserialize_ArrivalTimestampNotANumber_Throws(string value)
    {
        var json = """{"Records":[{"eventID":"s:1","eventSourceARN":"a","kinesis":{"data":"","partitionKey":"p","sequenceNumber":"1","approximateArrivalTimestamp":VALUE}}]}""".Replace("VALUE", value, StringComparison.Ordinal);

        var parse = () => JsonSerializer.Deserialize(json, EventsJsonContext.Default.KinesisEvent);

        parse.Should().Throw<JsonException>();
    }

    [Fact]
    public void Serialize_BatchResponse_IsTheReportBatchItemFailuresShape()
    {
        JsonSerializer.Serialize(KinesisBatchResponse.RetryFrom("4959"), EventsJsonContext.Default.KinesisBatchResponse)
            .Should().Be("""{"batchItemFailures":[{"itemIdentifier":"4959"}]}""");
        JsonSerializer.Serialize(KinesisBatchResponse.Success, EventsJsonContext.Default.KinesisBatchResponse)
            .Should().Be("""{"batchItemFailures":[]}""");
    }

    [Fact]
    public void Serialize_Event_RoundTripsArrivalToTheMillisecond()
    {
        var evt = JsonSerializer.Deserialize(DocumentedShape, EventsJsonContext.Default.KinesisEvent)!;

        var json = JsonSerializer.Serialize(evt, EventsJsonContext.Default.KinesisEvent);

        json.Should().Contain("\"approximateArrivalTimestamp\":1545084650.987").And.Contain("\"data\":\"eyJpZCI6IjEyMyJ9\"");
        var again = JsonSerializer.Deserialize(json, EventsJsonContext.Default.KinesisEvent)!;
        again.Records.Should().BeEquivalentTo(evt.Records, o => o.Excluding(r => r.Kinesis.Data));
        again.Records[0].Kinesis.Data.ToArray().Should().Equal(evt.Records[0].Kinesis.Data.ToArray());
    }
}
