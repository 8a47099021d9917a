using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Pipeline.Testing.Faults;

namespace Pipeline.Testing.Iam;

/// <summary>
/// What IAM authorizes for one recorded AWS call: the action(s), the resource ARN(s) and the
/// condition keys AWS puts in the request context, read from the wire request as each service's
/// "Actions, resources, and condition keys" page (Service Authorization Reference) describes it.
/// Only the calls the pipeline makes are mapped; any other call throws
/// <see cref="UnmappedCallException"/> so that a new call can never pass unchecked.
/// Stateful: Athena's GetQueryExecution names only an execution id, whose work group comes from the
/// StartQueryExecution seen earlier, so feed the exchanges in order to one instance.
/// </summary>
public sealed class AwsCallAuthorization(string account)
{
    /// <summary>The work group Athena uses when a request names none (Athena user guide).</summary>
    public const string PrimaryWorkGroup = "primary";

    // S3 API reference: the sub-resources whose presence changes which action a GET/PUT/DELETE is.
    private static readonly string[] S3ObjectSubresources = ["acl", "tagging", "retention", "legal-hold", "torrent", "restore", "select", "attributes"];

    private readonly Dictionary<string, string> _workGroupOfExecution = new(StringComparer.Ordinal);

    public string Account { get; } = account;

    /// <summary>
    /// The IAM requests this call makes. <paramref name="secureTransport"/> is what
    /// <c>aws:SecureTransport</c> would be: true for our clients in AWS (https endpoints), whatever
    /// the loopback test used.
    /// </summary>
    public IReadOnlyList<IamRequest> For(RecordedExchange call, bool secureTransport = true)
    {
        ArgumentNullException.ThrowIfNull(call);
        var region = call.Region ?? throw new UnmappedCallException(call, "unsigned request");
        var requests = call.Request.Service switch
        {
            "s3" => S3(call),
            "kinesis" => [Json(call, "kinesis", KinesisStream(call, region))],
            "dynamodb" => DynamoDb(call, region),
            "xray" => [new IamRequest("xray:" + call.Request.Operation, "*")],
            "ses" => Ses(call, region),
            "athena" => [Athena(call, region)],
            "sts" when call.Request.Operation is "GetCallerIdentity" || FormValue(call, "Action") == "GetCallerIdentity" =>
                [new IamRequest("sts:GetCallerIdentity", "*")],
            _ => throw new UnmappedCallException(call, $"no mapping for service '{call.Request.Service}'"),
        };
        return [.. requests.Select(r => WithGlobalKeys(r, secureTransport))];
    }

    private static IamRequest WithGlobalKeys(IamRequest request, bool secureTransport)
    {
        var context = new Dictionary<string, string>(request.Context, StringComparer.OrdinalIgnoreCase)
        {
            ["aws:SecureTransport"] = secureTransport ? "true" : "false",
        };
        return request with { Context = context };
    }

    private static IReadOnlyList<IamRequest> S3(RecordedExchange call)
    {
        var path = call.Request.Path.TrimStart('/');
        var slash = path.IndexOf('/', StringComparison.Ordinal);
        var bucket = Uri.UnescapeDataString(slash < 0 ? path : path[..slash]);
        var key = slash < 0 ? null : Uri.UnescapeDataString(path[(slash + 1)..]);
        if (bucket.Length == 0)
        {
            throw new UnmappedCallException(call, "ListAllMyBuckets is not a call the pipeline makes");
        }

        var query = Query(call.Query);
        var bucketArn = $"arn:aws:s3:::{bucket}";
        if (key is { Length: > 0 })
        {
            if (S3ObjectSubresources.FirstOrDefault(query.ContainsKey) is { } sub)
            {
                throw new UnmappedCallException(call, $"object sub-resource '{sub}'");
            }

            if (call.AmzHeaders.ContainsKey("x-amz-copy-source"))
            {
                throw new UnmappedCallException(call, "CopyObject");
            }

            var objectArn = $"{bucketArn}/{key}";
            var action = (call.Request.Method, query.ContainsKey("uploadId"), query.ContainsKey("uploads")) switch
            {
                ("GET" or "HEAD", true, _) => "s3:ListMultipartUploadParts",
                ("GET" or "HEAD", false, _) => "s3:GetObject",
                ("PUT", _, _) or ("POST", _, true) or ("POST", true, _) => "s3:PutObject",
                ("DELETE", true, _) => "s3:AbortMultipartUpload",
                ("DELETE", false, _) => "s3:DeleteObject",
                _ => throw new UnmappedCallException(call, "object operation"),
            };
            return [new IamRequest(action, objectArn)];
        }

        switch (call.Request.Method)
        {
            case "POST" when query.ContainsKey("delete"):
                // DeleteObjects authorizes s3:DeleteObject on every key it names.
                var keys = XDocument.Parse(System.Text.Encoding.UTF8.GetString(call.Body)).Descendants()
                    .Where(e => e.Name.LocalName == "Key").Select(e => e.Value).ToList();
                return [.. keys.Select(k => new IamRequest("s3:DeleteObject", $"{bucketArn}/{k}"))];
            case "HEAD":
                // HeadBucket is authorized as s3:ListBucket (S3 API reference, HeadBucket).
                return [new IamRequest("s3:ListBucket", bucketArn)];
            case "GET" when query.ContainsKey("location"):
                return [new IamRequest("s3:GetBucketLocation", bucketArn)];
            case "GET" when query.ContainsKey("uploads"):
                return [new IamRequest("s3:ListBucketMultipartUploads", bucketArn)];
            case "GET" when query.ContainsKey("versions"):
                return [new IamRequest("s3:ListBucketVersions", bucketArn, ListContext(query))];
            case "GET" when query.Keys.All(k => k is "list-type" or "prefix" or "delimiter" or "max-keys" or "continuation-token" or "start-after" or "encoding-type" or "fetch-owner" or "marker"):
                return [new IamRequest("s3:ListBucket", bucketArn, ListContext(query))];
            default:
                throw new UnmappedCallException(call, "bucket operation");
        }
    }

    // Amazon S3 condition keys: s3:prefix, s3:delimiter and s3:max-keys come from the list request.
    private static Dictionary<string, string> ListContext(Dictionary<string, string> query)
    {
        var context = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (parameter, conditionKey) in new[] { ("prefix", "s3:prefix"), ("delimiter", "s3:delimiter"), ("max-keys", "s3:max-keys") })
        {
            if (query.TryGetValue(parameter, out var value))
            {
                context[conditionKey] = value;
            }
        }

        return context;
    }

    private static IamRequest Json(RecordedExchange call, string service, string resource) =>
        new($"{service}:{OperationFromTarget(call)}", resource);

    private string KinesisStream(RecordedExchange call, string region)
    {
        var body = JsonBody(call);
        if ((string?)body["StreamARN"] is { Length: > 0 } arn)
        {
            return arn;
        }

        return (string?)body["StreamName"] is { Length: > 0 } name
            ? $"arn:aws:kinesis:{region}:{Account}:stream/{name}"
            : throw new UnmappedCallException(call, "Kinesis call without StreamName or StreamARN");
    }

    private IReadOnlyList<IamRequest> DynamoDb(RecordedExchange call, string region)
    {
        var body = JsonBody(call);
        var action = "dynamodb:" + OperationFromTarget(call);
        var tables = (string?)body["TableName"] is { Length: > 0 } table
            ? [table]
            : body["RequestItems"] is JsonObject items ? items.Select(i => i.Key).ToList() : [];
        return tables.Count == 0
            ? throw new UnmappedCallException(call, "DynamoDB call without a table")
            : [.. tables.Select(t => new IamRequest(action, $"arn:aws:dynamodb:{region}:{Account}:table/{t}"))];
    }

    private IReadOnlyList<IamRequest> Ses(RecordedExchange call, string region)
    {
        if (call.Request.Method != "POST" || call.Request.Path != "/v2/email/outbound-emails")
        {
            throw new UnmappedCallException(call, "SES v2 operation");
        }

        // SendEmail is authorized on the sending identity (SES developer guide, "Controlling access
        // with IAM"): FromEmailAddress, else (raw content) the message's From header.
        var body = JsonBody(call);
        var from = (string?)body["FromEmailAddress"]
            ?? (body["Content"]?["Raw"]?["Data"] is JsonValue data ? RawFrom(Convert.FromBase64String((string)data!)) : null)
            ?? throw new UnmappedCallException(call, "SendEmail without FromEmailAddress or a From header (the identity cannot be told)");
        return [new IamRequest("ses:SendEmail", $"arn:aws:ses:{region}:{Account}:identity/{from}")];
    }

    /// <summary>The address of a MIME message's From header (RFC 5322 §3.6.2), or null.</summary>
    public static string? RawFrom(byte[] mime)
    {
        using var reader = new StringReader(System.Text.Encoding.UTF8.GetString(mime));
        while (reader.ReadLine() is { Length: > 0 } line)
        {
            if (line.StartsWith("From:", StringComparison.OrdinalIgnoreCase))
            {
                var value = line["From:".Length..].Trim();
                var open = value.LastIndexOf('<');
                return open >= 0 && value.EndsWith('>') ? value[(open + 1)..^1] : value;
            }
        }

        return null;
    }

    private IamRequest Athena(RecordedExchange call, string region)
    {
        var operation = OperationFromTarget(call);
        var body = JsonBody(call);
        string workGroup;
        if (operation == "StartQueryExecution")
        {
            workGroup = (string?)body["WorkGroup"] is { Length: > 0 } named ? named : PrimaryWorkGroup;
            if (call.Status == 200 && JsonNode.Parse(call.ResponseBody)?["QueryExecutionId"] is JsonValue id)
            {
                _workGroupOfExecution[(string)id!] = workGroup;
            }
        }
        else if ((string?)body["QueryExecutionId"] is { } execution)
        {
            workGroup = _workGroupOfExecution.TryGetValue(execution, out var known)
                ? known
                : throw new UnmappedCallException(call, $"query execution {execution} was not started in this recording");
        }
        else if ((string?)body["WorkGroup"] is { Length: > 0 } named)
        {
            workGroup = named;
        }
        else
        {
            throw new UnmappedCallException(call, "Athena call without a work group");
        }

        return new IamRequest("athena:" + operation, $"arn:aws:athena:{region}:{Account}:workgroup/{workGroup}");
    }

    private static string OperationFromTarget(RecordedExchange call)
    {
        var target = call.Target ?? throw new UnmappedCallException(call, "JSON protocol call without X-Amz-Target");
        return target[(target.LastIndexOf('.') + 1)..];
    }

    private static JsonObject JsonBody(RecordedExchange call)
    {
        if (call.BodyTruncated)
        {
            throw new UnmappedCallException(call, "body too large to read the resource from");
        }

        try
        {
            return call.Body.Length == 0 ? [] : JsonNode.Parse(call.Body) as JsonObject ?? [];
        }
        catch (JsonException e)
        {
            throw new UnmappedCallException(call, "body is not JSON: " + e.Message);
        }
    }

    private static string? FormValue(RecordedExchange call, string name) =>
        Query("?" + System.Text.Encoding.UTF8.GetString(call.Body)).GetValueOrDefault(name) ?? Query(call.Query).GetValueOrDefault(name);

    /// <summary>A query string's parameters, percent-decoded ('+' as space); a bare name maps to "".</summary>
    public static Dictionary<string, string> Query(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString((eq < 0 ? part : part[..eq]).Replace('+', ' '));
            result[name] = eq < 0 ? string.Empty : Uri.UnescapeDataString(part[(eq + 1)..].Replace('+', ' '));
        }

        return result;
    }
}

/// <summary>A recorded call the least-privilege check cannot map to IAM: map it before it can pass.</summary>
public sealed class UnmappedCallException : Exception
{
    public UnmappedCallException()
    {
    }

    public UnmappedCallException(string message)
        : base(message)
    {
    }

    public UnmappedCallException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public UnmappedCallException(RecordedExchange call, string reason)
        : base($"cannot tell what IAM authorizes for {call}: {reason}")
    {
    }
}
