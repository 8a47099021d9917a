using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Functions.ServiceGraph;
using Pipeline.Lambda;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;
using Pipeline.Testing.Faults;

namespace Pipeline.IntegrationTests.Aws;

/// <summary>
/// S3's two answers to a read of an object that may not exist, through the fault proxy in front
/// of moto: 404 NoSuchKey (moto's own answer) is "missing"; 403 AccessDenied, which S3 sends for
/// a missing key to a caller that may not list the bucket and which moto never sends without its
/// IAM mode, is an error that names the key and the permissions, never "missing".
/// </summary>
public sealed class ObjectStoreAccessDeniedTests(MotoFixture moto) : IAsyncLifetime
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly string _bucket = MotoFixture.UniqueName("denied");
    private FaultProxy? _proxy;
    private AwsClients? _viaProxy;

    private FaultProxy Proxy => _proxy!;

    private AwsClients ViaProxy => _viaProxy!;

    public async ValueTask InitializeAsync()
    {
        _proxy = await FaultProxy.StartAsync(moto.Endpoint, cancellationToken: _ct);
        var variables = new Dictionary<string, string>(moto.EnvironmentVariables) { [AwsSettings.EndpointUrlVariable] = _proxy.Endpoint.ToString() };
        _viaProxy = AwsClients.Create(AwsSettings.FromEnvironment(new DictionaryEnvironment(variables)), MotoAws.Http);
        await MotoAws.Clients(moto).S3.PutBucketAsync(_bucket, _ct);
    }

    public async ValueTask DisposeAsync()
    {
        _viaProxy?.Dispose();
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }
    }

    [Fact]
    public async Task Get_S3Answers404_IsMissing()
    {
        var read = await ViaProxy.ObjectStore.GetAsync(_bucket, "graphs/dt=2026-12-01/none.json", _ct);

        read.Should().BeNull();
        Proxy.Requests.Should().ContainSingle(r => r.Service == "s3" && r.Method == "GET");
    }

    [Fact]
    public async Task Get_S3Answers403ForAMissingKey_ThrowsAccessDeniedNamingTheKeyAndTheListPermission()
    {
        var rule = Proxy.Add(new FaultRule(FaultResponses.S3AccessDenied()) { Service = "s3", Operation = "GET", PathContains = "/graphs/" });

        var read = () => ViaProxy.ObjectStore.GetAsync(_bucket, "graphs/dt=2026-12-01/none.json", _ct);

        var denied = (await read.Should().ThrowAsync<AwsAccessDeniedException>()).Which;
        denied.StatusCode.Should().Be(System.Net.HttpStatusCode.Forbidden);
        denied.ErrorCode.Should().Be("AccessDenied");
        denied.IsRetryable.Should().BeFalse();
        denied.Message.Should().Contain($"s3://{_bucket}/graphs/dt=2026-12-01/none.json").And.Contain("s3:ListBucket").And.Contain("s3:GetObject");
        rule.Injected.Should().Be(1, "a denial is not retried");
    }

    [Fact]
    public async Task Get_S3Answers403ForAnObjectThatExists_StillThrows()
    {
        await MotoAws.Clients(moto).ObjectStore.PutAsync(_bucket, "reports/dt=2026-11-30/report.json", "{}"u8.ToArray(), "application/json", _ct);
        Proxy.Add(new FaultRule(FaultResponses.S3AccessDenied()) { Service = "s3", PathContains = "/reports/" });

        var read = () => ViaProxy.ObjectStore.GetAsync(_bucket, "reports/dt=2026-11-30/report.json", _ct);

        await read.Should().ThrowAsync<AwsAccessDeniedException>();
    }

    [Fact]
    public async Task ListAndPut_S3Answers403_ThrowAccessDeniedNamingTheCall()
    {
        Proxy.Add(new FaultRule(FaultResponses.S3AccessDenied()) { Service = "s3" });

        var list = () => ViaProxy.ObjectStore.ListAsync(_bucket, "usage/", cancellationToken: _ct);
        var put = () => ViaProxy.ObjectStore.PutAsync(_bucket, "graphs/a.json", "{}"u8.ToArray(), "application/json", _ct);

        (await list.Should().ThrowAsync<AwsAccessDeniedException>()).Which.Message.Should().Contain("s3:ListBucket").And.Contain("usage/");
        (await put.Should().ThrowAsync<AwsAccessDeniedException>()).Which.Message.Should().Contain($"s3:PutObject on s3://{_bucket}/graphs/a.json");
    }

    [Fact]
    public async Task ServiceGraph_PreviousGraphDenied_FailsWithTheReasonInsteadOfDiffingAgainstNothing()
    {
        Proxy.Add(new FaultRule(FaultResponses.S3AccessDenied()) { Service = "s3", Operation = "GET", PathContains = "/graphs/" });
        var handler = new ServiceGraphHandler(new ServiceGraphOptions { ArchiveBucket = _bucket }, ViaProxy.ObjectStore, sql: null);
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(
            """{"id":"1","detail-type":"Scheduled Event","source":"aws.events","time":"2026-12-01T11:00:00Z","detail":{}}"""));
        var context = new InvocationContext("r", TimeProvider.System.GetUtcNow().AddMinutes(1), null, null, TimeProvider.System, NullLogger.Instance, _ct);

        var run = () => handler.HandleAsync(input, context);

        (await run.Should().ThrowAsync<AwsAccessDeniedException>()).Which.Message.Should().Contain("/graphs/dt=2026-12-01/");
        (await MotoAws.Clients(moto).ObjectStore.ListAsync(_bucket, "graphs/", cancellationToken: _ct)).Should().BeEmpty("no graph is written without its diff input");
    }
}
