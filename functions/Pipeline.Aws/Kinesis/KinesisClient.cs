using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Runtime.Buffers;

namespace Pipeline.Aws.Kinesis;

/// <summary>Kinesis Data Streams over JSON 1.1, signed with SigV4.</summary>
internal sealed class KinesisClient : IKinesisClient
{
    /// <summary>JSON 1.1 protocol: this exact content type, nothing appended (service protocol spec).</summary>
    public const string ContentType = "application/x-amz-json-1.1";

    /// <summary>X-Amz-Target prefix: the service's API version name.</summary>
    public const string TargetPrefix = "Kinesis_20131202.";

    /// <summary>PutRecords limit per call (Kinesis API reference).</summary>
    public const int MaxRecordsPerPut = 500;

    /// <summary>PutRecords' 5 MiB of data is 6.7 MiB as base64 in JSON; no request body we send is larger than this.</summary>
    internal const int MaxPutRecordsBodyBytes = 16 * 1024 * 1024;

    /// <summary>GetRecords Limit range (Kinesis API reference).</summary>
    public const int MaxGetRecordsLimit = 10_000;

    /// <summary>ListShards pages we follow before giving up: 1,000 shards a page is far beyond any stream here.</summary>
    public const int MaxListShardsPages = 100;

    private readonly AwsHttpClient _http;

    public KinesisClient(AwsHttpClient http) => _http = http;

    public Task CreateStreamAsync(string streamName, int shardCount, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamName);
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        return CallAsync("CreateStream", new CreateStreamRequest(streamName, shardCount), KinesisJsonContext.Default.CreateStreamRequest, cancellationToken);
    }

    public async Task<StreamSummary> DescribeStreamSummaryAsync(string streamName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamName);
        var response = await CallAsync(
            "DescribeStreamSummary",
            new StreamNameRequest(streamName),
            KinesisJsonContext.Default.StreamNameRequest,
            KinesisJsonContext.Default.DescribeStreamSummaryResponse,
            cancellationToken).ConfigureAwait(false);
        var summary = response.StreamDescriptionSummary ?? throw Malformed("DescribeStreamSummary", "StreamDescriptionSummary");
        return new StreamSummary(
            summary.StreamName ?? streamName,
            summary.StreamARN ?? string.Empty,
            summary.StreamStatus ?? string.Empty,
            summary.OpenShardCount);
    }

    public async Task<IReadOnlyList<Shard>> ListShardsAsync(string streamName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamName);
        var shards = new List<Shard>();
        var request = new ListShardsRequest { StreamName = streamName };
        for (var page = 0; page < MaxListShardsPages; page++)
        {
            var response = await CallAsync(
                "ListShards",
                request,
                KinesisJsonContext.Default.ListShardsRequest,
                KinesisJsonContext.Default.ListShardsResponse,
                cancellationToken).ConfigureAwait(false);
            foreach (var shard in response.Shards ?? [])
            {
                shards.Add(new Shard(shard.ShardId, shard.HashKeyRange?.StartingHashKey ?? string.Empty, shard.HashKeyRange?.EndingHashKey ?? string.Empty));
            }

            if (string.IsNullOrEmpty(response.NextToken))
            {
                return shards;
            }

            // A continuation call carries the token only (StreamName with NextToken is rejected).
            request = new ListShardsRequest { NextToken = response.NextToken };
        }

        throw new InvalidOperationException($"ListShards for {streamName} did not end within {MaxListShardsPages} pages.");
    }

    public async Task<PutRecordsResult> PutRecordsAsync(string streamName, IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamName);
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count is 0 or > MaxRecordsPerPut)
        {
            throw new ArgumentOutOfRangeException(nameof(records), records.Count, $"PutRecords takes 1 to {MaxRecordsPerPut} records.");
        }

        // Serialized once, straight into a pooled buffer (base64 written by the JSON writer from
        // the records' own memory); the same bytes are hashed, signed and sent on every attempt.
        PutRecordsResponseWire response;
        using (var body = new PooledBufferWriter(EstimatePutRecordsBytes(streamName, records), MaxPutRecordsBodyBytes))
        {
            WritePutRecords(body, streamName, records);
            var answer = await SendAsync("PutRecords", body.WrittenMemory, cancellationToken).ConfigureAwait(false);
            response = JsonSerializer.Deserialize(answer.Body, KinesisJsonContext.Default.PutRecordsResponseWire) ?? throw Malformed("PutRecords", "a body");
        }

        var results = response.Records ?? [];
        if (results.Count != records.Count)
        {
            throw Malformed("PutRecords", $"Records ({results.Count} results for {records.Count} records)");
        }

        var entries = new PutRecordsResultEntry[results.Count];
        var failed = 0;
        for (var i = 0; i < entries.Length; i++)
        {
            var r = results[i];
            var errorCode = string.IsNullOrEmpty(r.ErrorCode) ? null : r.ErrorCode;
            failed += errorCode is null ? 0 : 1;
            entries[i] = new PutRecordsResultEntry(r.SequenceNumber, r.ShardId, errorCode, r.ErrorMessage);
        }

        // Counted from the entries: they are what callers retry, whatever the summary field says.
        return new PutRecordsResult(failed, entries);
    }

    public async Task<string> GetShardIteratorAsync(
        string streamName,
        string shardId,
        ShardIteratorType type,
        string? startingSequenceNumber = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamName);
        ArgumentException.ThrowIfNullOrEmpty(shardId);
        var needsSequence = type is ShardIteratorType.AtSequenceNumber or ShardIteratorType.AfterSequenceNumber;
        if (needsSequence && string.IsNullOrEmpty(startingSequenceNumber))
        {
            throw new ArgumentException($"{type} needs a starting sequence number.", nameof(startingSequenceNumber));
        }

        var response = await CallAsync(
            "GetShardIterator",
            new GetShardIteratorRequest(streamName, shardId, WireName(type), needsSequence ? startingSequenceNumber : null),
            KinesisJsonContext.Default.GetShardIteratorRequest,
            KinesisJsonContext.Default.GetShardIteratorResponse,
            cancellationToken).ConfigureAwait(false);
        return response.ShardIterator ?? throw Malformed("GetShardIterator", "ShardIterator");
    }

    public async Task<GetRecordsResult> GetRecordsAsync(string shardIterator, int limit = MaxGetRecordsLimit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(shardIterator);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxGetRecordsLimit);
        var response = await CallAsync(
            "GetRecords",
            new GetRecordsRequest(shardIterator, limit),
            KinesisJsonContext.Default.GetRecordsRequest,
            KinesisJsonContext.Default.GetRecordsResponse,
            cancellationToken).ConfigureAwait(false);
        var records = (response.Records ?? [])
            .Select(r => new KinesisRecord(r.SequenceNumber, r.PartitionKey, r.Data, FromEpochSeconds(r.ApproximateArrivalTimestamp)))
            .ToList();
        return new GetRecordsResult(records, response.NextShardIterator, response.MillisBehindLatest);
    }

    /// <summary>The PutRecords body, as the JSON 1.1 shape <see cref="PutRecordsRequestWire"/> serializes it.</summary>
    internal static void WritePutRecords(IBufferWriter<byte> output, string streamName, IReadOnlyList<PutRecordsEntry> records)
    {
        using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        json.WriteString("StreamName"u8, streamName);
        json.WriteStartArray("Records"u8);
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            json.WriteStartObject();
            json.WriteBase64String("Data"u8, record.Data.Span);
            json.WriteString("PartitionKey"u8, record.PartitionKey);
            if (record.ExplicitHashKey is not null)
            {
                json.WriteString("ExplicitHashKey"u8, record.ExplicitHashKey);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static int EstimatePutRecordsBytes(string streamName, IReadOnlyList<PutRecordsEntry> records)
    {
        long size = 64 + streamName.Length;
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            size += ((record.Data.Length + 2) / 3 * 4) + record.PartitionKey.Length + (record.ExplicitHashKey?.Length ?? 0) + 64;
        }

        return (int)Math.Min(size, MaxPutRecordsBodyBytes);
    }

    internal static string WireName(ShardIteratorType type) => type switch
    {
        ShardIteratorType.TrimHorizon => "TRIM_HORIZON",
        ShardIteratorType.Latest => "LATEST",
        ShardIteratorType.AtSequenceNumber => "AT_SEQUENCE_NUMBER",
        ShardIteratorType.AfterSequenceNumber => "AFTER_SEQUENCE_NUMBER",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    internal static DateTimeOffset FromEpochSeconds(double seconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000));

    private static InvalidDataException Malformed(string operation, string member) =>
        new($"Kinesis {operation} answer lacks {member}.");

    private async Task CallAsync<TRequest>(string operation, TRequest request, JsonTypeInfo<TRequest> requestType, CancellationToken cancellationToken)
    {
        await SendAsync(operation, JsonSerializer.SerializeToUtf8Bytes(request, requestType), cancellationToken).ConfigureAwait(false);
    }

    private async Task<TResponse> CallAsync<TRequest, TResponse>(
        string operation, TRequest request, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken)
    {
        var response = await SendAsync(operation, JsonSerializer.SerializeToUtf8Bytes(request, requestType), cancellationToken).ConfigureAwait(false);
        return JsonSerializer.Deserialize(response.Body, responseType) ?? throw Malformed(operation, "a body");
    }

    private Task<AwsResponse> SendAsync(string operation, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        _http.SendAsync(
            new AwsRequest(AwsService.Kinesis, operation, HttpMethod.Post, "/", ContentType, body) { Target = TargetPrefix + operation },
            cancellationToken);
}
