using System.Text.RegularExpressions;
using Pipeline.Core.Segments;

namespace Pipeline.Core.Graph;

/// <summary>An inferred downstream node (name, type, kind) and whether a traced segment may answer the call.</summary>
public readonly record struct CallTarget(string Name, string Type, GraphNodeKind Kind, bool MayHaveChildSegment);

/// <summary>
/// Which subsegments are calls to another node, and what node an untraced call reaches. The same
/// rules are written in SQL in athena/service_graph.sql (the regular expressions are shared in
/// spirit, character for character): change both together.
/// </summary>
public static partial class CallTargets
{
    /// <summary>Node type of the client node (X-Ray GetServiceGraph uses "client").</summary>
    public const string ClientType = "client";

    public const string ClientName = "client";

    /// <summary>Type of a service whose segments carry no <c>origin</c>.</summary>
    public const string GenericServiceType = "service";

    /// <summary>Type of an untraced HTTP host (X-Ray: "remote").</summary>
    public const string RemoteType = "remote";

    /// <summary>Type of a SQL database (X-Ray: "Database::SQL").</summary>
    public const string SqlType = "Database::SQL";

    /// <summary>Namespaces of downstream-call subsegments. Source: X-Ray segment document, "namespace".</summary>
    public const string AwsNamespace = "aws";

    public const string RemoteNamespace = "remote";

    /// <summary>Origin of the segment Lambda records for an invocation; the function's segment is its child. Source: X-Ray developer guide, "AWS Lambda and AWS X-Ray".</summary>
    public const string LambdaServiceOrigin = "AWS::Lambda";

    public static ReadOnlySpan<byte> LambdaServiceOriginUtf8 => "AWS::Lambda"u8;

    /// <summary>AWS services whose calls can continue as a traced segment (the callee's parent id is the call).</summary>
    private static readonly HashSet<string> AwsServicesWithTracedCallees = new(StringComparer.Ordinal) { "Lambda", "StepFunctions", "SFN", "ApiGateway" };

    /// <summary>True when the node is a downstream call: namespace aws/remote, an HTTP url, or a sql block.</summary>
    public static bool IsCall(ParsedSegment segment, in SegmentNode node)
    {
        ArgumentNullException.ThrowIfNull(segment);
        return segment.TextEquals(node.Namespace, "aws"u8)
            || segment.TextEquals(node.Namespace, "remote"u8)
            || node.Http.Url.IsPresent
            || node.Sql.Url.IsPresent
            || node.Sql.DatabaseType.IsPresent;
    }

    /// <summary>The node an untraced call reaches.</summary>
    public static CallTarget Infer(ParsedSegment segment, in SegmentNode node)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var name = segment.GetString(node.Name) ?? "unknown";
        if (segment.TextEquals(node.Namespace, "aws"u8))
        {
            var table = segment.GetString(node.Aws.TableName);
            var queue = segment.GetString(node.Aws.QueueUrl);
            return Aws(name, table, queue);
        }

        if (node.Sql.Url.IsPresent || node.Sql.DatabaseType.IsPresent)
        {
            return Sql(name, segment.GetString(node.Sql.Url), segment.GetString(node.Sql.DatabaseType));
        }

        return Http(name, segment.GetString(node.Http.Url));
    }

    /// <summary>AWS: the table or queue when known (AWS::DynamoDB::Table, AWS::SQS::Queue), else the service (AWS::S3).</summary>
    public static CallTarget Aws(string service, string? tableName, string? queueUrl)
    {
        ArgumentNullException.ThrowIfNull(service);
        var traced = AwsServicesWithTracedCallees.Contains(service);
        if (!string.IsNullOrEmpty(tableName))
        {
            return new(tableName, $"AWS::{service}::Table", GraphNodeKind.Aws, traced);
        }

        if (!string.IsNullOrEmpty(queueUrl))
        {
            var slash = queueUrl.TrimEnd('/').LastIndexOf('/');
            var queue = slash >= 0 ? queueUrl.TrimEnd('/')[(slash + 1)..] : queueUrl;
            return new(queue.Length == 0 ? service : queue, $"AWS::{service}::Queue", GraphNodeKind.Aws, traced);
        }

        return new(service, $"AWS::{service}", GraphNodeKind.Aws, traced);
    }

    /// <summary>SQL: the url without scheme, user info and query; else the database type; else the subsegment name.</summary>
    public static CallTarget Sql(string subsegmentName, string? url, string? databaseType)
    {
        var name = !string.IsNullOrEmpty(url) ? SqlIdentity(url)
            : !string.IsNullOrEmpty(databaseType) ? databaseType
            : subsegmentName;
        return new(name.Length == 0 ? subsegmentName : name, SqlType, GraphNodeKind.Database, false);
    }

    /// <summary>HTTP: the lowercased host[:port] of an absolute url; else the subsegment name.</summary>
    public static CallTarget Http(string subsegmentName, string? url)
    {
        var host = url is null ? null : HttpHost().Match(url) is { Success: true } m && m.Groups[1].Length > 0 ? m.Groups[1].Value.ToLowerInvariant() : null;
        return new(host ?? subsegmentName, RemoteType, GraphNodeKind.Remote, true);
    }

    internal static string SqlIdentity(string url)
    {
        var withoutScheme = SqlScheme().Replace(url, string.Empty, 1);
        var withoutUser = SqlUserInfo().Replace(withoutScheme, string.Empty, 1);
        return SqlQuery().Replace(withoutUser, string.Empty, 1);
    }

    // athena/service_graph.sql: regexp_extract(url, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/?#]*)', 1)
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/?#]*)", RegexOptions.CultureInvariant)]
    private static partial Regex HttpHost();

    // athena/service_graph.sql: regexp_replace(url, '^[A-Za-z][A-Za-z0-9+.:-]*//', '')
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.:-]*//", RegexOptions.CultureInvariant)]
    private static partial Regex SqlScheme();

    // athena/service_graph.sql: regexp_replace(.., '^[^@/]*@', '')
    [GeneratedRegex("^[^@/]*@", RegexOptions.CultureInvariant)]
    private static partial Regex SqlUserInfo();

    // athena/service_graph.sql: regexp_replace(.., '[?#].*$', '')
    [GeneratedRegex("[?#].*$", RegexOptions.CultureInvariant)]
    private static partial Regex SqlQuery();
}
