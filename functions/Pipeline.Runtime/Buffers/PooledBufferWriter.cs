using System.Buffers;

namespace Pipeline.Runtime.Buffers;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> on ArrayPool arrays, so a megabyte written per call (a batch's
/// NDJSON and its gzip in the ingest, a PutRecords body in the Kinesis client) is not a fresh
/// large-object-heap array each time, and what is written can be hashed and sent in place.
/// Dispose returns the array; <see cref="WrittenMemory"/> is invalid after that. Bounded by the
/// caller's maximum: growing past it throws.
/// </summary>
public sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    /// <summary>The default bound: far above anything one call writes (a Kinesis batch is at most 6 MB of payload, Lambda's invocation limit).</summary>
    public const int DefaultMaxBytes = 256 * 1024 * 1024;

    private readonly int _maxBytes;
    private byte[] _buffer;
    private int _written;

    public PooledBufferWriter(int initialCapacity, int maxBytes = DefaultMaxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 256);
        _maxBytes = maxBytes;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Clamp(initialCapacity, 256, maxBytes));
    }

    /// <summary>The most this writer will hold.</summary>
    public int MaxBytes => _maxBytes;

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public int WrittenCount => _written;

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _written);
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>A write-only stream that appends here (for GZipStream).</summary>
    public Stream AsStream() => new WriterStream(this);

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _written = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Ensure(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written >= needed)
        {
            return;
        }

        var size = Math.Max(_buffer.Length * 2L, (long)_written + needed);
        if (size > _maxBytes)
        {
            throw new InvalidOperationException($"A pooled buffer would exceed its limit of {_maxBytes} bytes.");
        }

        var bigger = ArrayPool<byte>.Shared.Rent((int)size);
        _buffer.AsSpan(0, _written).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    private sealed class WriterStream(PooledBufferWriter writer) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => writer.WrittenCount;

        public override long Position
        {
            get => writer.WrittenCount;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer) => writer.Write(buffer);

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
