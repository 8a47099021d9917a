namespace Pipeline.Core.Redaction;

/// <summary>
/// What to redact. Names compare ASCII case-insensitively; key patterns are globs with <c>*</c>.
/// The defaults cover the well-known secret carriers, so redaction is on unless a deployment opts out.
/// </summary>
public sealed record RedactionPolicy
{
    public static RedactionPolicy Default { get; } = new();

    /// <summary>Redacts nothing (for deployments that opt out, and for tests).</summary>
    public static RedactionPolicy None { get; } = new()
    {
        HeaderNames = [],
        QueryParameters = [],
        KeyPatterns = [],
        SanitizeSqlLiterals = false,
        MaskUrlPasswords = false,
    };

    /// <summary>The replacement value. Re-redacting a masked value is a no-op, which makes redaction idempotent.</summary>
    public string Mask { get; init; } = "REDACTED";

    /// <summary>Keys of <c>http.request.headers</c>/<c>http.response.headers</c> (and of metadata) whose values are masked.</summary>
    public IReadOnlyList<string> HeaderNames { get; init; } =
    [
        "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-amz-security-token",
        "x-auth-token", "x-csrf-token", "x-xsrf-token",
    ];

    /// <summary>Query parameters of <c>http.request.url</c> whose values are masked (SigV4 presign fields included).</summary>
    public IReadOnlyList<string> QueryParameters { get; init; } =
    [
        "token", "access_token", "id_token", "refresh_token", "password", "passwd", "pwd", "secret", "client_secret",
        "api_key", "apikey", "key", "sig", "signature", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
    ];

    /// <summary>Annotation and metadata keys (at any metadata depth) whose values are masked.</summary>
    public IReadOnlyList<string> KeyPatterns { get; init; } =
    [
        "*password*", "*passwd*", "*secret*", "*token*", "*api_key*", "*apikey*", "*credential*", "authorization", "cookie",
        "*private_key*",
    ];

    /// <summary>Replace string and numeric literals of <c>sql.sanitized_query</c> with <c>?</c>.</summary>
    public bool SanitizeSqlLiterals { get; init; } = true;

    /// <summary>Mask the password of <c>user:password@</c> in <c>http.request.url</c> and <c>sql.url</c>.</summary>
    public bool MaskUrlPasswords { get; init; } = true;
}

/// <summary>What a redaction touched: counts only, never values.</summary>
public readonly record struct RedactionReport(int Headers, int QueryParameters, int Keys, int SqlLiterals, int UrlPasswords)
{
    public int Total => Headers + QueryParameters + Keys + SqlLiterals + UrlPasswords;

    public bool Any => Total > 0;
}

/// <summary>The redacted document (the original memory when nothing matched) and the report.</summary>
public readonly record struct RedactionResult(ReadOnlyMemory<byte> Document, RedactionReport Report)
{
    public bool Rewritten => Report.Any;
}
