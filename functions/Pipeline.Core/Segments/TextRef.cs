namespace Pipeline.Core.Segments;

/// <summary>
/// A JSON string value located inside the document bytes (between its quotes), so parsing never
/// copies strings. <c>default</c> means the field was absent.
/// </summary>
public readonly record struct TextRef
{
    internal TextRef(int start, int length, bool escaped)
    {
        Start = start;
        Length = length;
        IsPresent = true;
        IsEscaped = escaped;
    }

    /// <summary>Offset of the first byte after the opening quote.</summary>
    public int Start { get; }

    /// <summary>Length of the raw (still escaped) value in bytes.</summary>
    public int Length { get; }

    public bool IsPresent { get; }

    /// <summary>True when the raw bytes contain JSON escapes and must be unescaped before use.</summary>
    public bool IsEscaped { get; }
}
