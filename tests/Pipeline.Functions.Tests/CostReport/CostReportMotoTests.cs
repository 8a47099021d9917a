using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Core.Archive;
using Pipeline.Core.Cost;
using Pipeline.Core.Usage;
using Pipeline.Functions.CostReport;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;

namespace Pipeline.Functions.Tests.CostReport;

/// <summary>The handler against moto's S3 and SES v2 through the project's own clients.</summary>
public sealed class CostReportMotoTests(MotoFixture moto) : IClassFixture<MotoFixture>, IDisposable
{
    private readonly AwsClients _aws = AwsClients.Create(AwsSettings.FromEnvironment(new DictionaryEnvironment(moto.EnvironmentVariables)));
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 7, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task HandleAsync_AgainstMoto_StoresTheReportAndTheEmailLandsInSes()
    {
        var ct = TestContext.Current.CancellationToken;
        var bucket = MotoFixture.UniqueName("cost-archive");
        var sender = MotoFixture.UniqueName("reports") + "@example.com";
        await _aws.S3.PutBucketAsync(bucket, ct);
        await _aws.Ses.CreateEmailIdentityAsync(sender, ct);
        var record = new UsageRecord
        {
            Shard = "shardId-000000000000",
            FirstSequence = "1",
            LastSequence = "500",
            ArrivedAt = new DateTimeOffset(2026, 11, 25, 9, 0, 0, TimeSpan.Zero),
            TracesSeen = 150_000,
            TracesKept = 15_000,
            KeptByReason = new KeptByReason { Head = 14_000, TailError = 1_000 },
            Services = [new ServiceUsage { Name = "service-a", Segments = 300_000, Traces = 150_000, Kept = new KeptByReason { Head = 14_000, TailError = 1_000 } }],
        };
        await _aws.ObjectStore.PutAsync(bucket, ArchiveKeys.Usage(record.Shard, record.FirstSequence, record.ArrivedAt), UsageJson.Serialize(record), "application/json", ct);
        var handler = new CostReportHandler(Settings(bucket, sender), PriceTable.Default, _aws.ObjectStore, _aws.Ses, _time);

        using var input = new MemoryStream("""{"id":"1","detail-type":"Scheduled Event","source":"aws.events","time":"2026-11-26T07:00:00Z","detail":{}}"""u8.ToArray());
        await using var output = await handler.HandleAsync(input, Invocations.Context(_time));
        var result = (await JsonSerializer.DeserializeAsync(output, CostReportResultJsonContext.Default.CostReportResult, ct))!;

        var html = await _aws.ObjectStore.GetAsync(bucket, result.HtmlKey, ct);
        Encoding.UTF8.GetString(html!).Should().Contain("service-a");
        (await _aws.ObjectStore.GetAsync(bucket, result.PngKey, ct)).Should().NotBeNull();
        var sent = (await moto.ReadDataJsonAsync(ct)).GetProperty("ses").GetProperty("RawMessage");
        var ours = sent.EnumerateArray().Where(m => m.GetProperty("source").GetString() == sender).ToArray();
        ours.Should().ContainSingle();
        var raw = ours[0].GetProperty("raw_data").GetString();
        raw.Should().Contain("multipart/related").And.Contain("Content-Id: <" + "cost-chart-20261125@xray-pipeline>").And.Contain("image/png");
    }

    [Fact]
    public async Task HandleAsync_AgainstMoto_UnverifiedSender_FailsClearly()
    {
        var ct = TestContext.Current.CancellationToken;
        var bucket = MotoFixture.UniqueName("cost-archive");
        await _aws.S3.PutBucketAsync(bucket, ct);
        var handler = new CostReportHandler(Settings(bucket, MotoFixture.UniqueName("nobody") + "@example.com"), PriceTable.Default, _aws.ObjectStore, _aws.Ses, _time);

        using var input = new MemoryStream("{}"u8.ToArray());
        var act = () => handler.HandleAsync(input, Invocations.Context(_time));

        (await act.Should().ThrowAsync<InvalidOperationException>()).WithMessage("*not a verified identity*");
    }

    public void Dispose() => _aws.Dispose();

    private static CostReportSettings Settings(string bucket, string sender) => CostReportSettings.FromEnvironment(new DictionaryEnvironment
    {
        ["ARCHIVE_BUCKET"] = bucket,
        ["REPORT_SENDER"] = sender,
        ["REPORT_RECIPIENTS"] = "ops@example.com",
    });
}
