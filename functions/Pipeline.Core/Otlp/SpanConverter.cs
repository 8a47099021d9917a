using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Pipeline.Core.Segments;
using Conventions = Pipeline.Core.Otlp.SemanticConventions;

namespace Pipeline.Core.Otlp;

/// <summary>Options of <see cref="SpanConverter"/>.</summary>
public sealed record OtlpConversionOptions
{
    public static OtlpConversionOptions Default { get; } = new();

    /// <summary>
    /// Span attributes to index as X-Ray annotations besides those a span names in
    /// <c>aws.xray.annotations</c> (the collector exporter's <c>indexed_attributes</c>). Keys are
    /// sanitized to <c>[A-Za-z0-9_]</c>.
    /// </summary>
    public IReadOnlyList<string> AnnotationKeys { get; init; } = [];

    /// <summary>Document size, nesting depth and entity count of one converted document (X-Ray's limits by default).</summary>
    public SegmentLimits Limits { get; init; } = SegmentLimits.Default;
}

/// <summary>One X-Ray segment document made from <paramref name="Spans"/> spans (the root and the subsegments nested in it).</summary>
public readonly record struct ConvertedDocument(byte[] Document, string TraceId, int Spans);

/// <summary>A span that could not be converted: why, and the span as a one-span OTLP protobuf request (its original content).</summary>
public sealed record QuarantinedSpan(OtlpSpanProblem Problem, byte[] Original);

/// <summary>What one request turned into: every span is in exactly one document or in the quarantine.</summary>
public sealed class OtlpConversion
{
    public List<ConvertedDocument> Documents { get; } = [];

    public List<QuarantinedSpan> Quarantined { get; } = [];

    public int ConvertedSpans => Documents.Sum(d => d.Spans);
}

/// <summary>
/// OTLP spans → X-Ray segment documents, following the OpenTelemetry Collector's awsxrayexporter where
/// it is sensible (docs/otlp.md has the full mapping):
/// <list type="bullet">
/// <item>server and consumer spans, and root spans, are segments named by <c>service.name</c>;
/// client, producer and internal spans are subsegments, nested in their local parent's document when
/// that parent is in the same request (same resource), otherwise independent subsegments
/// (<c>type</c>, <c>trace_id</c>, <c>parent_id</c>).</item>
/// <item>flags: the HTTP status decides when there is one (4xx error, 429 error + throttle, 5xx fault),
/// else status ERROR is a fault; exception events become <c>cause.exceptions</c>.</item>
/// <item><c>http</c>, <c>sql</c>, <c>aws</c> blocks from the old and the stable semantic conventions;
/// annotations from <c>aws.xray.annotations</c> and <see cref="OtlpConversionOptions.AnnotationKeys"/>;
/// everything else (other attributes, resource, scope, events, links, trace state, kind, status,
/// exact nanosecond times, dropped counts) under <c>metadata.otel</c>, so nothing of a span is lost.</item>
/// </list>
/// Pure and deterministic (exception ids are derived from the span id). Never throws on decoded input:
/// a span that fails <see cref="OtlpIds.Check"/> or is too large for one document is quarantined with its reason.
/// </summary>
public static class SpanConverter
{
    /// <summary>X-Ray SDKs keep at most this many stack frames per exception.</summary>
    internal const int MaxStackFrames = 50;

    public static OtlpConversion Convert(OtlpTraceRequest request, OtlpConversionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var converter = new Converter(options ?? OtlpConversionOptions.Default);
        return converter.Run(request);
    }

    private enum DocumentKind
    {
        Segment,
        IndependentSubsegment,
        Nested,
    }

    private sealed class Node(OtlpResourceSpans resource, OtlpScopeSpans scope, OtlpSpan span, int resourceIndex)
    {
        public OtlpResourceSpans Resource { get; } = resource;

        public OtlpScopeSpans Scope { get; } = scope;

        public OtlpSpan Span { get; } = span;

        public int ResourceIndex { get; } = resourceIndex;

        public int Parent { get; set; } = -1;

        public List<int> Children { get; } = [];

        public bool IsSegment => Span.KnownKind is OtlpSpanKind.Server or OtlpSpanKind.Consumer || !OtlpIds.HasParent(Span);
    }

    private sealed class Converter : IDisposable
    {
        private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        private readonly OtlpConversionOptions _options;
        private readonly ArrayBufferWriter<byte> _buffer = new(4096);
        private readonly Utf8JsonWriter _writer;
        private readonly SpanAttributes _attributes = new();
        private readonly OtlpConversion _result = new();
        private List<Node> _nodes = [];

        public Converter(OtlpConversionOptions options)
        {
            _options = options;
            _writer = new Utf8JsonWriter(_buffer, WriterOptions);
        }

        public void Dispose() => _writer.Dispose();

        public OtlpConversion Run(OtlpTraceRequest request)
        {
            _nodes = [];
            var byId = new Dictionary<(UInt128 Trace, ulong Span), int>();
            var resourceIndex = 0;
            foreach (var resource in request.ResourceSpans)
            {
                foreach (var scope in resource.ScopeSpans)
                {
                    foreach (var span in scope.Spans)
                    {
                        var problem = OtlpIds.Check(span);
                        if (problem != OtlpSpanProblem.None)
                        {
                            _result.Quarantined.Add(new QuarantinedSpan(problem, OtlpProtobufEncoder.EncodeSpan(resource, scope, span)));
                            continue;
                        }

                        byId.TryAdd((Key(span.TraceId), Id(span.SpanId)), _nodes.Count);
                        _nodes.Add(new Node(resource, scope, span, resourceIndex));
                    }
                }

                resourceIndex++;
            }

            LinkLocalParents(byId);
            var queue = new Queue<(int Node, DocumentKind Kind)>();
            for (var i = 0; i < _nodes.Count; i++)
            {
                if (_nodes[i].Parent < 0)
                {
                    queue.Enqueue((i, _nodes[i].IsSegment ? DocumentKind.Segment : DocumentKind.IndependentSubsegment));
                }
            }

            while (queue.TryDequeue(out var next))
            {
                Emit(next.Node, next.Kind, queue);
            }

            return _result;
        }

        /// <summary>A non-segment span whose parent is in the request under the same resource nests in it; cycles are cut.</summary>
        private void LinkLocalParents(Dictionary<(UInt128 Trace, ulong Span), int> byId)
        {
            for (var i = 0; i < _nodes.Count; i++)
            {
                var node = _nodes[i];
                if (node.IsSegment
                    || !byId.TryGetValue((Key(node.Span.TraceId), Id(node.Span.ParentSpanId)), out var parent)
                    || parent == i
                    || _nodes[parent].ResourceIndex != node.ResourceIndex)
                {
                    continue;
                }

                // Following the parents from the candidate must not come back to this span.
                var ancestor = parent;
                var steps = 0;
                while (ancestor >= 0 && ancestor != i && steps++ <= _nodes.Count)
                {
                    ancestor = _nodes[ancestor].Parent;
                }

                if (ancestor == i)
                {
                    continue;
                }

                node.Parent = parent;
                _nodes[parent].Children.Add(i);
            }
        }

        private void Emit(int index, DocumentKind kind, Queue<(int Node, DocumentKind Kind)> queue)
        {
            var detached = new List<int>();
            var spans = Write(index, kind, nest: true, detached);
            if (spans == 0)
            {
                // Too large nested: the span alone, its children as documents of their own.
                detached.Clear();
                spans = Write(index, kind, nest: false, detached);
            }

            if (spans == 0)
            {
                var node = _nodes[index];
                _result.Quarantined.Add(new QuarantinedSpan(OtlpSpanProblem.DocumentTooLarge, OtlpProtobufEncoder.EncodeSpan(node.Resource, node.Scope, node.Span)));
                detached.Clear();
                detached.AddRange(node.Children);
            }
            else
            {
                _result.Documents.Add(new ConvertedDocument(_buffer.WrittenSpan.ToArray(), OtlpIds.ToXRayTraceId(_nodes[index].Span.TraceId), spans));
            }

            foreach (var child in detached)
            {
                queue.Enqueue((child, DocumentKind.IndependentSubsegment));
            }
        }

        /// <summary>Writes one document into the buffer; the number of spans in it, or 0 when it is over the size limit.</summary>
        private int Write(int index, DocumentKind kind, bool nest, List<int> detached)
        {
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            var count = 0;
            WriteEntity(index, kind, depth: 0, nest, detached, ref count, parentScope: null);
            _writer.Flush();
            return _buffer.WrittenCount <= _options.Limits.MaxDocumentBytes ? count : 0;
        }

        private void WriteEntity(int index, DocumentKind kind, int depth, bool nest, List<int> detached, ref int count, OtlpScopeSpans? parentScope)
        {
            count++;
            var node = _nodes[index];
            var span = node.Span;
            var resource = node.Resource.Resource.Attributes;
            var isSegment = kind == DocumentKind.Segment;
            _attributes.Load(span.Attributes);
            var w = _writer;
            w.WriteStartObject();
            w.WriteString("name"u8, isSegment ? SegmentName(node) : SubsegmentName(span));
            w.WriteString("id"u8, OtlpIds.ToEntityId(span.SpanId));
            if (kind != DocumentKind.Nested)
            {
                if (kind == DocumentKind.IndependentSubsegment)
                {
                    w.WriteString("type"u8, "subsegment"u8);
                }

                w.WriteString("trace_id"u8, OtlpIds.ToXRayTraceId(span.TraceId));
                if (OtlpIds.HasParent(span))
                {
                    w.WriteString("parent_id"u8, OtlpIds.ToEntityId(span.ParentSpanId));
                }
            }

            w.WriteNumber("start_time"u8, Seconds(span.StartTimeUnixNano));
            if (span.EndTimeUnixNano == 0)
            {
                w.WriteBoolean("in_progress"u8, true);
            }
            else
            {
                w.WriteNumber("end_time"u8, Seconds(span.EndTimeUnixNano));
            }

            var isAws = IsAwsCall(span);
            var isRemote = span.KnownKind is OtlpSpanKind.Client or OtlpSpanKind.Producer;
            if (!isSegment && (isAws || isRemote))
            {
                w.WriteString("namespace"u8, isAws ? "aws"u8 : "remote"u8);
            }

            if (isSegment && Origin(resource) is { } origin)
            {
                w.WriteString("origin"u8, origin);
            }

            WriteFlags(span);
            WriteHttp(span);
            WriteSql();
            WriteAws(resource, isSegment, isAws);
            if (isSegment)
            {
                if (resource.GetString(Conventions.ServiceVersion) is { Length: > 0 } version)
                {
                    w.WriteStartObject("service"u8);
                    w.WriteString("version"u8, version);
                    w.WriteEndObject();
                }

                if (_attributes.TakeString(Conventions.EnduserId) is { Length: > 0 } user)
                {
                    w.WriteString("user"u8, user);
                }
            }

            WriteCause(span, isRemote);
            WriteAnnotations();
            WriteMetadata(node, includeResource: kind != DocumentKind.Nested, parentScope);

            if (node.Children.Count > 0)
            {
                if (!nest || depth >= _options.Limits.MaxSubsegmentDepth)
                {
                    detached.AddRange(node.Children);
                }
                else
                {
                    var started = false;
                    foreach (var child in node.Children)
                    {
                        if (count >= _options.Limits.MaxNodes)
                        {
                            detached.Add(child);
                            continue;
                        }

                        if (!started)
                        {
                            w.WriteStartArray("subsegments"u8);
                            started = true;
                        }

                        WriteEntity(child, DocumentKind.Nested, depth + 1, nest, detached, ref count, node.Scope);
                    }

                    if (started)
                    {
                        w.WriteEndArray();
                    }
                }
            }

            w.WriteEndObject();
        }

        private static string SegmentName(Node node) =>
            XRayName(node.Resource.Resource.Attributes.GetString(Conventions.ServiceName)) ?? XRayName(node.Span.Name) ?? DefaultName;

        /// <summary>X-Ray names a call by what it reaches; the collector exporter's order, then the span name.</summary>
        private string SubsegmentName(OtlpSpan span)
        {
            var a = _attributes;
            var name = a.PeekString(Conventions.PeerService);
            if (name is null && IsAwsCall(span))
            {
                name = a.PeekString(Conventions.RpcService) ?? a.PeekString(Conventions.AwsService);
            }

            if (name is null && (a.PeekString(Conventions.DbNamespace) ?? a.PeekString(Conventions.DbName)) is { Length: > 0 } database)
            {
                var host = a.PeekString(Conventions.ServerAddress) ?? a.PeekString(Conventions.NetPeerName);
                name = host is { Length: > 0 } ? database + "@" + host : database;
            }

            if (name is null && span.KnownKind is OtlpSpanKind.Client or OtlpSpanKind.Producer)
            {
                name = a.PeekString(Conventions.RpcService) ?? a.PeekString(Conventions.HttpHost) ?? a.PeekString(Conventions.ServerAddress) ?? a.PeekString(Conventions.NetPeerName)
                    ?? HostOf(a.PeekString(Conventions.UrlFull) ?? a.PeekString(Conventions.HttpUrl));
            }

            return XRayName(name) ?? XRayName(span.Name) ?? DefaultName;
        }

        private const string DefaultName = "span";

        /// <summary>The name without characters X-Ray refuses, cut to its length limit; null when nothing is left.</summary>
        internal static string? XRayName(string? value)
        {
            if (string.IsNullOrEmpty(value))
            {
                return null;
            }

            var builder = new StringBuilder(Math.Min(value.Length, ValidationOptions.Default.MaxNameLength));
            var runes = 0;
            foreach (var rune in value.EnumerateRunes())
            {
                if (!SegmentValidator.IsNameRune(rune))
                {
                    continue;
                }

                if (++runes > ValidationOptions.Default.MaxNameLength)
                {
                    break;
                }

                builder.Append(rune.ToString());
            }

            var name = builder.ToString().Trim();
            return name.Length == 0 ? null : name;
        }

        private static string? HostOf(string? url) =>
            url is not null && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Host.Length > 0 ? uri.Host : null;

        private bool IsAwsCall(OtlpSpan span) =>
            string.Equals(_attributes.PeekString(Conventions.RpcSystem), Conventions.RpcSystemAwsApi, StringComparison.Ordinal)
            || (_attributes.PeekString(Conventions.AwsService) is { Length: > 0 } && span.KnownKind == OtlpSpanKind.Client);

        private static string? Origin(List<OtlpKeyValue> resource)
        {
            if (resource.GetString(Conventions.CloudProvider) is { } provider && !string.Equals(provider, "aws", StringComparison.Ordinal))
            {
                return null;
            }

            // Source: awsxrayexporter (origin constants) and semconv cloud.platform values.
            return resource.GetString(Conventions.CloudPlatform) switch
            {
                "aws_ec2" => "AWS::EC2::Instance",
                "aws_eks" => "AWS::EKS::Container",
                "aws_elastic_beanstalk" => "AWS::ElasticBeanstalk::Environment",
                "aws_app_runner" => "AWS::AppRunner::Service",
                "aws_lambda" => null,
                "aws_ecs" => resource.GetString(Conventions.AwsEcsLaunchType) switch
                {
                    "ec2" => "AWS::ECS::EC2",
                    "fargate" => "AWS::ECS::Fargate",
                    _ => "AWS::ECS::Container",
                },
                _ => null,
            };
        }

        /// <summary>
        /// The HTTP status decides when there is one: 4xx error (429 also throttle), 5xx fault. A
        /// client span that got a 4xx is status ERROR in OTel, which must not make it a fault.
        /// Without a status in 400..599, status ERROR is a fault. Source: X-Ray SDKs, awsxrayexporter.
        /// </summary>
        private void WriteFlags(OtlpSpan span)
        {
            var status = HttpStatus(peek: true);
            if (status is >= 400 and <= 499)
            {
                _writer.WriteBoolean("error"u8, true);
                if (status == 429)
                {
                    _writer.WriteBoolean("throttle"u8, true);
                }
            }
            else if (status is >= 500 and <= 599 || span.Status.IsError)
            {
                _writer.WriteBoolean("fault"u8, true);
            }
        }

        private long? HttpStatus(bool peek)
        {
            foreach (var key in (ReadOnlySpan<string>)[Conventions.HttpResponseStatusCode, Conventions.HttpStatusCode])
            {
                // The X-Ray field (and the archive's column) is an int: a status beyond it stays
                // an attribute under metadata instead of making the document invalid.
                if (_attributes.Peek(key) is { } value && value.TryGetInteger(out var code) && code is >= int.MinValue and <= int.MaxValue)
                {
                    if (!peek)
                    {
                        _attributes.Consume(key);
                    }

                    return code;
                }
            }

            return null;
        }

        private void WriteHttp(OtlpSpan span)
        {
            var a = _attributes;
            var isServer = span.KnownKind is OtlpSpanKind.Server or OtlpSpanKind.Consumer;
            var method = a.PeekString(Conventions.HttpRequestMethod) ?? a.PeekString(Conventions.HttpMethod);
            var status = HttpStatus(peek: true);
            var fullUrlKey = a.PeekString(Conventions.UrlFull) is not null ? Conventions.UrlFull : a.PeekString(Conventions.HttpUrl) is not null ? Conventions.HttpUrl : null;
            if (method is null && status is null && fullUrlKey is null)
            {
                return;
            }

            var w = _writer;
            w.WriteStartObject("http"u8);
            w.WriteStartObject("request"u8);
            if (method is not null)
            {
                w.WriteString("method"u8, method);
                a.Consume(Conventions.HttpRequestMethod, Conventions.HttpMethod);
            }

            if (fullUrlKey is not null)
            {
                w.WriteString("url"u8, a.TakeString(fullUrlKey)!);
            }
            else if (ComposeUrl(isServer) is { } composed)
            {
                w.WriteString("url"u8, composed);
            }

            if (a.TakeString(Conventions.HttpClientIp) is { } forwarded)
            {
                w.WriteString("client_ip"u8, forwarded);
                w.WriteBoolean("x_forwarded_for"u8, true);
            }
            else if (isServer && (a.TakeString(Conventions.ClientAddress) ?? a.TakeString(Conventions.NetPeerIp)) is { } client)
            {
                w.WriteString("client_ip"u8, client);
            }

            if ((a.TakeString(Conventions.UserAgentOriginal) ?? a.TakeString(Conventions.HttpUserAgent)) is { } agent)
            {
                w.WriteString("user_agent"u8, agent);
            }

            w.WriteEndObject();
            var length = TakeInteger(Conventions.HttpResponseBodySize) ?? TakeInteger(Conventions.HttpResponseContentLength);
            if (status is not null || length is not null)
            {
                w.WriteStartObject("response"u8);
                if (HttpStatus(peek: false) is { } code)
                {
                    w.WriteNumber("status"u8, code);
                }

                if (length is { } bytes)
                {
                    w.WriteNumber("content_length"u8, bytes);
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        /// <summary>A URL from its parts (scheme, host, port, target or path + query); the parts used are consumed.</summary>
        private string? ComposeUrl(bool isServer)
        {
            var a = _attributes;
            string[] hostKeys = isServer
                ? [Conventions.HttpHost, Conventions.ServerAddress, Conventions.HttpServerName, Conventions.NetHostName]
                : [Conventions.HttpHost, Conventions.ServerAddress, Conventions.NetPeerName, Conventions.NetPeerIp];
            string[] portKeys = isServer ? [Conventions.ServerPort, Conventions.NetHostPort] : [Conventions.ServerPort, Conventions.NetPeerPort];
            var hostKey = hostKeys.FirstOrDefault(k => a.PeekString(k) is { Length: > 0 });
            var target = a.PeekString(Conventions.HttpTarget);
            var path = a.PeekString(Conventions.UrlPath);
            if (hostKey is null && target is null && path is null)
            {
                return null;
            }

            var scheme = a.TakeString(Conventions.UrlScheme) ?? a.TakeString(Conventions.HttpScheme) ?? "http";
            var builder = new StringBuilder(scheme).Append("://");
            if (hostKey is not null)
            {
                var host = a.TakeString(hostKey)!;
                builder.Append(host);
                var portKey = host.Contains(':', StringComparison.Ordinal) ? null : portKeys.FirstOrDefault(k => a.Peek(k) is { } p && p.TryGetInteger(out _));
                if (portKey is not null && a.Peek(portKey)!.Value.TryGetInteger(out var port)
                    && !(port == 80 && scheme == "http") && !(port == 443 && scheme == "https"))
                {
                    builder.Append(':').Append(port.ToString(CultureInfo.InvariantCulture));
                    a.Consume(portKey);
                }
            }

            if (target is not null)
            {
                builder.Append(a.TakeString(Conventions.HttpTarget));
            }
            else if (path is not null)
            {
                builder.Append(a.TakeString(Conventions.UrlPath));
                if (a.TakeString(Conventions.UrlQuery) is { Length: > 0 } query)
                {
                    builder.Append('?').Append(query);
                }
            }
            else
            {
                builder.Append('/');
            }

            return builder.ToString();
        }

        private void WriteSql()
        {
            var a = _attributes;
            var systemKey = a.PeekString(Conventions.DbSystemName) is not null ? Conventions.DbSystemName : Conventions.DbSystem;
            if (a.PeekString(systemKey) is not { } system || !Conventions.SqlSystems.Contains(system))
            {
                return;
            }

            var w = _writer;
            w.WriteStartObject("sql"u8);
            if (a.TakeString(Conventions.DbConnectionString) is { Length: > 0 } connection)
            {
                w.WriteString("url"u8, connection);
            }
            else
            {
                var host = a.PeekString(Conventions.ServerAddress) ?? a.PeekString(Conventions.NetPeerName) ?? "localhost";
                var port = (a.Peek(Conventions.ServerPort) ?? a.Peek(Conventions.NetPeerPort)) is { } p && p.TryGetInteger(out var number) ? ":" + number.ToString(CultureInfo.InvariantCulture) : string.Empty;
                var database = a.TakeString(Conventions.DbNamespace) ?? a.TakeString(Conventions.DbName);
                w.WriteString("url"u8, host + port + (database is null ? string.Empty : "/" + database));
            }

            w.WriteString("database_type"u8, a.TakeString(systemKey)!);
            if (a.TakeString(Conventions.DbUser) is { } user)
            {
                w.WriteString("user"u8, user);
            }

            if ((a.TakeString(Conventions.DbQueryText) ?? a.TakeString(Conventions.DbStatement)) is { } query)
            {
                w.WriteString("sanitized_query"u8, query);
            }

            w.WriteEndObject();
        }

        private void WriteAws(List<OtlpKeyValue> resource, bool isSegment, bool isAws)
        {
            var a = _attributes;
            var w = _writer;
            if (isSegment)
            {
                // The SDK that made the document (X-Ray SDKs write their own name here).
                var language = resource.GetString(Conventions.TelemetrySdkLanguage);
                w.WriteStartObject("aws"u8);
                w.WriteStartObject("xray"u8);
                w.WriteString("sdk"u8, "opentelemetry for " + (language ?? "unknown"));
                if (resource.GetString(Conventions.TelemetrySdkVersion) is { } sdkVersion)
                {
                    w.WriteString("sdk_version"u8, sdkVersion);
                }

                w.WriteBoolean("auto_instrumentation"u8, resource.TryGet(Conventions.TelemetryAutoVersion, out _));
                w.WriteEndObject();
                if (resource.GetString(Conventions.CloudAccountId) is { } account)
                {
                    w.WriteString("account_id"u8, account);
                }

                if (!isAws)
                {
                    w.WriteEndObject();
                    return;
                }
            }
            else if (!isAws)
            {
                return;
            }
            else
            {
                w.WriteStartObject("aws"u8);
            }

            if (a.TakeString(Conventions.RpcMethod) is { } operation)
            {
                w.WriteString("operation"u8, operation);
            }

            if ((a.TakeString(Conventions.AwsRegion) ?? resource.GetString(Conventions.CloudRegion)) is { } region)
            {
                w.WriteString("region"u8, region);
            }

            if ((a.TakeString(Conventions.AwsRequestId) ?? a.TakeString(Conventions.AwsRequestIdCamel) ?? a.TakeString(Conventions.AwsRequestIdDotted)) is { } requestId)
            {
                w.WriteString("request_id"u8, requestId);
            }

            if (a.TakeString(Conventions.AwsTableName) is { } table)
            {
                w.WriteString("table_name"u8, table);
            }
            else if (a.Peek(Conventions.AwsDynamoDbTableNames) is { Kind: OtlpValueKind.ArrayValue } tables && tables.AsArray.Count == 1 && tables.AsArray[0].AsString is { } only)
            {
                a.Consume(Conventions.AwsDynamoDbTableNames);
                w.WriteString("table_name"u8, only);
            }

            if ((a.TakeString(Conventions.AwsSqsQueueUrl) ?? a.TakeString(Conventions.AwsQueueUrl)) is { } queue)
            {
                w.WriteString("queue_url"u8, queue);
            }

            if (a.TakeString(Conventions.AwsS3Bucket) is { } bucket)
            {
                w.WriteString("bucket_name"u8, bucket);
            }

            if ((a.TakeString(Conventions.AwsLambdaFunctionName) ?? a.TakeString(Conventions.FaasInvokedName)) is { } function)
            {
                w.WriteString("function_name"u8, function);
            }

            if (a.TakeString(Conventions.AwsSnsTopicArn) is { } topic)
            {
                w.WriteString("topic_arn"u8, topic);
            }

            a.Consume(Conventions.RpcSystem);
            w.WriteEndObject();
        }

        /// <summary>Exception events → <c>cause.exceptions</c>; without any, a status ERROR message is the cause.</summary>
        private void WriteCause(OtlpSpan span, bool isRemote)
        {
            var w = _writer;
            var started = false;
            var index = 0;
            foreach (var item in span.Events)
            {
                if (!string.Equals(item.Name, Conventions.ExceptionEventName, StringComparison.Ordinal))
                {
                    continue;
                }

                StartCause(ref started);
                w.WriteStartObject();
                w.WriteString("id"u8, ExceptionId(span.SpanId, index++));
                if (item.Attributes.GetString(Conventions.ExceptionType) is { } type)
                {
                    w.WriteString("type"u8, type);
                }

                if (item.Attributes.GetString(Conventions.ExceptionMessage) is { } message)
                {
                    w.WriteString("message"u8, message);
                }

                w.WriteBoolean("remote"u8, isRemote);
                if (item.Attributes.GetString(Conventions.ExceptionStacktrace) is { Length: > 0 } stack)
                {
                    WriteStack(stack);
                }

                w.WriteEndObject();
            }

            if (!started && span.Status.IsError && span.Status.Message.Length > 0)
            {
                StartCause(ref started);
                w.WriteStartObject();
                w.WriteString("id"u8, ExceptionId(span.SpanId, 0));
                w.WriteString("message"u8, span.Status.Message);
                w.WriteEndObject();
            }

            if (started)
            {
                w.WriteEndArray();
                w.WriteEndObject();
            }
        }

        private void StartCause(ref bool started)
        {
            if (!started)
            {
                _writer.WriteStartObject("cause"u8);
                _writer.WriteStartArray("exceptions"u8);
                started = true;
            }
        }

        private void WriteStack(string stacktrace)
        {
            var frames = StackFrames.Parse(stacktrace, MaxStackFrames, out var total);
            if (frames.Count == 0)
            {
                return;
            }

            var w = _writer;
            if (total > frames.Count)
            {
                w.WriteBoolean("truncated"u8, true);
                w.WriteNumber("skipped"u8, total - frames.Count);
            }

            w.WriteStartArray("stack"u8);
            foreach (var frame in frames)
            {
                w.WriteStartObject();
                if (frame.Path.Length > 0)
                {
                    w.WriteString("path"u8, frame.Path);
                }

                if (frame.Line > 0)
                {
                    w.WriteNumber("line"u8, frame.Line);
                }

                if (frame.Label.Length > 0)
                {
                    w.WriteString("label"u8, frame.Label);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        /// <summary>A stable exception id (16 hex) from the span id and the exception's index: FNV-1a 64.</summary>
        private static string ExceptionId(ReadOnlySpan<byte> spanId, int index)
        {
            var hash = 14695981039346656037UL;
            foreach (var b in spanId)
            {
                hash = (hash ^ b) * 1099511628211UL;
            }

            hash = (hash ^ (ulong)(index + 1)) * 1099511628211UL;
            return hash.ToString("x16", CultureInfo.InvariantCulture);
        }

        private void WriteAnnotations()
        {
            var a = _attributes;
            var keys = new List<string>(_options.AnnotationKeys);
            if (a.Peek(Conventions.XRayAnnotations) is { Kind: OtlpValueKind.ArrayValue } listed)
            {
                a.Consume(Conventions.XRayAnnotations);
                keys.AddRange(listed.AsArray.Select(v => v.AsString).OfType<string>());
            }

            if (keys.Count == 0)
            {
                return;
            }

            var written = new HashSet<string>(StringComparer.Ordinal);
            var started = false;
            foreach (var key in keys)
            {
                var sanitized = AnnotationKey(key);
                if (sanitized.Length == 0 || written.Contains(sanitized) || a.Peek(key) is not { } value)
                {
                    continue;
                }

                var annotatable = value.Kind is OtlpValueKind.StringValue or OtlpValueKind.BoolValue or OtlpValueKind.IntValue
                    || (value.Kind == OtlpValueKind.DoubleValue && double.IsFinite(value.AsDouble));
                if (!annotatable)
                {
                    continue;
                }

                if (!started)
                {
                    _writer.WriteStartObject("annotations"u8);
                    started = true;
                }

                written.Add(sanitized);
                a.Consume(key);
                _writer.WritePropertyName(sanitized);
                WriteScalar(value);
            }

            if (started)
            {
                _writer.WriteEndObject();
            }
        }

        /// <summary>An annotation key with every character outside <c>[A-Za-z0-9_]</c> replaced by <c>_</c>.</summary>
        internal static string AnnotationKey(string key) =>
            string.Create(key.Length, key, static (chars, source) =>
            {
                for (var i = 0; i < source.Length; i++)
                {
                    chars[i] = char.IsAsciiLetterOrDigit(source[i]) ? source[i] : '_';
                }
            });

        private void WriteScalar(OtlpValue value)
        {
            switch (value.Kind)
            {
                case OtlpValueKind.StringValue:
                    _writer.WriteStringValue(value.AsString);
                    break;
                case OtlpValueKind.BoolValue:
                    _writer.WriteBooleanValue(value.AsBool);
                    break;
                case OtlpValueKind.IntValue:
                    _writer.WriteNumberValue(value.AsInt);
                    break;
                default:
                    _writer.WriteNumberValue(value.AsDouble);
                    break;
            }
        }

        private void WriteMetadata(Node node, bool includeResource, OtlpScopeSpans? parentScope)
        {
            var w = _writer;
            var span = node.Span;
            w.WriteStartObject("metadata"u8);
            w.WriteStartObject("otel"u8);
            w.WriteString("name"u8, span.Name);
            w.WriteString("kind"u8, KindName(span.Kind));
            w.WriteString("start_time_unix_nano"u8, span.StartTimeUnixNano.ToString(CultureInfo.InvariantCulture));
            w.WriteString("end_time_unix_nano"u8, span.EndTimeUnixNano.ToString(CultureInfo.InvariantCulture));
            if (span.TraceState.Length > 0)
            {
                w.WriteString("trace_state"u8, span.TraceState);
            }

            if (span.Flags != 0)
            {
                w.WriteNumber("flags"u8, span.Flags);
            }

            if (span.Status.Code != 0 || span.Status.Message.Length > 0)
            {
                w.WriteStartObject("status"u8);
                w.WriteString("code"u8, StatusName(span.Status.Code));
                if (span.Status.Message.Length > 0)
                {
                    w.WriteString("message"u8, span.Status.Message);
                }

                w.WriteEndObject();
            }

            if (_attributes.HasUnconsumed)
            {
                w.WriteStartObject("attributes"u8);
                _attributes.WriteUnconsumed(this);
                w.WriteEndObject();
            }

            WriteCount("dropped_attributes_count"u8, span.DroppedAttributesCount);
            if (span.Events.Count > 0)
            {
                w.WriteStartArray("events"u8);
                foreach (var item in span.Events)
                {
                    w.WriteStartObject();
                    w.WriteString("name"u8, item.Name);
                    w.WriteString("time_unix_nano"u8, item.TimeUnixNano.ToString(CultureInfo.InvariantCulture));
                    WriteAttributeMap("attributes"u8, item.Attributes);
                    WriteCount("dropped_attributes_count"u8, item.DroppedAttributesCount);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            WriteCount("dropped_events_count"u8, span.DroppedEventsCount);
            if (span.Links.Count > 0)
            {
                w.WriteStartArray("links"u8);
                foreach (var link in span.Links)
                {
                    w.WriteStartObject();
                    w.WriteString("trace_id"u8, System.Convert.ToHexStringLower(link.TraceId));
                    w.WriteString("span_id"u8, System.Convert.ToHexStringLower(link.SpanId));
                    if (link.TraceState.Length > 0)
                    {
                        w.WriteString("trace_state"u8, link.TraceState);
                    }

                    if (link.Flags != 0)
                    {
                        w.WriteNumber("flags"u8, link.Flags);
                    }

                    WriteAttributeMap("attributes"u8, link.Attributes);
                    WriteCount("dropped_attributes_count"u8, link.DroppedAttributesCount);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            WriteCount("dropped_links_count"u8, span.DroppedLinksCount);
            if (includeResource || !ReferenceEquals(parentScope?.Scope, node.Scope.Scope))
            {
                var scope = node.Scope;
                w.WriteStartObject("scope"u8);
                w.WriteString("name"u8, scope.Scope.Name);
                if (scope.Scope.Version.Length > 0)
                {
                    w.WriteString("version"u8, scope.Scope.Version);
                }

                WriteAttributeMap("attributes"u8, scope.Scope.Attributes);
                WriteCount("dropped_attributes_count"u8, scope.Scope.DroppedAttributesCount);
                if (scope.SchemaUrl.Length > 0)
                {
                    w.WriteString("schema_url"u8, scope.SchemaUrl);
                }

                w.WriteEndObject();
            }

            if (includeResource)
            {
                var resource = node.Resource;
                w.WriteStartObject("resource"u8);
                WriteAttributeMap("attributes"u8, resource.Resource.Attributes);
                WriteCount("dropped_attributes_count"u8, resource.Resource.DroppedAttributesCount);
                if (resource.SchemaUrl.Length > 0)
                {
                    w.WriteString("schema_url"u8, resource.SchemaUrl);
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        private void WriteCount(ReadOnlySpan<byte> name, uint count)
        {
            if (count != 0)
            {
                _writer.WriteNumber(name, count);
            }
        }

        private void WriteAttributeMap(ReadOnlySpan<byte> name, List<OtlpKeyValue> attributes)
        {
            if (attributes.Count == 0)
            {
                return;
            }

            _writer.WriteStartObject(name);
            WriteMembers(attributes);
            _writer.WriteEndObject();
        }

        /// <summary>
        /// Writes key/value pairs as object members. A repeated key (allowed in OTLP, not in one JSON
        /// object the archive's readers can trust) is written as <c>key#2</c>, <c>key#3</c>, … so nothing is lost.
        /// </summary>
        internal void WriteMembers(IEnumerable<OtlpKeyValue> attributes)
        {
            HashSet<string>? seen = null;
            foreach (var attribute in attributes)
            {
                seen ??= new HashSet<string>(StringComparer.Ordinal);
                var key = attribute.Key;
                for (var n = 2; !seen.Add(key); n++)
                {
                    key = attribute.Key + "#" + n.ToString(CultureInfo.InvariantCulture);
                }

                _writer.WritePropertyName(key);
                WriteValue(attribute.Value);
            }
        }

        /// <summary>An attribute value as JSON: bytes as base64, non-finite doubles as strings, lists as arrays and objects.</summary>
        private void WriteValue(OtlpValue value)
        {
            var w = _writer;
            switch (value.Kind)
            {
                case OtlpValueKind.StringValue:
                    w.WriteStringValue(value.AsString);
                    break;
                case OtlpValueKind.BoolValue:
                    w.WriteBooleanValue(value.AsBool);
                    break;
                case OtlpValueKind.IntValue:
                    w.WriteNumberValue(value.AsInt);
                    break;
                case OtlpValueKind.DoubleValue when double.IsFinite(value.AsDouble):
                    w.WriteNumberValue(value.AsDouble);
                    break;
                case OtlpValueKind.DoubleValue:
                    w.WriteStringValue(value.AsDouble.ToString(CultureInfo.InvariantCulture));
                    break;
                case OtlpValueKind.BytesValue:
                    w.WriteBase64StringValue(value.AsBytes);
                    break;
                case OtlpValueKind.ArrayValue:
                    w.WriteStartArray();
                    foreach (var item in value.AsArray)
                    {
                        WriteValue(item);
                    }

                    w.WriteEndArray();
                    break;
                case OtlpValueKind.KvlistValue:
                    w.WriteStartObject();
                    WriteMembers(value.AsKeyValueList);
                    w.WriteEndObject();
                    break;
                default:
                    w.WriteNullValue();
                    break;
            }
        }

        private long? TakeInteger(string key)
        {
            if (_attributes.Peek(key) is { } value && value.TryGetInteger(out var number))
            {
                _attributes.Consume(key);
                return number;
            }

            return null;
        }

        private static double Seconds(ulong unixNano) => unixNano / 1e9;

        private static string KindName(int kind) => kind switch
        {
            0 => "UNSPECIFIED",
            1 => "INTERNAL",
            2 => "SERVER",
            3 => "CLIENT",
            4 => "PRODUCER",
            5 => "CONSUMER",
            _ => kind.ToString(CultureInfo.InvariantCulture),
        };

        private static string StatusName(int code) => code switch
        {
            0 => "UNSET",
            1 => "OK",
            2 => "ERROR",
            _ => code.ToString(CultureInfo.InvariantCulture),
        };

        private static UInt128 Key(byte[] traceId) => new(BitConverter.ToUInt64(traceId, 0), BitConverter.ToUInt64(traceId, 8));

        private static ulong Id(byte[] spanId) => spanId.Length == OtlpWire.SpanIdLength ? BitConverter.ToUInt64(spanId, 0) : 0;
    }

    /// <summary>
    /// One span's attributes with lookups by key (first occurrence wins) and a record of what the
    /// conversion consumed into X-Ray fields; the rest is written under metadata. Reused across spans.
    /// </summary>
    private sealed class SpanAttributes
    {
        private readonly Dictionary<string, int> _first = new(StringComparer.Ordinal);
        private List<OtlpKeyValue> _attributes = [];
        private bool[] _consumed = new bool[32];

        public bool HasUnconsumed
        {
            get
            {
                for (var i = 0; i < _attributes.Count; i++)
                {
                    if (!_consumed[i])
                    {
                        return true;
                    }
                }

                return false;
            }
        }

        public void Load(List<OtlpKeyValue> attributes)
        {
            _attributes = attributes;
            _first.Clear();
            if (_consumed.Length < attributes.Count)
            {
                _consumed = new bool[Math.Max(attributes.Count, _consumed.Length * 2)];
            }

            Array.Clear(_consumed, 0, attributes.Count);
            for (var i = 0; i < attributes.Count; i++)
            {
                _first.TryAdd(attributes[i].Key, i);
            }
        }

        public OtlpValue? Peek(string key) => _first.TryGetValue(key, out var i) ? _attributes[i].Value : null;

        public string? PeekString(string key) => Peek(key) is { Kind: OtlpValueKind.StringValue } value ? value.AsString : null;

        public string? TakeString(string key)
        {
            var value = PeekString(key);
            if (value is not null)
            {
                Consume(key);
            }

            return value;
        }

        public void Consume(params ReadOnlySpan<string> keys)
        {
            foreach (var key in keys)
            {
                if (_first.TryGetValue(key, out var i))
                {
                    _consumed[i] = true;
                }
            }
        }

        public void WriteUnconsumed(Converter converter) =>
            converter.WriteMembers(_attributes.Where((_, i) => !_consumed[i]));
    }
}
