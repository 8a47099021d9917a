using System.Net;
using System.Text;
using System.Text.Json;
using Pipeline.Aws.Http;
using Pipeline.Aws.Ses;
using Pipeline.Aws.Tests.Support;
using Pipeline.Aws.XRay;

namespace Pipeline.Aws.Tests;

/// <summary>The X-Ray and SES v2 rest-json wire formats, on a fake handler.</summary>
public sealed class XRayAndSesClientTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private readonly RecordingTimeProvider _time = new(TestAws.SigningTime);

    [Fact]
    public async Task PutTraceSegments_Request_PostsDocumentsAsStrings()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.OK, """{"UnprocessedTraceSegments":[]}""");
        using var aws = TestAws.Clients(handler, _time);
        var doc = """{"id":"70de5b6f19ff9a0a","name":"svc","trace_id":"1-581cf771-a006649127e371903a2de979","start_time":1.478293361271E9,"end_time":1.478293361449E9}""";

        var unprocessed = await aws.XRay.PutTraceSegmentsAsync([doc, doc], _ct);

        unprocessed.Should().BeEmpty();
        var request = handler.Requests.Single();
        request.Uri.AbsolutePath.Should().Be("/TraceSegments");
        request.Header("Content-Type").Should().Be("application/json");
        request.Header("X-Amz-Target").Should().BeNull();
        request.Header("Authorization").Should().Contain("/us-east-1/xray/aws4_request");
        var docs = JsonDocument.Parse(request.Body).RootElement.GetProperty("TraceSegmentDocuments");
        docs.GetArrayLength().Should().Be(2);
        docs[0].GetString().Should().Be(doc);
    }

    [Fact]
    public async Task PutTraceSegments_Unprocessed_AreReturnedWithTheirReasons()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.OK, """{"UnprocessedTraceSegments":[{"Id":"70de5b6f19ff9a0a","ErrorCode":"InvalidTraceId","Message":"bad id"}]}""");
        using var aws = TestAws.Clients(handler, _time);

        var unprocessed = await aws.XRay.PutTraceSegmentsAsync(["{}"], _ct);

        unprocessed.Should().Equal(new UnprocessedTraceSegment("70de5b6f19ff9a0a", "InvalidTraceId", "bad id"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(51)]
    public async Task PutTraceSegments_OutsideOneTo50Documents_IsRejectedBeforeSending(int count)
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.OK, "{}");
        using var aws = TestAws.Clients(handler, _time);

        var act = () => aws.XRay.PutTraceSegmentsAsync(Enumerable.Repeat("{}", count).ToList(), _ct);

        await act.Should().ThrowAsync<ArgumentOutOfRangeException>();
        handler.Calls.Should().Be(0);
    }

    [Fact]
    public async Task PutTraceSegments_Throttled_ThrowsThrottlingAfterRetries()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.TooManyRequests, """{"message":"Rate exceeded"}""", errorType: "ThrottledException");
        using var aws = TestAws.Clients(handler, _time);

        var act = () => _time.RunAsync(aws.XRay.PutTraceSegmentsAsync(["{}"], _ct));

        (await act.Should().ThrowAsync<AwsThrottlingException>()).Which.ErrorCode.Should().Be("ThrottledException");
        handler.Calls.Should().Be(TestAws.Settings().Retry.MaxAttempts);
    }

    [Fact]
    public async Task SendRawEmail_Request_IsRawContentBase64WithDestinations()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.OK, """{"MessageId":"0100018c-abc"}""");
        using var aws = TestAws.Clients(handler, _time);
        var mime = Encoding.ASCII.GetBytes("From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nbody\r\n");

        var id = await aws.Ses.SendRawEmailAsync(new RawEmail(mime, "a@example.com", ["b@example.com"]), _ct);

        id.Should().Be("0100018c-abc");
        var request = handler.Requests.Single();
        request.Uri.AbsolutePath.Should().Be("/v2/email/outbound-emails");
        request.Uri.Host.Should().Be("email.us-east-1.amazonaws.com");
        request.Header("Authorization").Should().Contain("/us-east-1/ses/aws4_request");
        var json = JsonDocument.Parse(request.Body).RootElement;
        json.GetProperty("FromEmailAddress").GetString().Should().Be("a@example.com");
        json.GetProperty("Destination").GetProperty("ToAddresses")[0].GetString().Should().Be("b@example.com");
        Convert.FromBase64String(json.GetProperty("Content").GetProperty("Raw").GetProperty("Data").GetString()!).Should().Equal(mime);
    }

    [Fact]
    public async Task SendRawEmail_WithoutAddresses_LeavesThemToTheMimeHeaders()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.OK, """{"MessageId":"m"}""");
        using var aws = TestAws.Clients(handler, _time);

        await aws.Ses.SendRawEmailAsync(new RawEmail("Subject: x\r\n\r\ny"u8.ToArray()), _ct);

        var json = JsonDocument.Parse(handler.Requests.Single().Body).RootElement;
        json.TryGetProperty("FromEmailAddress", out _).Should().BeFalse();
        json.TryGetProperty("Destination", out _).Should().BeFalse();
    }

    [Fact]
    public async Task SendRawEmail_MessageRejected_IsAValidationErrorNotRetried()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.BadRequest, """{"message":"Email address is not verified."}""", errorType: "MessageRejected");
        using var aws = TestAws.Clients(handler, _time);

        var act = () => aws.Ses.SendRawEmailAsync(new RawEmail("x"u8.ToArray()), _ct);

        await act.Should().ThrowAsync<AwsValidationException>();
        handler.Calls.Should().Be(1);
    }

    [Fact]
    public async Task CreateEmailIdentity_Answer_IsMapped()
    {
        var handler = FakeAwsHandler.Always(HttpStatusCode.OK, """{"IdentityType":"EMAIL_ADDRESS","VerifiedForSendingStatus":false}""");
        using var aws = TestAws.Clients(handler, _time);

        var result = await aws.Ses.CreateEmailIdentityAsync("ops@example.com", _ct);

        result.Should().Be(new EmailIdentityResult("EMAIL_ADDRESS", false));
        handler.Requests.Single().BodyText.Should().Be("""{"EmailIdentity":"ops@example.com"}""");
    }
}
