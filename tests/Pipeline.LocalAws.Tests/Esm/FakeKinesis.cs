using System.Globalization;
using Pipeline.Aws.Kinesis;

namespace Pipeline.LocalAws.Tests.Esm;

/// <summary>
/// An in-memory Kinesis stream for the event-source mapping: shards of records with per-shard
/// sequence numbers, iterators that encode a shard and a position, GetRecords with a limit.
/// </summary>
internal sealed class FakeKinesis : IKinesisClient
{
    private readonly Dictionary<string, List<KinesisRecord>> _shards = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private int _getRecordsFailures;

    public FakeKinesis(int shards)
    {
        for (var i = 0; i < shards; i++)
        {
            _shards[$"shardId-{i:D12}"] = [];
        }
    }

    public IReadOnlyList<string> ShardIds => [.. _shards.Keys];

    /// <summary>The next N GetRecords calls throw (an unreachable endpoint).</summary>
    public void FailNextGetRecords(int times) => Interlocked.Exchange(ref _getRecordsFailures, times);

    public IReadOnlyList<KinesisRecord> Put(string shardId, params string[] payloads)
    {
        lock (_gate)
        {
            var shard = _shards[shardId];
            var added = payloads.Select((p, i) => new KinesisRecord(
                (shard.Count + 1 + i).ToString(CultureInfo.InvariantCulture),
                "pk-" + p,
                System.Text.Encoding.UTF8.GetBytes(p),
                new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero))).ToList();
            shard.AddRange(added);
            return added;
        }
    }

    public Task CreateStreamAsync(string streamName, int shardCount, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task<StreamSummary> DescribeStreamSummaryAsync(string streamName, CancellationToken cancellationToken = default) =>
        Task.FromResult(new StreamSummary(streamName, "arn:aws:kinesis:us-east-1:123456789012:stream/" + streamName, "ACTIVE", _shards.Count));

    public Task<IReadOnlyList<Shard>> ListShardsAsync(string streamName, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<Shard>>([.. _shards.Keys.Select(id => new Shard(id, "0", "1"))]);

    public Task<PutRecordsResult> PutRecordsAsync(string streamName, IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("the mapping only reads");

    public Task<string> GetShardIteratorAsync(string streamName, string shardId, ShardIteratorType type, string? startingSequenceNumber = null, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var shard = _shards[shardId];
            var position = type switch
            {
                ShardIteratorType.TrimHorizon => 0,
                ShardIteratorType.Latest => shard.Count,
                ShardIteratorType.AtSequenceNumber => shard.FindIndex(r => r.SequenceNumber == startingSequenceNumber),
                ShardIteratorType.AfterSequenceNumber => shard.FindIndex(r => r.SequenceNumber == startingSequenceNumber) + 1,
                _ => throw new ArgumentOutOfRangeException(nameof(type)),
            };
            return Task.FromResult($"{shardId}|{position}");
        }
    }

    public Task<GetRecordsResult> GetRecordsAsync(string shardIterator, int limit = 10000, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Decrement(ref _getRecordsFailures) >= 0)
        {
            throw new HttpRequestException("connection refused");
        }

        lock (_gate)
        {
            var parts = shardIterator.Split('|');
            var shard = _shards[parts[0]];
            var position = int.Parse(parts[1], CultureInfo.InvariantCulture);
            var records = shard.Skip(position).Take(limit).ToList();
            return Task.FromResult(new GetRecordsResult(records, $"{parts[0]}|{position + records.Count}", 0));
        }
    }
}
