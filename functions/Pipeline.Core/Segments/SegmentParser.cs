using System.Text;
using System.Text.Unicode;
using System.Text.Json;

namespace Pipeline.Core.Segments;

/// <summary>
/// Single-pass parser for X-Ray segment documents over UTF-8 bytes. It checks that the document
/// is well-formed, bounded JSON and extracts what the pipeline needs into <see cref="SegmentNode"/>s
/// without copying strings. Schema rules are applied afterwards by <see cref="SegmentValidator"/>.
/// Never throws on any input.
/// </summary>
public static class SegmentParser
{
    private enum Key
    {
        Other,
        TraceId,
        Id,
        ParentId,
        Name,
        Type,
        StartTime,
        EndTime,
        InProgress,
        Error,
        Fault,
        Throttle,
        Namespace,
        Origin,
        ResourceArn,
        Inferred,
        Http,
        Aws,
        Sql,
        Annotations,
        Metadata,
        Subsegments,
        Cause,
    }

    [ThreadStatic]
    private static List<SegmentNode>? t_nodes;

    [ThreadStatic]
    private static List<RedactionRegion>? t_regions;

    public static SegmentParseResult Parse(ReadOnlyMemory<byte> document, SegmentLimits? limits = null)
    {
        limits ??= SegmentLimits.Default;
        var span = document.Span;
        if (span.Length > limits.MaxDocumentBytes)
        {
            return Reject(SegmentRejectReason.TooLarge, "$");
        }

        if (span.Trim(" \t\r\n"u8).IsEmpty)
        {
            return Reject(SegmentRejectReason.Empty, "$");
        }

        // The reader validates structure but not the UTF-8 inside strings; archive lines must be UTF-8.
        if (!Utf8.IsValid(span))
        {
            return Reject(SegmentRejectReason.InvalidJson, "$");
        }

        // Nor does it check \uXXXX escapes for surrogate pairing; a lone surrogate cannot become
        // text (reading the field would throw), so such a document is not valid JSON text for us.
        var loneSurrogate = LoneSurrogateEscapeOffset(span);
        if (loneSurrogate >= 0)
        {
            return Reject(SegmentRejectReason.InvalidJson, "$", loneSurrogate);
        }

        var nodes = t_nodes ??= new List<SegmentNode>(16);
        var regions = t_regions ??= new List<RedactionRegion>(8);
        nodes.Clear();
        regions.Clear();
        var state = new ParseState(limits, nodes, regions);
        var reader = new Utf8JsonReader(span, new JsonReaderOptions { MaxDepth = limits.MaxJsonDepth });
        try
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                return Reject(SegmentRejectReason.NotAnObject, "$");
            }

            var rejection = ParseEntity(ref reader, ref state, parentIndex: -1, indexInParent: 0, depth: 0);
            if (rejection.IsRejected)
            {
                return new SegmentParseResult(null, rejection);
            }

            if (reader.Read())
            {
                return Reject(SegmentRejectReason.InvalidJson, "$", reader.TokenStartIndex);
            }
        }
        catch (JsonException)
        {
            var reason = reader.CurrentDepth >= limits.MaxJsonDepth - 1 ? SegmentRejectReason.TooDeep : SegmentRejectReason.InvalidJson;
            return Reject(reason, "$", reader.BytesConsumed);
        }

        var result = new ParsedSegment(document, nodes.ToArray(), state.Hints, regions.Count == 0 ? [] : regions.ToArray());
        nodes.Clear();
        regions.Clear();
        return new SegmentParseResult(result, SegmentRejection.None);
    }

    private static SegmentParseResult Reject(SegmentRejectReason reason, string path, long offset = -1) =>
        new(null, new SegmentRejection(reason, path, offset));

    private static SegmentRejection ParseEntity(ref Utf8JsonReader reader, ref ParseState state, int parentIndex, int indexInParent, int depth)
    {
        if (depth > state.Limits.MaxSubsegmentDepth)
        {
            return new SegmentRejection(SegmentRejectReason.TooDeep, SegmentPaths.Of(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(state.Nodes), parentIndex, "subsegments"));
        }

        if (state.Nodes.Count >= state.Limits.MaxNodes)
        {
            return new SegmentRejection(SegmentRejectReason.TooManySubsegments, SegmentPaths.Of(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(state.Nodes), parentIndex, "subsegments"));
        }

        var index = state.Nodes.Count;
        var node = new SegmentNode
        {
            ParentIndex = parentIndex,
            IndexInParent = indexInParent,
            Depth = depth,
            StartTime = double.NaN,
            EndTime = double.NaN,
            Http = new HttpInfo { ContentLength = -1 },
        };
        state.Nodes.Add(node);

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            switch (Classify(ref reader))
            {
                case Key.TraceId:
                    node.TraceId = ReadText(ref reader, ref node, FieldMask.TraceId);
                    break;
                case Key.Id:
                    node.Id = ReadText(ref reader, ref node, FieldMask.Id);
                    break;
                case Key.ParentId:
                    node.ParentId = ReadText(ref reader, ref node, FieldMask.ParentId);
                    break;
                case Key.Name:
                    node.Name = ReadText(ref reader, ref node, FieldMask.Name);
                    break;
                case Key.Type:
                    node.Type = ReadText(ref reader, ref node, FieldMask.Type);
                    break;
                case Key.Namespace:
                    node.Namespace = ReadText(ref reader, ref node, FieldMask.Namespace);
                    break;
                case Key.Origin:
                    node.Origin = ReadText(ref reader, ref node, FieldMask.Origin);
                    break;
                case Key.ResourceArn:
                    node.ResourceArn = ReadLooseText(ref reader);
                    break;
                case Key.StartTime:
                    node.StartTime = ReadNumber(ref reader, ref node, FieldMask.StartTime);
                    break;
                case Key.EndTime:
                    node.EndTime = ReadNumber(ref reader, ref node, FieldMask.EndTime);
                    break;
                case Key.InProgress:
                    SetFlag(ref node, EntityTraits.InProgress, ReadBool(ref reader, ref node, FieldMask.InProgress));
                    break;
                case Key.Error:
                    SetFlag(ref node, EntityTraits.Error, ReadBool(ref reader, ref node, FieldMask.Error));
                    break;
                case Key.Fault:
                    SetFlag(ref node, EntityTraits.Fault, ReadBool(ref reader, ref node, FieldMask.Fault));
                    break;
                case Key.Throttle:
                    SetFlag(ref node, EntityTraits.Throttle, ReadBool(ref reader, ref node, FieldMask.Throttle));
                    break;
                case Key.Inferred:
                    reader.Read();
                    SetFlag(ref node, EntityTraits.Inferred, reader.TokenType == JsonTokenType.True);
                    reader.Skip();
                    break;
                case Key.Cause:
                    reader.Read();
                    SetFlag(ref node, EntityTraits.HasCause, reader.TokenType != JsonTokenType.Null);
                    reader.Skip();
                    break;
                case Key.Http:
                    node.Http = ReadHttp(ref reader, ref state, ref node, node.Http);
                    break;
                case Key.Aws:
                    node.Aws = ReadAws(ref reader, ref node);
                    break;
                case Key.Sql:
                    node.Sql = ReadSql(ref reader, ref state);
                    break;
                case Key.Annotations:
                    ReadAnnotations(ref reader, ref node, ref state);
                    break;
                case Key.Metadata:
                    Mark(ref node, FieldMask.Metadata);
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        SetFlag(ref node, EntityTraits.HasMetadata, true);
                        var start = reader.TokenStartIndex;
                        reader.Skip();
                        state.AddRegion(DocumentHints.Metadata, start, reader.TokenStartIndex + 1);
                    }
                    else
                    {
                        node.WrongType |= FieldMask.Metadata;
                        reader.Skip();
                    }

                    break;
                case Key.Subsegments:
                    Mark(ref node, FieldMask.Subsegments);
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        node.WrongType |= FieldMask.Subsegments;
                        reader.Skip();
                        break;
                    }

                    // Children are written to the list after this node's slot, so store what we have
                    // first; the final write below overwrites it with the complete node.
                    state.Nodes[index] = node;
                    var childIndex = 0;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (reader.TokenType != JsonTokenType.StartObject)
                        {
                            node.WrongType |= FieldMask.Subsegments;
                            reader.Skip();
                            childIndex++;
                            continue;
                        }

                        var child = ParseEntity(ref reader, ref state, index, childIndex++, depth + 1);
                        if (child.IsRejected)
                        {
                            return child;
                        }
                    }

                    break;
                default:
                    reader.Read();
                    reader.Skip();
                    break;
            }
        }

        state.Nodes[index] = node;
        return SegmentRejection.None;
    }

    /// <summary>
    /// The offset of the first <c>\uD800</c>-<c>\uDFFF</c> escape that is not part of a high+low
    /// surrogate pair, or -1. Backslashes only occur inside strings in JSON, so walking escape by
    /// escape (a backslash and the character after it) stays in step with the string contents.
    /// </summary>
    internal static long LoneSurrogateEscapeOffset(ReadOnlySpan<byte> json)
    {
        var offset = 0;
        while (true)
        {
            var next = json[offset..].IndexOf((byte)'\\');
            if (next < 0)
            {
                return -1;
            }

            var at = offset + next;
            if (at + 1 >= json.Length)
            {
                return -1;
            }

            if (json[at + 1] != (byte)'u' || !TryHex4(json, at + 2, out var unit))
            {
                offset = at + 2;
                continue;
            }

            if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                return at;
            }

            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                var low = at + 6;
                if (low + 1 >= json.Length || json[low] != (byte)'\\' || json[low + 1] != (byte)'u'
                    || !TryHex4(json, low + 2, out var lowUnit) || lowUnit is < 0xDC00 or > 0xDFFF)
                {
                    return at;
                }

                offset = low + 6;
                continue;
            }

            offset = at + 6;
        }
    }

    private static bool TryHex4(ReadOnlySpan<byte> json, int start, out int value)
    {
        value = 0;
        if (start + 4 > json.Length)
        {
            return false;
        }

        for (var i = start; i < start + 4; i++)
        {
            var digit = HexDigitValue(json[i]);
            if (digit < 0)
            {
                return false;
            }

            value = (value << 4) | digit;
        }

        return true;
    }

    private static int HexDigitValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    /// <summary>
    /// The current property name, unescaped into <paramref name="buffer"/> only when the JSON escaped
    /// it; an escaped name longer than the buffer comes back empty (no known key is that long).
    /// </summary>
    private static ReadOnlySpan<byte> PropertyName(in Utf8JsonReader reader, Span<byte> buffer)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan;
        }

        return reader.ValueSpan.Length <= buffer.Length ? buffer[..reader.CopyString(buffer)] : default;
    }

    private static Key Classify(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped)
        {
            // Escaped property names are legal but rare; unescape into a small buffer and classify that.
            // Unescaped text is never longer than its escaped form, so a buffer of the raw length suffices.
            Span<byte> buffer = stackalloc byte[64];
            return Classify(PropertyName(in reader, buffer));
        }

        return Classify(reader.ValueSpan);
    }

    private static Key Classify(ReadOnlySpan<byte> name) => name.Length switch
    {
        2 when name.SequenceEqual("id"u8) => Key.Id,
        3 when name.SequenceEqual("aws"u8) => Key.Aws,
        3 when name.SequenceEqual("sql"u8) => Key.Sql,
        4 when name.SequenceEqual("name"u8) => Key.Name,
        4 when name.SequenceEqual("type"u8) => Key.Type,
        4 when name.SequenceEqual("http"u8) => Key.Http,
        5 when name.SequenceEqual("error"u8) => Key.Error,
        5 when name.SequenceEqual("fault"u8) => Key.Fault,
        5 when name.SequenceEqual("cause"u8) => Key.Cause,
        6 when name.SequenceEqual("origin"u8) => Key.Origin,
        8 when name.SequenceEqual("trace_id"u8) => Key.TraceId,
        8 when name.SequenceEqual("end_time"u8) => Key.EndTime,
        8 when name.SequenceEqual("throttle"u8) => Key.Throttle,
        8 when name.SequenceEqual("metadata"u8) => Key.Metadata,
        8 when name.SequenceEqual("inferred"u8) => Key.Inferred,
        9 when name.SequenceEqual("parent_id"u8) => Key.ParentId,
        9 when name.SequenceEqual("namespace"u8) => Key.Namespace,
        10 when name.SequenceEqual("start_time"u8) => Key.StartTime,
        11 when name.SequenceEqual("in_progress"u8) => Key.InProgress,
        11 when name.SequenceEqual("annotations"u8) => Key.Annotations,
        11 when name.SequenceEqual("subsegments"u8) => Key.Subsegments,
        12 when name.SequenceEqual("resource_arn"u8) => Key.ResourceArn,
        _ => Key.Other,
    };

    private static void Mark(ref SegmentNode node, FieldMask field)
    {
        if ((node.Present & field) != 0)
        {
            node.Duplicate |= field;
        }

        node.Present |= field;
    }

    private static void SetFlag(ref SegmentNode node, EntityTraits flag, bool value) =>
        node.Traits = value ? node.Traits | flag : node.Traits & ~flag;

    private static TextRef ReadText(ref Utf8JsonReader reader, ref SegmentNode node, FieldMask field)
    {
        Mark(ref node, field);
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return Text(ref reader);
        }

        node.WrongType |= field;
        reader.Skip();
        return default;
    }

    /// <summary>A string field the schema does not constrain: kept if it is a string, ignored otherwise.</summary>
    private static TextRef ReadLooseText(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return Text(ref reader);
        }

        reader.Skip();
        return default;
    }

    private static TextRef Text(ref Utf8JsonReader reader) =>
        new(checked((int)reader.TokenStartIndex + 1), reader.ValueSpan.Length, reader.ValueIsEscaped);

    private static double ReadNumber(ref Utf8JsonReader reader, ref SegmentNode node, FieldMask field)
    {
        Mark(ref node, field);
        reader.Read();
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var value) && double.IsFinite(value))
        {
            return value;
        }

        node.WrongType |= field;
        reader.Skip();
        return double.NaN;
    }

    private static bool ReadBool(ref Utf8JsonReader reader, ref SegmentNode node, FieldMask field)
    {
        Mark(ref node, field);
        reader.Read();
        switch (reader.TokenType)
        {
            case JsonTokenType.True:
                return true;
            case JsonTokenType.False:
                return false;
            default:
                node.WrongType |= field;
                reader.Skip();
                return false;
        }
    }

    private static HttpInfo ReadHttp(ref Utf8JsonReader reader, ref ParseState state, ref SegmentNode node, HttpInfo http)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return http;
        }

        Span<byte> buffer = stackalloc byte[32];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var block = PropertyName(in reader, buffer);
            var isRequest = block.SequenceEqual("request"u8);
            var isResponse = !isRequest && block.SequenceEqual("response"u8);
            reader.Read();
            if ((!isRequest && !isResponse) || reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = PropertyName(in reader, buffer);
                if (name.SequenceEqual("headers"u8))
                {
                    reader.Read();
                    var start = reader.TokenStartIndex;
                    var isObject = reader.TokenType == JsonTokenType.StartObject;
                    reader.Skip();
                    if (isObject)
                    {
                        state.AddRegion(DocumentHints.HttpHeaders, start, reader.TokenStartIndex + 1);
                    }
                }
                else if (isRequest && name.SequenceEqual("method"u8))
                {
                    http.Method = ReadLooseText(ref reader);
                }
                else if (isRequest && name.SequenceEqual("url"u8))
                {
                    http.Url = ReadLooseText(ref reader);
                    if (http.Url.IsPresent && (http.Url.IsEscaped || reader.ValueSpan.IndexOfAny((byte)'?', (byte)'@') >= 0))
                    {
                        state.AddRegion(DocumentHints.UrlQuery, http.Url);
                    }
                }
                else if (isRequest && name.SequenceEqual("client_ip"u8))
                {
                    http.ClientIp = ReadLooseText(ref reader);
                }
                else if (isRequest && name.SequenceEqual("user_agent"u8))
                {
                    http.UserAgent = ReadLooseText(ref reader);
                }
                else if (isResponse && name.SequenceEqual("status"u8))
                {
                    reader.Read();
                    http.Status = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var status) ? status : 0;
                    CheckInteger(ref reader, ref node, int.MinValue, int.MaxValue, "http.response.status");
                }
                else if (isResponse && name.SequenceEqual("content_length"u8))
                {
                    reader.Read();
                    http.ContentLength = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var length) ? length : -1;
                    CheckInteger(ref reader, ref node, long.MinValue, long.MaxValue, "http.response.content_length");
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }

        return http;
    }

    private static AwsInfo ReadAws(ref Utf8JsonReader reader, ref SegmentNode node)
    {
        var aws = default(AwsInfo);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return aws;
        }

        Span<byte> buffer = stackalloc byte[32];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = PropertyName(in reader, buffer);
            if (name.SequenceEqual("operation"u8))
            {
                aws.Operation = ReadLooseText(ref reader);
            }
            else if (name.SequenceEqual("region"u8))
            {
                aws.Region = ReadLooseText(ref reader);
            }
            else if (name.SequenceEqual("request_id"u8))
            {
                aws.RequestId = ReadLooseText(ref reader);
            }
            else if (name.SequenceEqual("table_name"u8))
            {
                aws.TableName = ReadLooseText(ref reader);
            }
            else if (name.SequenceEqual("queue_url"u8))
            {
                aws.QueueUrl = ReadLooseText(ref reader);
            }
            else if (name.SequenceEqual("function_name"u8))
            {
                aws.FunctionName = ReadLooseText(ref reader);
            }
            else if (name.SequenceEqual("bucket_name"u8))
            {
                aws.BucketName = ReadLooseText(ref reader);
            }
            else if (name.SequenceEqual("topic_arn"u8))
            {
                aws.TopicArn = ReadLooseText(ref reader);
            }
            else if (name.SequenceEqual("account_id"u8))
            {
                aws.AccountId = ReadLooseText(ref reader);
            }
            else if (name.SequenceEqual("elastic_beanstalk"u8))
            {
                ReadElasticBeanstalk(ref reader, ref node);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return aws;
    }

    /// <summary>
    /// <c>aws.elastic_beanstalk</c>: only <c>deployment_id</c> is read, because the archive's
    /// tables type it as a bigint.
    /// </summary>
    private static void ReadElasticBeanstalk(ref Utf8JsonReader reader, ref SegmentNode node)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isDeploymentId = reader.ValueTextEquals("deployment_id"u8);
            reader.Read();
            if (isDeploymentId)
            {
                CheckInteger(ref reader, ref node, long.MinValue, long.MaxValue, "aws.elastic_beanstalk.deployment_id");
            }

            reader.Skip();
        }
    }

    /// <summary>
    /// A JSON number where the archive's tables (Athena's JSON SerDe) and X-Ray expect an integer
    /// must be one that fits (<c>200</c>, not <c>200.5</c>, <c>1e400</c> or <c>2e10</c> for an int):
    /// otherwise the row would be archived as valid and fail every query that reads it. Other token
    /// types are left to the field's own rule. The first such field is the node's number problem.
    /// </summary>
    private static void CheckInteger(ref Utf8JsonReader reader, ref SegmentNode node, long min, long max, string field)
    {
        if (reader.TokenType == JsonTokenType.Number
            && !(reader.TryGetInt64(out var value) && value >= min && value <= max)
            && node.NumberProblemField is null)
        {
            node.NumberProblemField = field;
        }
    }

    private static SqlInfo ReadSql(ref Utf8JsonReader reader, ref ParseState state)
    {
        var sql = default(SqlInfo);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return sql;
        }

        Span<byte> buffer = stackalloc byte[32];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = PropertyName(in reader, buffer);
            if (name.SequenceEqual("url"u8))
            {
                sql.Url = ReadLooseText(ref reader);
                if (sql.Url.IsPresent && (sql.Url.IsEscaped || reader.ValueSpan.Contains((byte)'@')))
                {
                    state.AddRegion(DocumentHints.SqlUrlCredentials, sql.Url);
                }
            }
            else if (name.SequenceEqual("database_type"u8))
            {
                sql.DatabaseType = ReadLooseText(ref reader);
            }
            else if (name.SequenceEqual("database_version"u8))
            {
                sql.DatabaseVersion = ReadLooseText(ref reader);
            }
            else if (name.SequenceEqual("user"u8))
            {
                sql.User = ReadLooseText(ref reader);
            }
            else if (name.SequenceEqual("sanitized_query"u8))
            {
                sql.SanitizedQuery = ReadLooseText(ref reader);
                if (sql.SanitizedQuery.IsPresent)
                {
                    state.AddRegion(DocumentHints.SqlQuery, sql.SanitizedQuery);
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return sql;
    }

    private static void ReadAnnotations(ref Utf8JsonReader reader, ref SegmentNode node, ref ParseState state)
    {
        Mark(ref node, FieldMask.Annotations);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            node.WrongType |= FieldMask.Annotations;
            reader.Skip();
            return;
        }

        SetFlag(ref node, EntityTraits.HasAnnotations, true);
        var start = reader.TokenStartIndex;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = Text(ref reader);
            var keyOk = reader.ValueIsEscaped
                ? AnnotationRules.IsValidKey(Encoding.UTF8.GetBytes(reader.GetString() ?? string.Empty))
                : AnnotationRules.IsValidKey(reader.ValueSpan);
            reader.Read();
            // A number must be a finite double: X-Ray refuses 1e400, and the archive would hold it as valid.
            var valueOk = reader.TokenType is JsonTokenType.String or JsonTokenType.True or JsonTokenType.False
                || (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var number) && double.IsFinite(number));
            reader.Skip();
            if (node.AnnotationProblem == SegmentRejectReason.None && (!keyOk || !valueOk))
            {
                node.AnnotationProblem = keyOk ? SegmentRejectReason.InvalidAnnotationValue : SegmentRejectReason.InvalidAnnotationKey;
                node.AnnotationProblemKey = key;
            }
        }

        state.AddRegion(DocumentHints.Annotations, start, reader.TokenStartIndex + 1);
    }

    private struct ParseState(SegmentLimits limits, List<SegmentNode> nodes, List<RedactionRegion> regions)
    {
        public readonly SegmentLimits Limits = limits;
        public readonly List<SegmentNode> Nodes = nodes;
        public readonly List<RedactionRegion> Regions = regions;
        public DocumentHints Hints;

        /// <summary>A JSON object [start, end) that redaction may need to look into.</summary>
        public void AddRegion(DocumentHints kind, long start, long end)
        {
            Hints |= kind;
            Regions.Add(new RedactionRegion(kind, new TextRef((int)start, (int)(end - start), escaped: false)));
        }

        /// <summary>A string value that redaction may need to look into.</summary>
        public void AddRegion(DocumentHints kind, TextRef text)
        {
            Hints |= kind;
            Regions.Add(new RedactionRegion(kind, text));
        }
    }
}

/// <summary>Annotation rules. Source: X-Ray segment document schema ("annotations").</summary>
public static class AnnotationRules
{
    /// <summary>Keys are alphanumeric or underscore; anything else is refused by X-Ray.</summary>
    public static bool IsValidKey(ReadOnlySpan<byte> key)
    {
        if (key.IsEmpty)
        {
            return false;
        }

        foreach (var b in key)
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || b == (byte)'_'))
            {
                return false;
            }
        }

        return true;
    }
}
