using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Runtime.Resilience;

namespace Pipeline.Aws.DynamoDb;

/// <summary>One remembered per-trace sampling decision as the decision table holds it.</summary>
/// <param name="Reason">The reason's name (the Core enum's name; this layer does not interpret it).</param>
public sealed record StoredDecision(string TraceId, bool Keep, string Reason, DateTimeOffset DecidedAt, DateTimeOffset ExpiresAt);

/// <summary>
/// The tail-sampling decision table (template.yaml <c>DecisionTable</c>): partition key
/// <c>trace_id</c> (S), TTL attribute <c>expires_at</c> (N, epoch seconds). DynamoDB deletes expired
/// items lazily (up to days late) and moto never does, so reads drop items whose
/// <c>expires_at</c> has passed. Reads use BatchGetItem, writes BatchWriteItem; unprocessed keys
/// and items are resubmitted on the one backoff policy (<see cref="UnprocessedRetry"/>, counted as
/// operation <c>dynamodb.BatchGetItem.unprocessed</c> / <c>dynamodb.BatchWriteItem.unprocessed</c>),
/// then reported as an exception.
/// </summary>
public sealed class DynamoDbDecisionTable
{
    public const string TraceIdAttribute = "trace_id";
    public const string KeepAttribute = "keep";
    public const string ReasonAttribute = "reason";
    public const string DecidedAtAttribute = "decided_at";
    public const string ExpiresAtAttribute = "expires_at";

    /// <summary>BatchGetItem takes at most 100 keys. Source: DynamoDB API reference, BatchGetItem.</summary>
    public const int MaxKeysPerBatchGet = 100;

    /// <summary>BatchWriteItem takes at most 25 put/delete requests. Source: DynamoDB API reference, BatchWriteItem.</summary>
    public const int MaxItemsPerBatchWrite = 25;

    /// <summary>Rounds of resubmitting UnprocessedKeys/UnprocessedItems before giving up.</summary>
    public const int MaxUnprocessedRounds = 5;

    /// <summary>
    /// Waits between resubmissions of what a batch call left unprocessed (DynamoDB throttled part of
    /// it; the developer guide asks for exponential backoff between them).
    /// </summary>
    public static readonly BackoffOptions UnprocessedRetry = new()
    {
        MaxAttempts = MaxUnprocessedRounds + 1,
        BaseDelay = TimeSpan.FromMilliseconds(50),
        MaxDelay = TimeSpan.FromSeconds(1),
    };

    private const string BatchGetOperation = "dynamodb.BatchGetItem.unprocessed";
    private const string BatchWriteOperation = "dynamodb.BatchWriteItem.unprocessed";

    /// <summary>Trace ids per call to <see cref="GetLiveAsync"/> or <see cref="PutAsync"/>: a batch of 10,000 records is the ESM maximum.</summary>
    public const int MaxIdsPerCall = 20_000;

    private readonly IAmazonDynamoDB _dynamoDb;
    private readonly TimeProvider _timeProvider;
    private readonly Backoff _unprocessed;

    public DynamoDbDecisionTable(IAmazonDynamoDB dynamoDb, string tableName, TimeProvider timeProvider, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(dynamoDb);
        ArgumentException.ThrowIfNullOrWhiteSpace(tableName);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _dynamoDb = dynamoDb;
        TableName = tableName;
        _timeProvider = timeProvider;
        _unprocessed = new Backoff(UnprocessedRetry, random);
    }

    public string TableName { get; }

    /// <summary>The live (not expired) decisions among <paramref name="traceIds"/>; absent ids are simply missing.</summary>
    public async Task<IReadOnlyDictionary<string, StoredDecision>> GetLiveAsync(IReadOnlyCollection<string> traceIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(traceIds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(traceIds.Count, MaxIdsPerCall);
        var found = new Dictionary<string, StoredDecision>(StringComparer.Ordinal);
        var now = _timeProvider.GetUtcNow();
        var distinct = traceIds.Distinct(StringComparer.Ordinal).ToList();
        for (var offset = 0; offset < distinct.Count; offset += MaxKeysPerBatchGet)
        {
            var keys = distinct
                .Skip(offset)
                .Take(MaxKeysPerBatchGet)
                .Select(id => new Dictionary<string, AttributeValue> { [TraceIdAttribute] = new AttributeValue { S = id } })
                .ToList();
            var request = new Dictionary<string, KeysAndAttributes> { [TableName] = new KeysAndAttributes { Keys = keys, ConsistentRead = false } };
            for (var attempt = 1; request.Count > 0; attempt++)
            {
                if (attempt > 1 && !await _unprocessed.TryWaitAsync(BatchGetOperation, attempt - 1, _timeProvider, cancellationToken).ConfigureAwait(false))
                {
                    throw new DecisionTableException($"BatchGetItem on {TableName} left keys unprocessed after {MaxUnprocessedRounds} retries.");
                }

                var response = await _dynamoDb.BatchGetItemAsync(new BatchGetItemRequest { RequestItems = request }, cancellationToken).ConfigureAwait(false);
                if (response.Responses is not null && response.Responses.TryGetValue(TableName, out var items))
                {
                    foreach (var item in items)
                    {
                        if (TryRead(item, out var decision) && decision.ExpiresAt > now)
                        {
                            found[decision.TraceId] = decision;
                        }
                    }
                }

                request = response.UnprocessedKeys is { Count: > 0 } unprocessed ? unprocessed : [];
            }
        }

        return found;
    }

    /// <summary>Writes (or overwrites, extending the TTL) each decision.</summary>
    public async Task PutAsync(IReadOnlyCollection<StoredDecision> decisions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(decisions.Count, MaxIdsPerCall);

        // BatchWriteItem refuses two requests for one key in a call: the last decision wins.
        var distinct = decisions
            .GroupBy(d => d.TraceId, StringComparer.Ordinal)
            .Select(g => g.Last())
            .ToList();
        for (var offset = 0; offset < distinct.Count; offset += MaxItemsPerBatchWrite)
        {
            var writes = distinct
                .Skip(offset)
                .Take(MaxItemsPerBatchWrite)
                .Select(d => new WriteRequest { PutRequest = new PutRequest { Item = ToItem(d) } })
                .ToList();
            var request = new Dictionary<string, List<WriteRequest>> { [TableName] = writes };
            for (var attempt = 1; request.Count > 0; attempt++)
            {
                if (attempt > 1 && !await _unprocessed.TryWaitAsync(BatchWriteOperation, attempt - 1, _timeProvider, cancellationToken).ConfigureAwait(false))
                {
                    throw new DecisionTableException($"BatchWriteItem on {TableName} left items unprocessed after {MaxUnprocessedRounds} retries.");
                }

                var response = await _dynamoDb.BatchWriteItemAsync(new BatchWriteItemRequest { RequestItems = request }, cancellationToken).ConfigureAwait(false);
                request = response.UnprocessedItems is { Count: > 0 } unprocessed ? unprocessed : [];
            }
        }
    }

    internal static Dictionary<string, AttributeValue> ToItem(StoredDecision decision) => new()
    {
        [TraceIdAttribute] = new AttributeValue { S = decision.TraceId },
        [KeepAttribute] = new AttributeValue { BOOL = decision.Keep },
        [ReasonAttribute] = new AttributeValue { S = decision.Reason },
        [DecidedAtAttribute] = new AttributeValue { N = decision.DecidedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) },
        [ExpiresAtAttribute] = new AttributeValue { N = decision.ExpiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) },
    };

    /// <summary>Reads an item; one missing or malformed attribute makes it unreadable (ignored, as if absent).</summary>
    internal static bool TryRead(Dictionary<string, AttributeValue> item, out StoredDecision decision)
    {
        decision = null!;
        if (!item.TryGetValue(TraceIdAttribute, out var id) || string.IsNullOrEmpty(id.S)
            || !item.TryGetValue(ExpiresAtAttribute, out var expires) || !long.TryParse(expires.N, NumberStyles.Integer, CultureInfo.InvariantCulture, out var expiresSeconds))
        {
            return false;
        }

        var keep = item.TryGetValue(KeepAttribute, out var k) && k.BOOL == true;
        var reason = item.TryGetValue(ReasonAttribute, out var r) && r.S is { } text ? text : string.Empty;
        var decidedMs = item.TryGetValue(DecidedAtAttribute, out var d) && long.TryParse(d.N, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) ? ms : 0;
        decision = new StoredDecision(
            id.S,
            keep,
            reason,
            DateTimeOffset.FromUnixTimeMilliseconds(decidedMs),
            DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(expiresSeconds, 0, 253_402_300_799)));
        return true;
    }
}

/// <summary>The decision table could not complete a read or write within its bounds.</summary>
public sealed class DecisionTableException : Exception
{
    public DecisionTableException()
    {
    }

    public DecisionTableException(string message)
        : base(message)
    {
    }

    public DecisionTableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
