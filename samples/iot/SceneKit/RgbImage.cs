namespace SceneKit;

/// <summary>An 8-bit RGB image, row-major, 3 bytes per pixel: pixel (x, y) is <c>Pixels[3 * (y * Width + x) ..][..3]</c>.</summary>
public sealed class RgbImage
{
    /// <summary>Largest width or height accepted, so a corrupt header cannot ask for gigabytes.</summary>
    public const int MaxDimension = 8_192;

    public RgbImage(int width, int height)
        : this(width, height, new byte[CheckedSize(width, height)])
    {
    }

    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        int size = CheckedSize(width, height);
        if (pixels.Length != size)
        {
            throw new ArgumentException($"pixels has {pixels.Length} bytes; a {width}×{height} RGB image needs {size}.", nameof(pixels));
        }

        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    public byte[] Pixels { get; }

    public void SetPixel(int x, int y, byte r, byte g, byte b)
    {
        int i = 3 * (y * Width + x);
        Pixels[i] = r;
        Pixels[i + 1] = g;
        Pixels[i + 2] = b;
    }

    public (byte R, byte G, byte B) GetPixel(int x, int y)
    {
        int i = 3 * (y * Width + x);
        return (Pixels[i], Pixels[i + 1], Pixels[i + 2]);
    }

    private static int CheckedSize(int width, int height)
    {
        if (width < 1 || width > MaxDimension)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, $"width must be in [1, {MaxDimension}].");
        }

        if (height < 1 || height > MaxDimension)
        {
            throw new ArgumentOutOfRangeException(nameof(height), height, $"height must be in [1, {MaxDimension}].");
        }

        return checked(3 * width * height);
    }
}
