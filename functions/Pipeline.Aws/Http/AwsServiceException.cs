using System.Net;

namespace Pipeline.Aws.Http;

/// <summary>
/// An error answer from an AWS service: the service's error code (e.g. "ResourceNotFoundException"),
/// the HTTP status and the request id. Subclasses group the codes callers act on.
/// </summary>
public class AwsServiceException : Exception
{
    public AwsServiceException(string service, string errorCode, HttpStatusCode statusCode, string? requestId, string message)
        : base(Describe(service, errorCode, statusCode, requestId, message))
    {
        Service = service;
        ErrorCode = errorCode;
        StatusCode = statusCode;
        RequestId = requestId;
        ServiceMessage = message;
    }

    public AwsServiceException()
        : this("unknown", "Unknown", HttpStatusCode.InternalServerError, null, string.Empty)
    {
    }

    public AwsServiceException(string message)
        : this("unknown", "Unknown", HttpStatusCode.InternalServerError, null, message)
    {
    }

    public AwsServiceException(string message, Exception innerException)
        : base(message, innerException)
    {
        Service = "unknown";
        ErrorCode = "Unknown";
        StatusCode = HttpStatusCode.InternalServerError;
        ServiceMessage = message;
    }

    /// <summary>SigV4 signing name of the service that answered (kinesis, xray, ses, ...).</summary>
    public string Service { get; }

    /// <summary>The service's error code without namespace, e.g. "ValidationException".</summary>
    public string ErrorCode { get; }

    public HttpStatusCode StatusCode { get; }

    public string? RequestId { get; }

    /// <summary>The message the service gave, without our decoration.</summary>
    public string ServiceMessage { get; }

    /// <summary>Whether the same request may succeed later (throttling, 5xx).</summary>
    public virtual bool IsRetryable => (int)StatusCode >= 500;

    private static string Describe(string service, string errorCode, HttpStatusCode statusCode, string? requestId, string message) =>
        $"{service} {errorCode} ({(int)statusCode}){(requestId is null ? string.Empty : $" request {requestId}")}: {message}";
}

/// <summary>The caller is sending too fast (Throttling*, TooManyRequests, LimitExceeded, SlowDown, 429): retry later.</summary>
public class AwsThrottlingException(string service, string errorCode, HttpStatusCode statusCode, string? requestId, string message)
    : AwsServiceException(service, errorCode, statusCode, requestId, message)
{
    public override bool IsRetryable => true;
}

/// <summary>Kinesis/DynamoDB: the shard or table is over its write or read throughput.</summary>
public sealed class ProvisionedThroughputExceededException(string service, string errorCode, HttpStatusCode statusCode, string? requestId, string message)
    : AwsThrottlingException(service, errorCode, statusCode, requestId, message);

/// <summary>The request is malformed or a parameter is invalid: retrying the same request cannot help.</summary>
public sealed class AwsValidationException(string service, string errorCode, HttpStatusCode statusCode, string? requestId, string message)
    : AwsServiceException(service, errorCode, statusCode, requestId, message)
{
    public override bool IsRetryable => false;
}

/// <summary>The stream, bucket, table or identity does not exist.</summary>
public sealed class AwsResourceNotFoundException(string service, string errorCode, HttpStatusCode statusCode, string? requestId, string message)
    : AwsServiceException(service, errorCode, statusCode, requestId, message)
{
    public override bool IsRetryable => false;
}

/// <summary>The resource already exists or is busy (e.g. CreateStream on an existing stream).</summary>
public sealed class AwsResourceInUseException(string service, string errorCode, HttpStatusCode statusCode, string? requestId, string message)
    : AwsServiceException(service, errorCode, statusCode, requestId, message)
{
    public override bool IsRetryable => false;
}

/// <summary>The credentials are missing, wrong, expired or not allowed to do this.</summary>
public sealed class AwsAccessDeniedException(string service, string errorCode, HttpStatusCode statusCode, string? requestId, string message)
    : AwsServiceException(service, errorCode, statusCode, requestId, message)
{
    public override bool IsRetryable => false;
}
