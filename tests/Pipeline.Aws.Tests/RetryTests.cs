using System.Net;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Aws.Tests.Support;
using Pipeline.Runtime.Resilience;

namespace Pipeline.Aws.Tests;

/// <summary>Retry policy and the sender's retry loop, on fake HTTP and fake time.</summary>
public sealed class RetryTests
{
    private static readonly BackoffOptions FourAttempts = new() { MaxAttempts = 4, BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) };
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("ValidationException", HttpStatusCode.BadRequest)]
    [InlineData("ResourceNotFoundException", HttpStatusCode.BadRequest)]
    [InlineData("AccessDeniedException", HttpStatusCode.BadRequest)]
    [InlineData("ResourceInUseException", HttpStatusCode.BadRequest)]
    public async Task NonRetryableError_IsThrownAfterOneAttempt(string code, HttpStatusCode status)
    {
        var handler = FakeAwsHandler.Always(status, $$"""{"__type":"{{code}}","message":"no"}""");
        var time = new RecordingTimeProvider(TestAws.SigningTime);
        using var aws = TestAws.Clients(handler, time, TestAws.Settings(FourAttempts));

        var act = () => time.RunAsync(aws.Kinesis.DescribeStreamSummaryAsync("s", _ct));

        (await act.Should().ThrowAsync<AwsServiceException>()).Which.ErrorCode.Should().Be(code);
        handler.Calls.Should().Be(1);
        time.DueTimes.Should().BeEmpty();
    }

    [Theory]
    [InlineData("ProvisionedThroughputExceededException", HttpStatusCode.BadRequest)]
    [InlineData("ThrottlingException", HttpStatusCode.BadRequest)]
    [InlineData("LimitExceededException", HttpStatusCode.BadRequest)]
    [InlineData("InternalFailure", HttpStatusCode.InternalServerError)]
    [InlineData("ServiceUnavailable", HttpStatusCode.ServiceUnavailable)]
    public async Task RetryableError_IsRetriedUntilSuccess(string code, HttpStatusCode status)
    {
        var handler = FakeAwsHandler.Sequence(
            () => FakeAwsHandler.Response(status, $$"""{"__type":"{{code}}"}"""),
            () => FakeAwsHandler.Response(status, $$"""{"__type":"{{code}}"}"""),
            () => FakeAwsHandler.Response(HttpStatusCode.OK, """{"ShardIterator":"it-1"}"""));
        var time = new RecordingTimeProvider(TestAws.SigningTime);
        using var aws = TestAws.Clients(handler, time, TestAws.Settings(FourAttempts));

        var iterator = await time.RunAsync(aws.Kinesis.GetShardIteratorAsync("s", "shardId-000000000000", Kinesis.ShardIteratorType.TrimHorizon, cancellationToken: _ct));

        iterator.Should().Be("it-1");
        handler.Calls.Should().Be(3);
        time.DueTimes.Should().HaveCount(2);
    }

    [Fact]
    public async Task PersistentThrottling_StopsAtMaxAttemptsAndThrowsTheLastError()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.BadRequest, """{"__type":"ProvisionedThroughputExceededException","message":"slow down"}""");
        var time = new RecordingTimeProvider(TestAws.SigningTime);
        using var aws = TestAws.Clients(handler, time, TestAws.Settings(FourAttempts));

        var act = () => time.RunAsync(aws.Kinesis.PutRecordsAsync("s", [new(new byte[] { 1 }, "k")], _ct));

        await act.Should().ThrowAsync<ProvisionedThroughputExceededException>();
        handler.Calls.Should().Be(4);
        time.DueTimes.Should().HaveCount(3);
    }

    [Fact]
    public async Task Backoff_EachWaitIsWithinItsJitterBounds()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.InternalServerError, "{}");
        var time = new RecordingTimeProvider(TestAws.SigningTime);
        var options = new BackoffOptions { MaxAttempts = 6, BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(500) };
        using var aws = TestAws.Clients(handler, time, TestAws.Settings(options));

        var act = () => time.RunAsync(aws.XRay.PutTraceSegmentsAsync(["{}"], _ct));

        await act.Should().ThrowAsync<AwsServiceException>();
        var caps = new[] { 100, 200, 400, 500, 500 };
        time.DueTimes.Should().HaveCount(caps.Length);
        for (var i = 0; i < caps.Length; i++)
        {
            time.DueTimes[i].Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(caps[i] / 2.0)).And.BeLessThanOrEqualTo(TimeSpan.FromMilliseconds(caps[i]));
        }
    }

    [Fact]
    public async Task TransientNetworkFailure_IsRetried()
    {
        var handler = new FakeAwsHandler((n, _) => n == 0
            ? throw new HttpRequestException("connection reset")
            : FakeAwsHandler.Response(HttpStatusCode.OK, """{"UnprocessedTraceSegments":[]}"""));
        var time = new RecordingTimeProvider(TestAws.SigningTime);
        using var aws = TestAws.Clients(handler, time, TestAws.Settings(FourAttempts));

        var unprocessed = await time.RunAsync(aws.XRay.PutTraceSegmentsAsync(["{}"], _ct));

        unprocessed.Should().BeEmpty();
        handler.Calls.Should().Be(2);
    }

    [Fact]
    public async Task CallerCancellation_IsNotRetried()
    {
        using var cts = new CancellationTokenSource();
        var handler = new FakeAwsHandler((_, _) =>
        {
            cts.Cancel();
            throw new OperationCanceledException(cts.Token);
        });
        var time = new RecordingTimeProvider(TestAws.SigningTime);
        using var aws = TestAws.Clients(handler, time, TestAws.Settings(FourAttempts));

        var act = () => time.RunAsync(aws.Kinesis.ListShardsAsync("s", cts.Token));

        await act.Should().ThrowAsync<OperationCanceledException>();
        handler.Calls.Should().Be(1);
    }

    [Fact]
    public async Task RetryNone_MakesExactlyOneAttempt()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.ServiceUnavailable, "{}");
        var time = new RecordingTimeProvider(TestAws.SigningTime);
        using var aws = TestAws.Clients(handler, time, TestAws.Settings(BackoffOptions.None));

        var act = () => time.RunAsync(aws.Kinesis.ListShardsAsync("s", _ct));

        await act.Should().ThrowAsync<AwsServiceException>();
        handler.Calls.Should().Be(1);
    }
}
