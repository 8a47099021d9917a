using System.Buffers;

namespace Pipeline.Aws.Http;

/// <summary>
/// A request body written once into ArrayPool arrays: the JSON writer serializes into it, the
/// signer hashes it in place and the HTTP content sends it from there, so a megabyte PutRecords
/// body is neither copied nor a fresh large-object-heap array per call. Dispose returns the array
/// (after the response is read); <see cref="WrittenMemory"/> is invalid after that.
/// </summary>
internal sealed class PooledBody : IBufferWriter<byte>, IDisposable
{
    /// <summary>PutRecords' 5 MiB of data is 6.7 MiB as base64 in JSON; nothing we send is larger.</summary>
    public const int MaxBytes = 16 * 1024 * 1024;

    private byte[] _buffer;
    private int _written;

    public PooledBody(int initialCapacity) => _buffer = ArrayPool<byte>.Shared.Rent(Math.Clamp(initialCapacity, 256, MaxBytes));

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

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
        if (size > MaxBytes)
        {
            throw new InvalidOperationException($"A request body would exceed {MaxBytes} bytes.");
        }

        var bigger = ArrayPool<byte>.Shared.Rent((int)size);
        _buffer.AsSpan(0, _written).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
