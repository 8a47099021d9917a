using Pipeline.Aws.Configuration;

namespace Pipeline.Aws.Http;

/// <summary>One call to an AWS service before signing: the body is already serialized.</summary>
internal sealed record AwsRequest(AwsService Service, string Operation, HttpMethod Method, string Path, string ContentType, ReadOnlyMemory<byte> Body)
{
    /// <summary>X-Amz-Target for JSON 1.1 services, e.g. "Kinesis_20131202.PutRecords"; null for rest-json.</summary>
    public string? Target { get; init; }

    /// <summary>Answer headers the caller reads (Lambda's X-Amz-Function-Error); kept in <see cref="AwsResponse.Headers"/>.</summary>
    public IReadOnlyList<string>? ResponseHeaders { get; init; }
}

/// <summary>A successful answer: status 2xx and its body.</summary>
internal sealed record AwsResponse(System.Net.HttpStatusCode StatusCode, byte[] Body, string? RequestId)
{
    /// <summary>The headers named in <see cref="AwsRequest.ResponseHeaders"/> that the answer had (names as asked, case-insensitive).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}
