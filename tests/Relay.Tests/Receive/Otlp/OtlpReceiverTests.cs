using System.Text;
using System.Text.Json;
using Pipeline.Core.Otlp;
using Pipeline.Testing;
using Pipeline.Testing.Builders;
using Relay.Buffering;
using Relay.Receive.Otlp;
using Relay.Telemetry;

namespace Relay.Tests.Receive.Otlp;

public sealed class OtlpReceiverTests
{
    private readonly RelayMetrics _relayMetrics = new();
    private readonly OtlpReceiverMetrics _metrics = new();

    private (OtlpHttpReceiver Receiver, RecordBuffer Buffer) Receiver(long bufferBytes = 16 * 1024 * 1024)
    {
        var buffer = new RecordBuffer(bufferBytes, _relayMetrics);
        var intake = new OtlpIntake(buffer, _metrics, OtlpLimits.Default);
        return (new OtlpHttpReceiver(intake, _metrics, OtlpReceiverOptions.Default), buffer);
    }

    private static Func<string, string?> Headers(string contentType, string? encoding = null) =>
        name => name switch { "content-type" => contentType, "content-encoding" => encoding, _ => null };

    private static List<SegmentRecord> Drain(RecordBuffer buffer)
    {
        var records = new List<SegmentRecord>();
        while (buffer.Reader.TryRead(out var record))
        {
            records.Add(record);
        }

        return records;
    }

    [Fact]
    public void Post_ProtobufWithTwoTraces_BuffersOneRecordPerTraceKeyedInXRayForm()
    {
        var (receiver, buffer) = Receiver();
        var first = OtlpTraceBuilder.Trace("service-c", seed: 1);
        var server = first.Span("GET /", OtlpSpanKind.Server);
        first.Span("child", OtlpSpanKind.Internal, server);
        var second = OtlpTraceBuilder.Trace("service-c", seed: 2);
        second.Span("GET /b", OtlpSpanKind.Server);
        var request = first.Build();
        request.ResourceSpans.AddRange(second.Build().ResourceSpans);

        var answer = receiver.Handle("POST", "/v1/traces", Headers("application/x-protobuf"), OtlpProtobufEncoder.Encode(request));

        answer.Status.Should().Be(200);
        answer.ContentType.Should().Be("application/x-protobuf");
        answer.Body.Should().BeEmpty("full success is an empty ExportTraceServiceResponse");
        var records = Drain(buffer);
        records.Select(r => r.PartitionKey).Should().BeEquivalentTo(first.XRayTraceId, second.XRayTraceId);
        var content = OtlpRecordReader.Read(records.Single(r => r.PartitionKey == first.XRayTraceId).Data);
        content.Spans.Should().Be(2);
        content.Documents.Should().ContainSingle().Which.Spans.Should().Be(2);
        _metrics.SpansAccepted.Should().Be(3);
        _metrics.Records.Should().Be(2);
    }

    [Fact]
    public void Post_JsonGzipWithABadSpan_KeepsTheGoodOnesAndAnswersPartialSuccess()
    {
        var (receiver, buffer) = Receiver();
        var trace = OtlpTraceBuilder.Trace();
        trace.Span("good", OtlpSpanKind.Server);
        trace.Span("bad", OtlpSpanKind.Server).TraceId = new byte[16];
        var json = Encoding.UTF8.GetBytes(trace.ToJson("service-c"));

        var answer = receiver.Handle("POST", "/v1/traces", Headers("application/json; charset=utf-8", "gzip"), TestGzip.Compress(json));

        answer.Status.Should().Be(200);
        using var response = JsonDocument.Parse(answer.Body);
        response.RootElement.GetProperty("partialSuccess").GetProperty("rejectedSpans").GetString().Should().Be("1");
        response.RootElement.GetProperty("partialSuccess").GetProperty("errorMessage").GetString().Should().Contain("otlp_invalid_trace_id");
        Drain(buffer).Should().ContainSingle();
        _metrics.SpansRefused("otlp_invalid_trace_id").Should().Be(1);
    }

    [Theory]
    [InlineData("application/x-protobuf", null, new byte[] { 0x0A, 0xFF }, 400)]
    [InlineData("application/json", null, new byte[] { (byte)'{' }, 400)]
    [InlineData("text/plain", null, new byte[] { 1 }, 415)]
    [InlineData("application/x-protobuf", "br", new byte[] { 1 }, 415)]
    [InlineData("application/x-protobuf", "gzip", new byte[] { 1, 2, 3 }, 400)]
    [InlineData("application/x-protobuf", "gzip", new byte[] { 0x1F, 0x8B, 0x08, 0x00, 0x01 }, 400)]
    public void Post_BadBodies_AreRefusedWithTheirStatusAndNothingBuffered(string contentType, string? encoding, byte[] body, int status)
    {
        var (receiver, buffer) = Receiver();

        var answer = receiver.Handle("POST", "/v1/traces", Headers(contentType, encoding), body);

        answer.Status.Should().Be(status);
        Drain(buffer).Should().BeEmpty();
    }

    [Fact]
    public void Post_TruncatedGzip_IsRefusedAsUndecodable()
    {
        var (receiver, buffer) = Receiver();
        var trace = OtlpTraceBuilder.Trace();
        trace.Span("s", OtlpSpanKind.Server);
        var zipped = TestGzip.Compress(trace.ToProtobuf());

        var answer = receiver.Handle("POST", "/v1/traces", Headers("application/x-protobuf", "gzip"), zipped.AsSpan(0, zipped.Length - 6));

        answer.Status.Should().Be(400);
        Drain(buffer).Should().BeEmpty();
        _metrics.RequestsRefused("bad_gzip").Should().Be(1);
    }

    [Fact]
    public void Post_GzipBomb_IsRefusedPastTheDecompressedLimit()
    {
        var (receiver, _) = Receiver();

        var answer = receiver.Handle("POST", "/v1/traces", Headers("application/x-protobuf", "gzip"), TestGzip.Compress(new byte[OtlpReceiverOptions.Default.MaxDecompressedBytes + 1]));

        answer.Status.Should().Be(413);
        _metrics.RequestsRefused("too_large").Should().Be(1);
    }

    [Fact]
    public void Post_WhenTheBufferIsFull_Answers503WithRetryAfterAndBuffersNothing()
    {
        var (receiver, buffer) = Receiver(bufferBytes: 2_000);
        var trace = OtlpTraceBuilder.Trace();
        for (var i = 0; i < 3; i++)
        {
            trace.Span("s", OtlpSpanKind.Server).With("payload", new string('x', 800));
        }

        var answer = receiver.Handle("POST", "/v1/traces", Headers("application/x-protobuf"), trace.ToProtobuf());

        answer.Status.Should().Be(503);
        answer.RetryAfter.Should().Be(TimeSpan.FromSeconds(1));
        Drain(buffer).Should().BeEmpty("a request is buffered whole or not at all, so the SDK's retry cannot duplicate spans");
        buffer.Bytes.Should().Be(0);
        _metrics.RequestsRefused("buffer_full").Should().Be(1);
    }

    [Fact]
    public void Post_TraceLargerThanOneKinesisRecord_IsSplitIntoSeveralRecordsOfThatTrace()
    {
        var (receiver, buffer) = Receiver(bufferBytes: 64 * 1024 * 1024);
        var trace = OtlpTraceBuilder.Trace();
        var server = trace.Span("GET /", OtlpSpanKind.Server);
        for (var i = 0; i < 40; i++)
        {
            trace.Span("call", OtlpSpanKind.Client, server).With("payload", new string('y', 60_000));
        }

        var answer = receiver.Handle("POST", "/v1/traces", Headers("application/x-protobuf"), trace.ToProtobuf());

        answer.Status.Should().Be(200);
        var records = Drain(buffer);
        records.Should().HaveCountGreaterThan(1);
        records.Should().OnlyContain(r => r.PartitionKey == trace.XRayTraceId && r.Length <= OtlpIntake.MaxRecordBytes);
        records.Sum(r => OtlpRecordReader.Read(r.Data).Spans).Should().Be(41);
    }

    [Theory]
    [InlineData("GET", "/v1/traces", 405)]
    [InlineData("POST", "/v1/metrics", 404)]
    public void WrongMethodOrPath_IsRefused(string method, string path, int status)
    {
        var (receiver, _) = Receiver();

        receiver.Handle(method, path, Headers("application/x-protobuf"), []).Status.Should().Be(status);
    }
}
