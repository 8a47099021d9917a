using System.Net;
using System.Text;
using Pipeline.Aws.Http;

namespace Pipeline.Aws.Tests;

public sealed class AwsErrorMapperTests
{
    [Theory]
    [InlineData("ThrottlingException", typeof(AwsThrottlingException))]
    [InlineData("ThrottledException", typeof(AwsThrottlingException))]
    [InlineData("TooManyRequestsException", typeof(AwsThrottlingException))]
    [InlineData("LimitExceededException", typeof(AwsThrottlingException))]
    [InlineData("SlowDown", typeof(AwsThrottlingException))]
    [InlineData("ProvisionedThroughputExceededException", typeof(ProvisionedThroughputExceededException))]
    [InlineData("ValidationException", typeof(AwsValidationException))]
    [InlineData("InvalidArgumentException", typeof(AwsValidationException))]
    [InlineData("InvalidRequestException", typeof(AwsValidationException))]
    [InlineData("SerializationException", typeof(AwsValidationException))]
    [InlineData("ResourceNotFoundException", typeof(AwsResourceNotFoundException))]
    [InlineData("NotFoundException", typeof(AwsResourceNotFoundException))]
    [InlineData("ResourceInUseException", typeof(AwsResourceInUseException))]
    [InlineData("AlreadyExistsException", typeof(AwsResourceInUseException))]
    [InlineData("AccessDeniedException", typeof(AwsAccessDeniedException))]
    [InlineData("UnrecognizedClientException", typeof(AwsAccessDeniedException))]
    [InlineData("ExpiredTokenException", typeof(AwsAccessDeniedException))]
    [InlineData("KMSDisabledException", typeof(AwsServiceException))]
    public void Map_Json11TypeInBody_GivesTheTypedException(string code, Type expected)
    {
        var error = Map(HttpStatusCode.BadRequest, null, $$"""{"__type":"{{code}}","message":"it failed"}""");

        error.Should().BeOfType(expected);
        error.ErrorCode.Should().Be(code);
        error.ServiceMessage.Should().Be("it failed");
        error.StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public void Map_NamespacedTypeAndHeader_AreCleanedAndTheHeaderWins()
    {
        var error = Map(
            HttpStatusCode.BadRequest,
            "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.kinesis/",
            """{"__type":"com.amazonaws.kinesis.v20131202#ValidationException","Message":"Stream x not found"}""");

        error.Should().BeOfType<AwsResourceNotFoundException>();
        error.ErrorCode.Should().Be("ResourceNotFoundException");
        error.ServiceMessage.Should().Be("Stream x not found");
    }

    [Fact]
    public void Map_NamespacedTypeInBodyOnly_KeepsTheShapeName()
    {
        var error = Map(HttpStatusCode.BadRequest, null, """{"__type":"com.amazonaws.kinesis.v20131202#ProvisionedThroughputExceededException"}""");

        error.Should().BeOfType<ProvisionedThroughputExceededException>();
        error.IsRetryable.Should().BeTrue();
    }

    [Fact]
    public void Map_RequestIdAndService_AreCarriedIntoTheMessage()
    {
        var error = AwsErrorMapper.Map("xray", HttpStatusCode.BadRequest, "InvalidRequestException", "abc-123", "{}"u8);

        (error.Service, error.RequestId).Should().Be(("xray", "abc-123"));
        error.Message.Should().Contain("xray").And.Contain("InvalidRequestException").And.Contain("abc-123").And.Contain("400");
    }

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests, typeof(AwsThrottlingException), true)]
    [InlineData(HttpStatusCode.InternalServerError, typeof(AwsServiceException), true)]
    [InlineData(HttpStatusCode.ServiceUnavailable, typeof(AwsServiceException), true)]
    [InlineData(HttpStatusCode.Forbidden, typeof(AwsAccessDeniedException), false)]
    [InlineData(HttpStatusCode.NotFound, typeof(AwsResourceNotFoundException), false)]
    [InlineData(HttpStatusCode.Conflict, typeof(AwsServiceException), false)]
    public void Map_NoCodeAtAll_FallsBackOnTheStatus(HttpStatusCode status, Type expected, bool retryable)
    {
        var error = Map(status, null, "<html>proxy error</html>");

        error.Should().BeOfType(expected);
        error.IsRetryable.Should().Be(retryable);
        error.ServiceMessage.Should().Contain("proxy error");
    }

    [Fact]
    public void Map_XmlBody_ReadsTheCodeAndMessage()
    {
        var error = Map(HttpStatusCode.ServiceUnavailable, null, "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>");

        error.Should().BeOfType<AwsThrottlingException>();
        error.ErrorCode.Should().Be("SlowDown");
        error.ServiceMessage.Should().Be("Reduce your request rate.");
    }

    [Fact]
    public void Map_QueryProtocolErrorResponse_ReadsTheCodeAndDecodedMessage()
    {
        // CloudFormation's answer to DescribeStacks for a stack that does not exist (query protocol).
        var error = Map(HttpStatusCode.BadRequest, null,
            "<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id &quot;x&quot; does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>");

        error.ErrorCode.Should().Be("ValidationError");
        error.ServiceMessage.Should().Be("Stack with id \"x\" does not exist");
        error.IsRetryable.Should().BeFalse();
    }

    [Fact]
    public void Map_TruncatedJson_DoesNotThrowAndKeepsAnExcerpt()
    {
        var error = Map(HttpStatusCode.InternalServerError, null, """{"__type":"Internal""");

        error.ErrorCode.Should().Be("InternalFailure");
        error.ServiceMessage.Should().Contain("__type");
    }

    [Fact]
    public void Map_HugeBody_MessageIsBounded()
    {
        var error = Map(HttpStatusCode.BadGateway, null, new string('x', 100_000));

        error.ServiceMessage.Length.Should().BeLessThanOrEqualTo(512);
    }

    private static AwsServiceException Map(HttpStatusCode status, string? errorType, string body) =>
        AwsErrorMapper.Map("kinesis", status, errorType, "req-1", Encoding.UTF8.GetBytes(body));
}
