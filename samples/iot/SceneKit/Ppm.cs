using System.Text;

namespace SceneKit;

/// <summary>
/// Binary PPM (Netpbm "P6"): <c>P6 &lt;width&gt; &lt;height&gt; &lt;maxval&gt;</c> separated by whitespace (with <c>#</c>
/// comments to end of line), one whitespace byte, then width·height RGB triples. maxval 1..255 (one byte per
/// sample) is read and rescaled to 0..255; 16-bit files (maxval &gt; 255) and the ASCII "P3" form are rejected.
/// </summary>
public static class Ppm
{
    public static RgbImage ReadFile(string path) => Read(File.ReadAllBytes(path), path);

    public static RgbImage Read(ReadOnlySpan<byte> data, string fileName = "<ppm>")
    {
        if (data.Length < 2 || data[0] != (byte)'P')
        {
            throw new ImageFormatException(fileName, "not a PPM file (it must start with 'P6')");
        }

        if (data[1] != (byte)'6')
        {
            throw new ImageFormatException(fileName, $"Netpbm type 'P{(char)data[1]}' is not supported; only binary RGB 'P6' is");
        }

        int pos = 2;
        int width = ReadHeaderNumber(data, ref pos, fileName, "width");
        int height = ReadHeaderNumber(data, ref pos, fileName, "height");
        int maxValue = ReadHeaderNumber(data, ref pos, fileName, "maxval");
        if (width < 1 || width > RgbImage.MaxDimension || height < 1 || height > RgbImage.MaxDimension)
        {
            throw new ImageFormatException(fileName, $"size {width}×{height} is outside 1..{RgbImage.MaxDimension}");
        }

        if (maxValue < 1 || maxValue > 255)
        {
            throw new ImageFormatException(fileName, $"maxval {maxValue} is not supported; it must be in 1..255 (8-bit samples)");
        }

        if (pos >= data.Length || !IsWhiteSpace(data[pos]))
        {
            throw new ImageFormatException(fileName, "the header must end with one whitespace byte before the pixel data");
        }

        pos++;
        int size = 3 * width * height;
        if (data.Length - pos < size)
        {
            throw new ImageFormatException(fileName, $"truncated: {size} pixel bytes expected, {data.Length - pos} present");
        }

        var pixels = data.Slice(pos, size).ToArray();
        if (maxValue != 255)
        {
            for (int i = 0; i < pixels.Length; i++)
            {
                if (pixels[i] > maxValue)
                {
                    throw new ImageFormatException(fileName, $"sample {pixels[i]} at byte {pos + i} exceeds maxval {maxValue}");
                }

                pixels[i] = (byte)((pixels[i] * 255 + maxValue / 2) / maxValue);
            }
        }

        return new RgbImage(width, height, pixels);
    }

    public static byte[] Write(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        byte[] header = Encoding.ASCII.GetBytes($"P6\n{image.Width} {image.Height}\n255\n");
        var bytes = new byte[header.Length + image.Pixels.Length];
        header.CopyTo(bytes, 0);
        image.Pixels.CopyTo(bytes, header.Length);
        return bytes;
    }

    public static void WriteFile(string path, RgbImage image) => File.WriteAllBytes(path, Write(image));

    private static int ReadHeaderNumber(ReadOnlySpan<byte> data, ref int pos, string fileName, string what)
    {
        // Skip whitespace and comments.
        while (pos < data.Length)
        {
            if (IsWhiteSpace(data[pos]))
            {
                pos++;
            }
            else if (data[pos] == (byte)'#')
            {
                while (pos < data.Length && data[pos] != (byte)'\n' && data[pos] != (byte)'\r')
                {
                    pos++;
                }
            }
            else
            {
                break;
            }
        }

        long value = 0;
        int start = pos;
        while (pos < data.Length && data[pos] >= (byte)'0' && data[pos] <= (byte)'9')
        {
            value = value * 10 + (data[pos] - '0');
            if (value > int.MaxValue)
            {
                throw new ImageFormatException(fileName, $"header {what} is too large");
            }

            pos++;
        }

        if (pos == start)
        {
            throw new ImageFormatException(fileName, $"header {what} is missing or not a decimal number");
        }

        return (int)value;
    }

    private static bool IsWhiteSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';
}
