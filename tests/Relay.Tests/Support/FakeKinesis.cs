using System.Collections.Concurrent;
using Pipeline.Aws.Kinesis;

namespace Relay.Tests.Support;

/// <summary>
/// In-memory Kinesis: keeps every acknowledged record in order. <see cref="Behaviour"/> can fail
/// whole calls (throw) or single records (return an error code) to script outages and throttling.
/// </summary>
internal sealed class FakeKinesis : IKinesisClient
{
    private readonly ConcurrentQueue<PutRecordsEntry> _stored = new();
    private readonly List<int> _callSizes = [];
    private readonly Lock _lock = new();
    private int _inFlight;

    /// <summary>Per record: null to accept, or an error code. Called with (call number, record index, entry).</summary>
    public Func<int, int, PutRecordsEntry, string?>? RecordFailure { get; set; }

    /// <summary>Throws for a whole call when it returns an exception (call number).</summary>
    public Func<int, Exception?>? CallFailure { get; set; }

    /// <summary>Calls for which this is true never answer (until the caller gives up): a hanging endpoint.</summary>
    public Func<int, bool>? Hang { get; set; }

    /// <summary>Each call awaits this (call number) before it answers: a test holds calls open to see how many run at once.</summary>
    public Func<int, Task>? Hold { get; set; }

    /// <summary>Calls started and not yet answered.</summary>
    public int InFlight
    {
        get
        {
            lock (_lock)
            {
                return _inFlight;
            }
        }
    }

    public IReadOnlyList<Shard> Shards { get; set; } =
    [
        new("shardId-000000000000", "0", "170141183460469231731687303715884105727"),
        new("shardId-000000000001", "170141183460469231731687303715884105728", "340282366920938463463374607431768211455"),
    ];

    public int Calls { get; private set; }

    public int MaxConcurrentCalls { get; private set; }

    public IReadOnlyList<PutRecordsEntry> Stored => [.. _stored];

    public IReadOnlyList<int> CallSizes
    {
        get
        {
            lock (_lock)
            {
                return [.. _callSizes];
            }
        }
    }

    public async Task<PutRecordsResult> PutRecordsAsync(string streamName, IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default)
    {
        int call;
        lock (_lock)
        {
            call = ++Calls;
            _callSizes.Add(records.Count);
            _inFlight++;
            MaxConcurrentCalls = Math.Max(MaxConcurrentCalls, _inFlight);
        }

        try
        {
            await Task.Yield();
            if (Hang?.Invoke(call) == true)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            if (Hold?.Invoke(call) is { } hold)
            {
                await hold.WaitAsync(cancellationToken);
            }

            if (CallFailure?.Invoke(call) is { } failure)
            {
                throw failure;
            }

            records.Count.Should().BeLessThanOrEqualTo(500);
            records.Sum(r => r.Data.Length + r.PartitionKey.Length).Should().BeLessThanOrEqualTo(5 * 1024 * 1024);
            var results = new List<PutRecordsResultEntry>(records.Count);
            var failed = 0;
            for (var i = 0; i < records.Count; i++)
            {
                var error = RecordFailure?.Invoke(call, i, records[i]);
                if (error is null)
                {
                    // Copy: the relay reuses pooled buffers once a call returns.
                    var copy = records[i] with { Data = records[i].Data.ToArray() };
                    _stored.Enqueue(copy);
                    results.Add(new PutRecordsResultEntry(_stored.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), "shardId-000000000000", null, null));
                }
                else
                {
                    failed++;
                    results.Add(new PutRecordsResultEntry(null, null, error, "scripted failure"));
                }
            }

            return new PutRecordsResult(failed, results);
        }
        finally
        {
            lock (_lock)
            {
                _inFlight--;
            }
        }
    }

    public Task<IReadOnlyList<Shard>> ListShardsAsync(string streamName, CancellationToken cancellationToken = default) => Task.FromResult(Shards);

    public Task CreateStreamAsync(string streamName, int shardCount, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<StreamSummary> DescribeStreamSummaryAsync(string streamName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<string> GetShardIteratorAsync(string streamName, string shardId, ShardIteratorType type, string? startingSequenceNumber = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<GetRecordsResult> GetRecordsAsync(string shardIterator, int limit = 10000, CancellationToken cancellationToken = default) => throw new NotSupportedException();
}
