namespace SceneKit;

/// <summary>Reads a PPM (P6) or PNG file, recognised by its first bytes, not its extension.</summary>
public static class ImageFile
{
    public static RgbImage Read(string path)
    {
        byte[] data = File.ReadAllBytes(path);
        if (Png.HasSignature(data))
        {
            return Png.Read(data, path);
        }

        if (data.Length >= 2 && data[0] == (byte)'P')
        {
            return Ppm.Read(data, path);
        }

        throw new ImageFormatException(path, "neither a PNG nor a PPM (P6) file");
    }

    /// <summary>Writes PNG for a ".png" path, PPM (P6) otherwise.</summary>
    public static void Write(string path, RgbImage image)
    {
        if (path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
        {
            Png.WriteFile(path, image);
        }
        else
        {
            Ppm.WriteFile(path, image);
        }
    }

    /// <summary>True when the file starts like a PNG or a Netpbm image.</summary>
    public static bool LooksLikeImage(string path)
    {
        Span<byte> head = stackalloc byte[8];
        using FileStream stream = File.OpenRead(path);
        int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return Png.HasSignature(head[..n]) || (n >= 2 && head[0] == (byte)'P' && head[1] >= (byte)'1' && head[1] <= (byte)'7');
    }
}
