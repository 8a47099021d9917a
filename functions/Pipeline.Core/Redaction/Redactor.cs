using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Pipeline.Core.Segments;

namespace Pipeline.Core.Redaction;

/// <summary>
/// Rewrites a segment document without its secrets: masks listed HTTP header values, listed URL
/// query parameter values and URL passwords, annotation/metadata values under matching keys, and
/// replaces SQL literals in <c>sanitized_query</c> with <c>?</c>. Fast path: when the parser saw
/// nothing redactable, or a read-only pass finds nothing to change, the original bytes are returned
/// untouched. A rewrite is compact JSON that keeps every other value byte for byte. Idempotent.
/// </summary>
public sealed class Redactor
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };

    private readonly byte[][] _headerNames;
    private readonly byte[][] _queryParameters;
    private readonly byte[][] _keyPatterns;
    private readonly byte[] _mask;
    private readonly DocumentHints _relevant;

    public Redactor(RedactionPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        Policy = policy;
        _headerNames = [.. policy.HeaderNames.Select(Encoding.UTF8.GetBytes)];
        _queryParameters = [.. policy.QueryParameters.Select(Encoding.UTF8.GetBytes)];
        _keyPatterns = [.. policy.KeyPatterns.Select(Encoding.UTF8.GetBytes)];
        _mask = Encoding.UTF8.GetBytes(policy.Mask);
        _relevant =
            (_headerNames.Length > 0 ? DocumentHints.HttpHeaders | DocumentHints.Metadata : 0)
            | (_queryParameters.Length > 0 ? DocumentHints.UrlQuery : 0)
            | (_keyPatterns.Length > 0 ? DocumentHints.Annotations | DocumentHints.Metadata : 0)
            | (policy.SanitizeSqlLiterals ? DocumentHints.SqlQuery : 0)
            | (policy.MaskUrlPasswords ? DocumentHints.UrlQuery | DocumentHints.SqlUrlCredentials : 0);
    }

    public RedactionPolicy Policy { get; }

    /// <summary>
    /// Redacts a parsed (and validated) segment. The parser recorded every redactable place, so a
    /// clean document costs a look at those places only; the full rewrite runs when one matched.
    /// </summary>
    public RedactionResult Redact(ParsedSegment segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        if ((segment.Hints & _relevant) == 0 || !AnyRegionMatches(segment))
        {
            return new RedactionResult(segment.Document, default);
        }

        return Rewrite(segment.Document);
    }

    /// <summary>Redacts raw document bytes. Bytes that are not a JSON document come back unchanged.</summary>
    public RedactionResult Redact(ReadOnlyMemory<byte> document)
    {
        var scan = new Pass(this, document.Span, writer: null);
        return scan.Run() && scan.Report.Any ? Rewrite(document) : new RedactionResult(document, default);
    }

    private RedactionResult Rewrite(ReadOnlyMemory<byte> document)
    {
        var output = new ArrayBufferWriter<byte>(document.Length + 64);
        using (var writer = new Utf8JsonWriter(output, WriterOptions))
        {
            var rewrite = new Pass(this, document.Span, writer);
            rewrite.Run();
            writer.Flush();
            return new RedactionResult(output.WrittenMemory, rewrite.Report);
        }
    }

    private bool AnyRegionMatches(ParsedSegment segment)
    {
        foreach (var region in segment.Regions)
        {
            var matched = region.Kind switch
            {
                DocumentHints.UrlQuery => UrlSecrets.Count(segment.GetUtf8(region.Range), _queryParameters, Policy.MaskUrlPasswords, _mask) > 0,
                DocumentHints.SqlUrlCredentials => UrlSecrets.Count(segment.GetUtf8(region.Range), [], Policy.MaskUrlPasswords, _mask) > 0,
                DocumentHints.SqlQuery => Policy.SanitizeSqlLiterals && SqlLiterals.Count(segment.GetUtf8(region.Range)) > 0,
                DocumentHints.HttpHeaders => ObjectHasSecretKey(segment, region.Range, headers: true, patterns: false, anyDepth: false),
                DocumentHints.Annotations => ObjectHasSecretKey(segment, region.Range, headers: false, patterns: true, anyDepth: false),
                DocumentHints.Metadata => ObjectHasSecretKey(segment, region.Range, headers: true, patterns: true, anyDepth: true),
                _ => true,
            };
            if (matched)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when the object has a key to mask whose value is not already the mask.</summary>
    private bool ObjectHasSecretKey(ParsedSegment segment, TextRef range, bool headers, bool patterns, bool anyDepth)
    {
        if ((!headers || _headerNames.Length == 0) && (!patterns || _keyPatterns.Length == 0))
        {
            return false;
        }

        var reader = new Utf8JsonReader(segment.Document.Span.Slice(range.Start, range.Length), ReaderOptions);
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName || (!anyDepth && reader.CurrentDepth != 1))
            {
                continue;
            }

            var name = reader.ValueIsEscaped ? reader.GetString() is { } s ? Encoding.UTF8.GetBytes(s) : [] : reader.ValueSpan;
            var secret = (headers && AnyName(_headerNames, name)) || (patterns && IsSecretKey(name));
            reader.Read();
            if (secret && !(reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(_mask)))
            {
                return true;
            }

            if (!anyDepth)
            {
                reader.Skip();
            }
        }

        return false;
    }

    private static bool EqualsIgnoreAsciiCase(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => Ascii.EqualsIgnoreCase(a, b);

    private static bool AnyName(byte[][] names, ReadOnlySpan<byte> value)
    {
        foreach (var name in names)
        {
            if (EqualsIgnoreAsciiCase(name, value))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsSecretKey(ReadOnlySpan<byte> key)
    {
        foreach (var pattern in _keyPatterns)
        {
            if (Sampling.Glob.IsMatch(pattern, key))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One walk over the document: counting only (writer null) or counting and writing.</summary>
    private ref struct Pass(Redactor owner, ReadOnlySpan<byte> document, Utf8JsonWriter? writer)
    {
        private readonly Redactor _owner = owner;
        private readonly ReadOnlySpan<byte> _document = document;
        private readonly Utf8JsonWriter? _writer = writer;
        private int _headers;
        private int _queryParameters;
        private int _keys;
        private int _sqlLiterals;
        private int _urlPasswords;

        public readonly RedactionReport Report => new(_headers, _queryParameters, _keys, _sqlLiterals, _urlPasswords);

        public bool Run()
        {
            var reader = new Utf8JsonReader(_document, ReaderOptions);
            try
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                {
                    return false;
                }

                Entity(ref reader);
                return true;
            }
            catch (JsonException)
            {
                return false;
            }
        }

        private void Entity(ref Utf8JsonReader reader)
        {
            _writer?.WriteStartObject();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isHttp = reader.ValueTextEquals("http"u8);
                var isSql = !isHttp && reader.ValueTextEquals("sql"u8);
                var isAnnotations = !isHttp && !isSql && reader.ValueTextEquals("annotations"u8);
                var isMetadata = !isHttp && !isSql && !isAnnotations && reader.ValueTextEquals("metadata"u8);
                var isSubsegments = !isHttp && !isSql && !isAnnotations && !isMetadata && reader.ValueTextEquals("subsegments"u8);
                WriteName(ref reader);
                reader.Read();
                if (isHttp && reader.TokenType == JsonTokenType.StartObject)
                {
                    Http(ref reader);
                }
                else if (isSql && reader.TokenType == JsonTokenType.StartObject)
                {
                    Sql(ref reader);
                }
                else if (isAnnotations && reader.TokenType == JsonTokenType.StartObject)
                {
                    KeyedObject(ref reader, recurse: false);
                }
                else if (isMetadata && reader.TokenType == JsonTokenType.StartObject)
                {
                    KeyedObject(ref reader, recurse: true);
                }
                else if (isSubsegments && reader.TokenType == JsonTokenType.StartArray)
                {
                    _writer?.WriteStartArray();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (reader.TokenType == JsonTokenType.StartObject)
                        {
                            Entity(ref reader);
                        }
                        else
                        {
                            Copy(ref reader);
                        }
                    }

                    _writer?.WriteEndArray();
                }
                else
                {
                    Copy(ref reader);
                }
            }

            _writer?.WriteEndObject();
        }

        private void Http(ref Utf8JsonReader reader)
        {
            _writer?.WriteStartObject();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isRequest = reader.ValueTextEquals("request"u8);
                var isMessage = isRequest || reader.ValueTextEquals("response"u8);
                WriteName(ref reader);
                reader.Read();
                if (!isMessage || reader.TokenType != JsonTokenType.StartObject)
                {
                    Copy(ref reader);
                    continue;
                }

                _writer?.WriteStartObject();
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isHeaders = reader.ValueTextEquals("headers"u8);
                    var isUrl = isRequest && reader.ValueTextEquals("url"u8);
                    WriteName(ref reader);
                    reader.Read();
                    if (isHeaders && reader.TokenType == JsonTokenType.StartObject)
                    {
                        Headers(ref reader);
                    }
                    else if (isUrl && reader.TokenType == JsonTokenType.String)
                    {
                        Url(ref reader, queryParameters: true);
                    }
                    else
                    {
                        Copy(ref reader);
                    }
                }

                _writer?.WriteEndObject();
            }

            _writer?.WriteEndObject();
        }

        private void Headers(ref Utf8JsonReader reader)
        {
            _writer?.WriteStartObject();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var secret = AnyName(_owner._headerNames, Name(ref reader));
                WriteName(ref reader);
                reader.Read();
                if (secret)
                {
                    Mask(ref reader, ref _headers);
                }
                else
                {
                    Copy(ref reader);
                }
            }

            _writer?.WriteEndObject();
        }

        private void Sql(ref Utf8JsonReader reader)
        {
            _writer?.WriteStartObject();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isUrl = reader.ValueTextEquals("url"u8);
                var isQuery = !isUrl && reader.ValueTextEquals("sanitized_query"u8);
                WriteName(ref reader);
                reader.Read();
                if (isUrl && reader.TokenType == JsonTokenType.String)
                {
                    Url(ref reader, queryParameters: false);
                }
                else if (isQuery && reader.TokenType == JsonTokenType.String && _owner.Policy.SanitizeSqlLiterals)
                {
                    var query = Unescaped(ref reader);
                    var sanitized = SqlLiterals.Sanitize(query, out var literals);
                    _sqlLiterals += literals;
                    WriteString(ref reader, literals > 0 ? sanitized : null);
                }
                else
                {
                    Copy(ref reader);
                }
            }

            _writer?.WriteEndObject();
        }

        /// <summary>Annotations (flat) or metadata (recursive): mask values under secret keys.</summary>
        private void KeyedObject(ref Utf8JsonReader reader, bool recurse)
        {
            _writer?.WriteStartObject();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = Name(ref reader);
                var secret = _owner.IsSecretKey(name) || (recurse && AnyName(_owner._headerNames, name));
                WriteName(ref reader);
                reader.Read();
                if (secret)
                {
                    Mask(ref reader, ref _keys);
                }
                else if (recurse)
                {
                    MetadataValue(ref reader);
                }
                else
                {
                    Copy(ref reader);
                }
            }

            _writer?.WriteEndObject();
        }

        private void MetadataValue(ref Utf8JsonReader reader)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    KeyedObject(ref reader, recurse: true);
                    break;
                case JsonTokenType.StartArray:
                    _writer?.WriteStartArray();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        MetadataValue(ref reader);
                    }

                    _writer?.WriteEndArray();
                    break;
                default:
                    Copy(ref reader);
                    break;
            }
        }

        private void Url(ref Utf8JsonReader reader, bool queryParameters)
        {
            var url = Unescaped(ref reader);
            var redacted = UrlSecrets.Redact(
                url,
                queryParameters ? _owner._queryParameters : [],
                _owner.Policy.MaskUrlPasswords,
                _owner._mask,
                out var parameters,
                out var passwords);
            _queryParameters += parameters;
            _urlPasswords += passwords;
            WriteString(ref reader, parameters + passwords > 0 ? redacted : null);
        }

        /// <summary>Replaces the current value with the mask, unless it already is the mask.</summary>
        private void Mask(ref Utf8JsonReader reader, ref int counter)
        {
            if (reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(_owner._mask))
            {
                Copy(ref reader);
                return;
            }

            counter++;
            reader.Skip();
            _writer?.WriteStringValue(_owner._mask);
        }

        private readonly void WriteString(ref Utf8JsonReader reader, byte[]? replacement)
        {
            if (replacement is null)
            {
                Copy(ref reader);
            }
            else
            {
                _writer?.WriteStringValue(replacement);
            }
        }

        private readonly void WriteName(ref Utf8JsonReader reader)
        {
            if (_writer is null)
            {
                return;
            }

            if (!reader.ValueIsEscaped)
            {
                _writer.WritePropertyName(reader.ValueSpan);
                return;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length);
            var written = reader.CopyString(buffer);
            _writer.WritePropertyName(buffer.AsSpan(0, written));
            ArrayPool<byte>.Shared.Return(buffer);
        }

        /// <summary>Copies the current value (with its children) unchanged; strings and numbers keep their exact bytes.</summary>
        private readonly void Copy(ref Utf8JsonReader reader)
        {
            if (_writer is null)
            {
                reader.Skip();
                return;
            }

            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    _writer.WriteStartObject();
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        WriteName(ref reader);
                        reader.Read();
                        Copy(ref reader);
                    }

                    _writer.WriteEndObject();
                    break;
                case JsonTokenType.StartArray:
                    _writer.WriteStartArray();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        Copy(ref reader);
                    }

                    _writer.WriteEndArray();
                    break;
                case JsonTokenType.String:
                    _writer.WriteRawValue(_document.Slice((int)reader.TokenStartIndex, reader.ValueSpan.Length + 2), skipInputValidation: true);
                    break;
                case JsonTokenType.Number:
                    _writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                    break;
                case JsonTokenType.True:
                    _writer.WriteBooleanValue(true);
                    break;
                case JsonTokenType.False:
                    _writer.WriteBooleanValue(false);
                    break;
                default:
                    _writer.WriteNullValue();
                    break;
            }
        }

        private static ReadOnlySpan<byte> Unescaped(ref Utf8JsonReader reader)
        {
            if (!reader.ValueIsEscaped)
            {
                return reader.ValueSpan;
            }

            var buffer = new byte[reader.ValueSpan.Length];
            return buffer.AsSpan(0, reader.CopyString(buffer));
        }

        /// <summary>The property name, unescaped when needed (rare, so the copy is fine).</summary>
        private static ReadOnlySpan<byte> Name(ref Utf8JsonReader reader) =>
            reader.ValueIsEscaped ? Unescaped(ref reader) : reader.ValueSpan;
    }
}
