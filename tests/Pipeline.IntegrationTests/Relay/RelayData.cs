using System.Globalization;
using System.Text;
using Pipeline.Aws.Kinesis;

namespace Pipeline.IntegrationTests.Relay;

/// <summary>Datagrams the SDKs would send, and reading a stream back from moto.</summary>
internal static class RelayData
{
    public static string TraceId(int n) => $"1-5f84c7a4-{n.ToString("x24", CultureInfo.InvariantCulture)}";

    public static string Document(int n, int traceOf) =>
        "{\"trace_id\":\"" + TraceId(traceOf) + "\",\"id\":\"" + n.ToString("x16", CultureInfo.InvariantCulture)
        + "\",\"name\":\"service-a\",\"start_time\":1700000000.25,\"end_time\":1700000000.5}";

    public static byte[] Datagram(int n, int traceOf) => Encoding.UTF8.GetBytes("{\"format\":\"json\",\"version\":1}\n" + Document(n, traceOf));

    /// <summary>Every record of every shard, TRIM_HORIZON to the end, with its shard id.</summary>
    public static async Task<List<(string ShardId, KinesisRecord Record)>> ReadAllAsync(IKinesisClient kinesis, string stream)
    {
        var all = new List<(string, KinesisRecord)>();
        foreach (var shard in await kinesis.ListShardsAsync(stream, TestContext.Current.CancellationToken))
        {
            var iterator = await kinesis.GetShardIteratorAsync(stream, shard.ShardId, ShardIteratorType.TrimHorizon, cancellationToken: TestContext.Current.CancellationToken);
            for (var page = 0; page < 1000 && iterator is not null; page++)
            {
                var result = await kinesis.GetRecordsAsync(iterator, cancellationToken: TestContext.Current.CancellationToken);
                all.AddRange(result.Records.Select(r => (shard.ShardId, r)));
                if (result.Records.Count == 0 && result.MillisBehindLatest == 0)
                {
                    break;
                }

                iterator = result.NextShardIterator;
            }
        }

        return all;
    }

    /// <summary>Polls (bounded) until the stream holds at least <paramref name="count"/> records.</summary>
    public static async Task<List<(string ShardId, KinesisRecord Record)>> WaitForRecordsAsync(IKinesisClient kinesis, string stream, int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var records = await ReadAllAsync(kinesis, stream);
            if (records.Count >= count || DateTime.UtcNow > deadline)
            {
                return records;
            }

            await Task.Delay(250, TestContext.Current.CancellationToken);
        }
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not met in time");
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}
