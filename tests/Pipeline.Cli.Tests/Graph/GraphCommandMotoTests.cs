using System.CommandLine;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Aws.Http;
using Pipeline.Cli.Graph;
using Pipeline.Core.Graph;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;
using Pipeline.LocalAws.Moto;
using Pipeline.LocalAws.Stack;

namespace Pipeline.Cli.Tests.Graph;

/// <summary>`pipeline graph` against the local stack's archive bucket in moto, found through .pipeline/stack.json.</summary>
public sealed class GraphCommandMotoTests : IClassFixture<GraphTestArchive>, IClassFixture<MotoFixture>
{
    private static readonly HttpClient Http = AwsHttp.CreateClient();
    private readonly GraphTestArchive _archive;
    private readonly MotoFixture _moto;

    public GraphCommandMotoTests(GraphTestArchive archive, MotoFixture moto)
    {
        _archive = archive;
        _moto = moto;
    }

    [Theory]
    [InlineData("stream")]
    [InlineData("sql")]
    public async Task Graph_StackBucketInMoto_WritesGraphsToS3AndALocalCopy(string engine)
    {
        var bucket = MotoFixture.UniqueName("graph-archive");
        var work = Directory.CreateTempSubdirectory("pipeline-graph-work-");
        try
        {
            using var s3 = new AmazonS3Client(MotoServer.AccessKeyId, MotoServer.SecretAccessKey,
                new AmazonS3Config { ServiceURL = _moto.Endpoint.ToString(), ForcePathStyle = true, AuthenticationRegion = _moto.Region });
            await s3.PutBucketAsync(bucket, TestContext.Current.CancellationToken);
            foreach (var file in Directory.EnumerateFiles(Path.Combine(_archive.Root, "segments"), "*", SearchOption.AllDirectories))
            {
                var key = Path.GetRelativePath(_archive.Root, file).Replace(Path.DirectorySeparatorChar, '/');
                await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, FilePath = file }, TestContext.Current.CancellationToken);
            }

            LocalStackFile(_moto, bucket).Write(Path.Combine(work.FullName, ".pipeline", "stack.json"));
            var context = new GraphCommandContext(new FakeTimeProvider(GraphTestArchive.WindowEnd), new DictionaryEnvironment(), Http, work.FullName);
            var root = new RootCommand("pipeline") { GraphCommand.Create(context) };
            using var output = new StringWriter();
            using var error = new StringWriter();

            var code = await root.Parse(["graph", "--engine", engine, "--athena-dir", Path.Combine(RepoPaths.Root, "athena")])
                .InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);

            error.ToString().Should().BeEmpty();
            code.Should().Be(0);
            const string Key = "graphs/dt=2026-11-25/20261125T1200Z-20261125T1300Z.json";
            output.ToString().Should().Contain($"s3://{bucket}/{Key}").And.MatchRegex(@"service-a -> service-b\s+240 ");
            using var stored = await s3.GetObjectAsync(bucket, Key, TestContext.Current.CancellationToken);
            using var buffer = new MemoryStream();
            await stored.ResponseStream.CopyToAsync(buffer, TestContext.Current.CancellationToken);
            var document = ServiceGraphJson.TryDeserialize(buffer.ToArray())!;
            document.Engine.Should().Be(engine);
            document.Services.Select(s => s.Name).Should().Contain(["client", "service-a", "service-b", "orders"]);
            File.Exists(Path.Combine(work.FullName, ".pipeline", "graphs", "dt=2026-11-25", "20261125T1200Z-20261125T1300Z.svg")).Should().BeTrue();
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>The stack.json `pipeline up` would write for a stack on this moto with this archive bucket.</summary>
    internal static StackFile LocalStackFile(MotoFixture moto, string archiveBucket) => new()
    {
        Endpoint = moto.Endpoint.ToString().TrimEnd('/'),
        Region = moto.Region,
        Stream = "xray-pipeline-local",
        StreamArn = $"arn:aws:kinesis:{moto.Region}:{MotoServer.AccountId}:stream/xray-pipeline-local",
        Buckets = new StackBuckets(archiveBucket, null),
        Table = "xray-pipeline-decisions-local",
        SesIdentity = "pipeline@example.com",
        Relay = new StackRelay("127.0.0.1:2000", "127.0.0.1:2000", "tcp:127.0.0.1:2000 udp:127.0.0.1:2000"),
        MetricsUrl = "http://127.0.0.1:2112/metrics",
        Pids = new StackPids { Up = 1, Moto = 1, Relay = 1 },
        LogDir = "logs",
        StartedAt = DateTimeOffset.UnixEpoch,
    };
}
