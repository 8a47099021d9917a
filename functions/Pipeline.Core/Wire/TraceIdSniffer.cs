namespace Pipeline.Core.Wire;

/// <summary>
/// Finds the top-level <c>"trace_id"</c> value of a segment document without parsing it, so the
/// relay can key a Kinesis record by trace without paying for a full JSON parse. Full validation
/// is the ingest function's job.
/// </summary>
public static class TraceIdSniffer
{
    /// <summary>"1-" + 8 hex + "-" + 24 hex. Source: X-Ray segment document schema.</summary>
    public const int TraceIdLength = 35;

    private static ReadOnlySpan<byte> Key => "\"trace_id\""u8;

    /// <summary>
    /// Returns the trace id bytes, or an empty span when the document has no well-formed trace id.
    /// Only the outermost object's key counts: a nested <c>trace_id</c> (inside metadata, say) is
    /// skipped by tracking the object depth while scanning.
    /// </summary>
    public static ReadOnlySpan<byte> Find(ReadOnlySpan<byte> document)
    {
        var depth = 0;
        var inString = false;
        for (var i = 0; i < document.Length; i++)
        {
            var b = document[i];
            if (inString)
            {
                if (b == (byte)'\\')
                {
                    i++;
                }
                else if (b == (byte)'"')
                {
                    inString = false;
                }

                continue;
            }

            switch (b)
            {
                case (byte)'{' or (byte)'[':
                    depth++;
                    break;
                case (byte)'}' or (byte)']':
                    depth--;
                    break;
                case (byte)'"':
                    if (depth == 1 && document[i..].StartsWith(Key))
                    {
                        var value = ValueAfterKey(document, i + Key.Length);
                        if (!value.IsEmpty)
                        {
                            return value;
                        }
                    }

                    inString = true;
                    break;
            }
        }

        return default;
    }

    /// <summary>True for <c>1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx</c> with lowercase or uppercase hex.</summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> traceId)
    {
        if (traceId.Length != TraceIdLength || traceId[0] != (byte)'1' || traceId[1] != (byte)'-' || traceId[10] != (byte)'-')
        {
            return false;
        }

        for (var i = 2; i < TraceIdLength; i++)
        {
            if (i != 10 && !char.IsAsciiHexDigit((char)traceId[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static ReadOnlySpan<byte> ValueAfterKey(ReadOnlySpan<byte> document, int index)
    {
        var rest = document[index..].TrimStart(" \t\r\n"u8);
        if (rest.IsEmpty || rest[0] != (byte)':')
        {
            return default;
        }

        rest = rest[1..].TrimStart(" \t\r\n"u8);
        if (rest.Length < TraceIdLength + 2 || rest[0] != (byte)'"' || rest[TraceIdLength + 1] != (byte)'"')
        {
            return default;
        }

        var candidate = rest.Slice(1, TraceIdLength);
        return IsWellFormed(candidate) ? candidate : default;
    }
}
