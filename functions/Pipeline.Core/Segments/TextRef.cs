namespace Pipeline.Core.Segments;

/// <summary>
/// A JSON string value located inside the document bytes (between its quotes), so parsing never
/// copies strings. <c>default</c> means the field was absent. Packed in 8 bytes because a
/// <see cref="SegmentNode"/> holds dozens of them.
/// </summary>
public readonly record struct TextRef
{
    private const int PresentBit = 1 << 30;
    private const int EscapedBit = 1 << 31;
    private const int LengthMask = PresentBit - 1;

    private readonly int _lengthAndFlags;

    internal TextRef(int start, int length, bool escaped)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, LengthMask);
        Start = start;
        _lengthAndFlags = length | PresentBit | (escaped ? EscapedBit : 0);
    }

    /// <summary>Offset of the first byte after the opening quote.</summary>
    public int Start { get; }

    /// <summary>Length of the raw (still escaped) value in bytes.</summary>
    public int Length => _lengthAndFlags & LengthMask;

    public bool IsPresent => (_lengthAndFlags & PresentBit) != 0;

    /// <summary>True when the raw bytes contain JSON escapes and must be unescaped before use.</summary>
    public bool IsEscaped => (_lengthAndFlags & EscapedBit) != 0;
}
