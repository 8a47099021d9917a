using System.Text;
using Pipeline.Core.Redaction;
using Pipeline.Core.Sampling;

namespace Pipeline.Core.Otlp;

/// <summary>
/// The ingest's <see cref="RedactionPolicy"/> applied to OTLP spans themselves, for the paths that send
/// spans as received (XRAY_FORWARD=otlp) rather than the redacted X-Ray documents. The same rules as
/// <see cref="Redactor"/>, on attributes (span, event, link, resource and scope, nested key-value
/// lists included): a key matching <see cref="RedactionPolicy.KeyPatterns"/> has its value masked;
/// <c>http.request.header.&lt;name&gt;</c>/<c>http.response.header.&lt;name&gt;</c> with a name in
/// <see cref="RedactionPolicy.HeaderNames"/> is masked; query parameters and user-info passwords of
/// <c>url.full</c>, <c>http.url</c>, <c>url.query</c>, <c>http.target</c> are masked; literals of
/// <c>db.statement</c>/<c>db.query.text</c> become <c>?</c>. Rewrites the request in place (the
/// ingest's own decoded copy); counts what it masked, never values.
/// </summary>
public sealed class OtlpRedactor
{
    private static readonly string[] HeaderPrefixes = ["http.request.header.", "http.response.header."];
    private static readonly string[] UrlKeys = ["url.full", "http.url", "http.target", "url.original"];
    private static readonly string[] SqlKeys = ["db.statement", "db.query.text"];

    private readonly RedactionPolicy _policy;
    private readonly byte[][] _keyPatterns;
    private readonly byte[][] _queryParameters;
    private readonly byte[] _mask;
    private readonly OtlpValue _maskValue;

    public OtlpRedactor(RedactionPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _policy = policy;
        _keyPatterns = [.. policy.KeyPatterns.Select(Encoding.UTF8.GetBytes)];
        _queryParameters = [.. policy.QueryParameters.Select(Encoding.UTF8.GetBytes)];
        _mask = Encoding.UTF8.GetBytes(policy.Mask);
        _maskValue = OtlpValue.FromString(policy.Mask);
    }

    /// <summary>Redacts every span of <paramref name="request"/> and its resources and scopes; the number of values masked.</summary>
    public int Redact(OtlpTraceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var masked = 0;
        foreach (var resource in request.ResourceSpans)
        {
            masked += Redact(resource.Resource.Attributes);
            foreach (var scope in resource.ScopeSpans)
            {
                masked += Redact(scope.Scope.Attributes);
                foreach (var span in scope.Spans)
                {
                    masked += Redact(span);
                }
            }
        }

        return masked;
    }

    /// <summary>Redacts one span's attributes, events and links; the number of values masked.</summary>
    public int Redact(OtlpSpan span)
    {
        ArgumentNullException.ThrowIfNull(span);
        var masked = Redact(span.Attributes);
        foreach (var item in span.Events)
        {
            masked += Redact(item.Attributes);
        }

        foreach (var link in span.Links)
        {
            masked += Redact(link.Attributes);
        }

        return masked;
    }

    private int Redact(List<OtlpKeyValue> attributes)
    {
        var masked = 0;
        for (var i = 0; i < attributes.Count; i++)
        {
            var (key, value) = attributes[i];
            var replacement = Redacted(key, value, ref masked);
            if (replacement is { } changed)
            {
                attributes[i] = new OtlpKeyValue(key, changed);
            }
        }

        return masked;
    }

    /// <summary>The value to write instead of <paramref name="value"/>, or null to keep it.</summary>
    private OtlpValue? Redacted(string key, OtlpValue value, ref int masked)
    {
        if (IsSecretKey(key) || IsSecretHeader(key))
        {
            if (value.Kind == OtlpValueKind.StringValue && value.AsString == _policy.Mask)
            {
                return null;
            }

            masked++;
            return _maskValue;
        }

        if (value.Kind == OtlpValueKind.KvlistValue)
        {
            var nested = new List<OtlpKeyValue>(value.AsKeyValueList);
            var before = masked;
            masked += Redact(nested);
            return masked == before ? null : OtlpValue.FromKeyValueList(nested);
        }

        if (value.AsString is not { } text)
        {
            return null;
        }

        if (Array.IndexOf(UrlKeys, key) >= 0 || key == "url.query")
        {
            var query = key == "url.query";
            var url = Encoding.UTF8.GetBytes(query ? "?" + text : text);
            if (UrlSecrets.Count(url, _queryParameters, _policy.MaskUrlPasswords, _mask) == 0)
            {
                return null;
            }

            var redacted = UrlSecrets.Redact(url, _queryParameters, _policy.MaskUrlPasswords, _mask, out var parameters, out var passwords);
            masked += parameters + passwords;
            var result = Encoding.UTF8.GetString(redacted);
            return OtlpValue.FromString(query ? result[1..] : result);
        }

        if (_policy.SanitizeSqlLiterals && Array.IndexOf(SqlKeys, key) >= 0)
        {
            var sql = Encoding.UTF8.GetBytes(text);
            if (SqlLiterals.Count(sql) == 0)
            {
                return null;
            }

            var sanitized = SqlLiterals.Sanitize(sql, out var literals);
            masked += literals;
            return OtlpValue.FromString(Encoding.UTF8.GetString(sanitized));
        }

        return null;
    }

    private bool IsSecretKey(string key)
    {
        if (_keyPatterns.Length == 0)
        {
            return false;
        }

        var bytes = Encoding.UTF8.GetBytes(key);
        foreach (var pattern in _keyPatterns)
        {
            if (Glob.IsMatch(pattern, bytes))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsSecretHeader(string key)
    {
        foreach (var prefix in HeaderPrefixes)
        {
            if (key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                // OTel writes header names lower case with '-' kept; some SDKs write '_' instead.
                var name = key[prefix.Length..].Replace('_', '-');
                return _policy.HeaderNames.Any(h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
            }
        }

        return false;
    }
}
