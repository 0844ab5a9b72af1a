using System;
using System.Text;

namespace RnnEmbedded.Compiler.Formats.Onnx;

/// <summary>
/// A bounded reader of the protobuf wire format over one message's bytes (docs/model-format.md, "ONNX import").
/// It never recurses by itself: the caller opens a sub-reader per nested message, and the ONNX reader nests to a
/// fixed depth. Every length is checked against the bytes that remain before anything is allocated, and every
/// varint is at most ten bytes, so a hostile file can drive it into neither deep recursion, nor huge allocations,
/// nor long loops (each step consumes at least one byte).
/// </summary>
internal struct ProtoReader
{
    public const int WireVarint = 0;
    public const int WireFixed64 = 1;
    public const int WireLengthDelimited = 2;
    public const int WireFixed32 = 5;

    private readonly byte[] _data;
    private readonly string _context;
    private int _position;
    private readonly int _end;

    public ProtoReader(byte[] data, int start, int end, string context)
    {
        _data = data;
        _position = start;
        _end = end;
        _context = context;
    }

    public bool AtEnd => _position >= _end;

    public int Remaining => _end - _position;

    /// <summary>Reads the next field's tag; false at the end of the message.</summary>
    public bool Next(out int field, out int wireType)
    {
        field = 0;
        wireType = 0;
        if (_position >= _end)
        {
            return false;
        }

        ulong tag = ReadVarint();
        wireType = (int)(tag & 7);
        ulong number = tag >> 3;
        if (number == 0 || number > 536_870_911)
        {
            throw Fail($"field number {number} is outside 1..2^29−1");
        }

        if (wireType is 3 or 4 or 6 or 7)
        {
            throw Fail($"field {number} has wire type {wireType}, which protobuf 3 does not use (groups) or does not define");
        }

        field = (int)number;
        return true;
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _end)
            {
                throw Fail("a varint runs past the end of its message");
            }

            byte b = _data[_position++];
            if (shift == 63 && b > 1)
            {
                throw Fail("a varint is longer than 64 bits");
            }

            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        throw Fail("a varint is longer than ten bytes");
    }

    public long ReadInt64() => unchecked((long)ReadVarint());

    public int ReadInt32Checked(string what)
    {
        long v = ReadInt64();
        if (v < int.MinValue || v > int.MaxValue)
        {
            throw Fail($"{what} {v} does not fit in 32 bits");
        }

        return (int)v;
    }

    public uint ReadFixed32()
    {
        if (_end - _position < 4)
        {
            throw Fail("a 4-byte field runs past the end of its message");
        }

        uint v = (uint)(_data[_position] | _data[_position + 1] << 8 | _data[_position + 2] << 16 | _data[_position + 3] << 24);
        _position += 4;
        return v;
    }

    public ulong ReadFixed64()
    {
        ulong lo = ReadFixed32();
        ulong hi = ReadFixed32();
        return lo | hi << 32;
    }

    public float ReadFloat() => FloatConversion.BitsToSingle(ReadFixed32());

    /// <summary>Reads a length prefix and returns the [start, end) range of the payload, checked against what remains.</summary>
    public (int Start, int End) ReadLengthDelimited()
    {
        ulong length = ReadVarint();
        if (length > (ulong)(_end - _position))
        {
            throw Fail($"a length-delimited field claims {length} bytes but only {_end - _position} remain in its message");
        }

        int start = _position;
        _position += (int)length;
        return (start, _position);
    }

    public ProtoReader ReadMessage(string context)
    {
        (int start, int end) = ReadLengthDelimited();
        return new ProtoReader(_data, start, end, context);
    }

    public string ReadString(int maxLength, string what)
    {
        (int start, int end) = ReadLengthDelimited();
        if (end - start > maxLength)
        {
            throw Fail($"{what} is {end - start} bytes long; the limit is {maxLength}");
        }

        try
        {
            return s_utf8.GetString(_data, start, end - start);
        }
        catch (DecoderFallbackException)
        {
            throw Fail($"{what} is not valid UTF-8");
        }
    }

    public byte[] ReadBytes(int maxLength, string what)
    {
        (int start, int end) = ReadLengthDelimited();
        if (end - start > maxLength)
        {
            throw Fail($"{what} is {end - start} bytes long; the limit is {maxLength}");
        }

        var bytes = new byte[end - start];
        Buffer.BlockCopy(_data, start, bytes, 0, bytes.Length);
        return bytes;
    }

    /// <summary>The payload range of a length-delimited field, without copying.</summary>
    public ArraySegment<byte> ReadSegment()
    {
        (int start, int end) = ReadLengthDelimited();
        return new ArraySegment<byte>(_data, start, end - start);
    }

    /// <summary>Skips a field of the given wire type.</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case WireVarint:
                ReadVarint();
                break;
            case WireFixed64:
                ReadFixed64();
                break;
            case WireLengthDelimited:
                ReadLengthDelimited();
                break;
            case WireFixed32:
                ReadFixed32();
                break;
            default:
                throw Fail($"wire type {wireType} cannot be skipped");
        }
    }

    public void Expect(int field, int wireType, int expected)
    {
        if (wireType != expected)
        {
            throw Fail($"field {field} has wire type {wireType}, expected {expected}");
        }
    }

    public InvalidProtoException Fail(string rule) => new(_context + ": " + rule);

    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}

/// <summary>The bytes are not a well-formed protobuf message (caught by the ONNX reader and reported with the file name).</summary>
internal sealed class InvalidProtoException : Exception
{
    public InvalidProtoException(string message)
        : base(message)
    {
    }
}
