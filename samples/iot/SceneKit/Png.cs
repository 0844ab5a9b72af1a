using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace SceneKit;

/// <summary>
/// PNG (ISO/IEC 15948, W3C PNG specification) reader and writer for what the sample needs: 8-bit truecolour
/// (colour type 2, RGB) and truecolour with alpha (colour type 6, RGBA; alpha is composited over white),
/// non-interlaced, all five filter types (None, Sub, Up, Average, Paeth). Chunk CRCs are checked; ancillary
/// chunks are skipped. Other bit depths, palette/grey images and Adam7 interlacing are rejected with a message
/// saying so. The zlib stream is decoded with <see cref="ZLibStream"/>. The writer emits RGB, filter None per row.
/// </summary>
public static class Png
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static readonly uint[] s_crcTable = BuildCrcTable();

    public static RgbImage ReadFile(string path) => Read(File.ReadAllBytes(path), path);

    public static bool HasSignature(ReadOnlySpan<byte> data) => data.Length >= 8 && data[..8].SequenceEqual(Signature);

    public static RgbImage Read(ReadOnlySpan<byte> data, string fileName = "<png>")
    {
        if (!HasSignature(data))
        {
            throw new ImageFormatException(fileName, "not a PNG file (bad 8-byte signature)");
        }

        int pos = 8;
        int width = 0, height = 0, colourType = -1;
        bool sawHeader = false, sawEnd = false;
        using var idat = new MemoryStream();
        while (pos < data.Length)
        {
            if (data.Length - pos < 12)
            {
                throw new ImageFormatException(fileName, $"truncated chunk at byte {pos}");
            }

            uint length = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
            if (length > int.MaxValue || length > (uint)(data.Length - pos - 12))
            {
                throw new ImageFormatException(fileName, $"chunk at byte {pos} claims {length} bytes, beyond the end of the file");
            }

            ReadOnlySpan<byte> typeAndData = data.Slice(pos + 4, 4 + (int)length);
            string type = Encoding.ASCII.GetString(typeAndData[..4]);
            ReadOnlySpan<byte> body = typeAndData[4..];
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8 + (int)length)..]);
            if (Crc32(typeAndData) != crc)
            {
                throw new ImageFormatException(fileName, $"CRC mismatch in chunk '{type}' at byte {pos}");
            }

            pos += 12 + (int)length;
            if (!sawHeader && type != "IHDR")
            {
                throw new ImageFormatException(fileName, $"the first chunk is '{type}'; it must be IHDR");
            }

            switch (type)
            {
                case "IHDR":
                    if (sawHeader)
                    {
                        throw new ImageFormatException(fileName, "more than one IHDR chunk");
                    }

                    (width, height, colourType) = ReadHeader(body, fileName);
                    sawHeader = true;
                    break;
                case "IDAT":
                    idat.Write(body);
                    break;
                case "IEND":
                    sawEnd = true;
                    break;
                case "PLTE":
                    break; // only meaningful for palette images, which ReadHeader rejected; optional for truecolour
                default:
                    if ((typeAndData[0] & 0x20) == 0)
                    {
                        throw new ImageFormatException(fileName, $"unknown critical chunk '{type}'");
                    }

                    break; // ancillary (lower-case first letter): skip
            }

            if (sawEnd)
            {
                break;
            }
        }

        if (!sawEnd)
        {
            throw new ImageFormatException(fileName, "no IEND chunk (truncated file)");
        }

        if (idat.Length == 0)
        {
            throw new ImageFormatException(fileName, "no IDAT chunk (no image data)");
        }

        int channels = colourType == 6 ? 4 : 3;
        int stride = width * channels;
        long expected = (long)(stride + 1) * height;
        var raw = new byte[expected];
        idat.Position = 0;
        try
        {
            using var zlib = new ZLibStream(idat, CompressionMode.Decompress);
            int read = 0;
            while (read < raw.Length)
            {
                int n = zlib.Read(raw, read, raw.Length - read);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            if (read != raw.Length)
            {
                throw new ImageFormatException(fileName, $"image data decompresses to {read} bytes; {width}×{height} needs {raw.Length}");
            }
        }
        catch (InvalidDataException e)
        {
            throw new ImageFormatException(fileName, $"corrupt zlib data in IDAT: {e.Message}", e);
        }

        var pixels = new byte[3 * width * height];
        Unfilter(raw, width, height, channels, fileName);
        for (int y = 0; y < height; y++)
        {
            int row = y * (stride + 1) + 1;
            for (int x = 0; x < width; x++)
            {
                int s = row + x * channels;
                int d = 3 * (y * width + x);
                if (channels == 3)
                {
                    pixels[d] = raw[s];
                    pixels[d + 1] = raw[s + 1];
                    pixels[d + 2] = raw[s + 2];
                }
                else
                {
                    int a = raw[s + 3];
                    for (int c = 0; c < 3; c++)
                    {
                        // Over a white background: out = (v·a + 255·(255 − a)) / 255, rounded.
                        pixels[d + c] = (byte)((raw[s + c] * a + 255 * (255 - a) + 127) / 255);
                    }
                }
            }
        }

        return new RgbImage(width, height, pixels);
    }

    public static byte[] Write(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int stride = 3 * image.Width;
        var raw = new byte[(stride + 1) * image.Height];
        for (int y = 0; y < image.Height; y++)
        {
            raw[y * (stride + 1)] = 0; // filter None
            Array.Copy(image.Pixels, y * stride, raw, y * (stride + 1) + 1, stride);
        }

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(raw);
        }

        using var output = new MemoryStream();
        output.Write(Signature);
        var header = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)image.Width);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)image.Height);
        header[8] = 8;  // bit depth
        header[9] = 2;  // colour type: truecolour
        header[10] = 0; // compression: deflate
        header[11] = 0; // filter method 0
        header[12] = 0; // no interlace
        WriteChunk(output, "IHDR", header);
        WriteChunk(output, "IDAT", compressed.ToArray());
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    public static void WriteFile(string path, RgbImage image) => File.WriteAllBytes(path, Write(image));

    /// <summary>CRC-32 (ISO 3309 / ITU-T V.42, polynomial 0xEDB88320 reflected), as PNG chunks use.</summary>
    public static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in bytes)
        {
            c = s_crcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        }

        return c ^ 0xFFFFFFFFu;
    }

    /// <summary>Reverses the per-row filters in place (raw rows are 1 filter byte + stride bytes).</summary>
    internal static void Unfilter(byte[] raw, int width, int height, int bytesPerPixel, string fileName)
    {
        int stride = width * bytesPerPixel;
        for (int y = 0; y < height; y++)
        {
            int row = y * (stride + 1);
            int filter = raw[row];
            int cur = row + 1;
            int prev = cur - (stride + 1); // previous row's data; invalid when y == 0 (treated as zeros)
            for (int i = 0; i < stride; i++)
            {
                int a = i >= bytesPerPixel ? raw[cur + i - bytesPerPixel] : 0;
                int b = y > 0 ? raw[prev + i] : 0;
                int c = y > 0 && i >= bytesPerPixel ? raw[prev + i - bytesPerPixel] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) >> 1,
                    4 => Paeth(a, b, c),
                    _ => throw new ImageFormatException(fileName, $"row {y} has filter type {filter}; PNG defines 0..4"),
                };
                raw[cur + i] = (byte)(raw[cur + i] + predictor);
            }
        }
    }

    internal static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a);
        int pb = Math.Abs(p - b);
        int pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc)
        {
            return a;
        }

        return pb <= pc ? b : c;
    }

    private static (int Width, int Height, int ColourType) ReadHeader(ReadOnlySpan<byte> body, string fileName)
    {
        if (body.Length != 13)
        {
            throw new ImageFormatException(fileName, $"IHDR has {body.Length} bytes; it must have 13");
        }

        uint width = BinaryPrimitives.ReadUInt32BigEndian(body);
        uint height = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
        int bitDepth = body[8], colourType = body[9], compression = body[10], filter = body[11], interlace = body[12];
        if (width < 1 || width > RgbImage.MaxDimension || height < 1 || height > RgbImage.MaxDimension)
        {
            throw new ImageFormatException(fileName, $"size {width}×{height} is outside 1..{RgbImage.MaxDimension}");
        }

        if (colourType != 2 && colourType != 6)
        {
            string kind = colourType switch { 0 => "greyscale", 3 => "palette", 4 => "greyscale with alpha", _ => "invalid" };
            throw new ImageFormatException(fileName, $"colour type {colourType} ({kind}) is not supported; only 8-bit RGB (2) and RGBA (6) are");
        }

        if (bitDepth != 8)
        {
            throw new ImageFormatException(fileName, $"bit depth {bitDepth} is not supported; only 8 bits per sample is");
        }

        if (compression != 0 || filter != 0)
        {
            throw new ImageFormatException(fileName, $"compression method {compression} / filter method {filter} is not defined; both must be 0");
        }

        if (interlace != 0)
        {
            throw new ImageFormatException(fileName, interlace == 1
                ? "Adam7 interlaced images are not supported; save the image non-interlaced"
                : $"interlace method {interlace} is not defined");
        }

        return ((int)width, (int)height, colourType);
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> body)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)body.Length);
        output.Write(word);
        var typeAndData = new byte[4 + body.Length];
        Encoding.ASCII.GetBytes(type, typeAndData);
        body.CopyTo(typeAndData.AsSpan(4));
        output.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typeAndData));
        output.Write(word);
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
