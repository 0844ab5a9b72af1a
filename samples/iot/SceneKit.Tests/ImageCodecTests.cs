using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace SceneKit.Tests;

public sealed class ImageCodecTests
{
    [Fact]
    public void Png_RoundTrip_PreservesEveryPixel()
    {
        RgbImage image = RandomImage(13, 7, seed: 5);
        RgbImage back = Png.Read(Png.Write(image));
        Assert.Equal(13, back.Width);
        Assert.Equal(7, back.Height);
        Assert.Equal(image.Pixels, back.Pixels);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(-1)] // a different filter on every row
    public void Png_Read_UndoesFilterType(int filter)
    {
        RgbImage image = RandomImage(9, 6, seed: 11);
        byte[] png = EncodeFiltered(image.Pixels, image.Width, image.Height, channels: 3, colourType: 2, filter);
        Assert.Equal(image.Pixels, Png.Read(png).Pixels);
    }

    [Fact]
    public void Png_Read_Rgba_CompositesOverWhite()
    {
        // Pixels: opaque (10, 20, 30), transparent, half-transparent black.
        byte[] rgba = [10, 20, 30, 255, 10, 20, 30, 0, 0, 0, 0, 128];
        byte[] png = EncodeFiltered(rgba, 3, 1, channels: 4, colourType: 6, filter: 4);
        RgbImage image = Png.Read(png);
        Assert.Equal((10, 20, 30), ((int)image.GetPixel(0, 0).R, (int)image.GetPixel(0, 0).G, (int)image.GetPixel(0, 0).B));
        Assert.Equal(((byte)255, (byte)255, (byte)255), image.GetPixel(1, 0));
        Assert.Equal(((byte)127, (byte)127, (byte)127), image.GetPixel(2, 0)); // (255·127 + 127) / 255 = 127
    }

    [Theory]
    [InlineData(8, 2, 1, "interlaced")]
    [InlineData(8, 3, 0, "palette")]
    [InlineData(8, 0, 0, "greyscale")]
    [InlineData(16, 2, 0, "bit depth 16")]
    public void Png_Read_RejectsUnsupportedHeaders(int bitDepth, int colourType, int interlace, string expected)
    {
        byte[] png = EncodeFiltered(new byte[12], 2, 2, channels: 3, colourType: 2, filter: 0);
        // Patch IHDR (bytes 16..28) and recompute its CRC.
        png[24] = (byte)bitDepth;
        png[25] = (byte)colourType;
        png[28] = (byte)interlace;
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Png.Crc32(png.AsSpan(12, 17)));
        var e = Assert.Throws<ImageFormatException>(() => Png.Read(png, "x.png"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("x.png: ", e.Message);
    }

    [Fact]
    public void Png_Read_RejectsCorruptCrc()
    {
        byte[] png = Png.Write(RandomImage(4, 4, seed: 1));
        png[20] ^= 1; // inside IHDR's width field
        var e = Assert.Throws<ImageFormatException>(() => Png.Read(png, "bad.png"));
        Assert.Contains("CRC mismatch in chunk 'IHDR'", e.Message);
    }

    [Fact]
    public void Png_Read_RejectsTruncatedFile()
    {
        byte[] png = Png.Write(RandomImage(4, 4, seed: 1));
        var e = Assert.Throws<ImageFormatException>(() => Png.Read(png.AsSpan(0, png.Length - 12), "cut.png"));
        Assert.Contains("IEND", e.Message);
    }

    [Fact]
    public void Png_Crc32_MatchesKnownCheckValue()
    {
        // The CRC-32 check value of "123456789" (ITU-T V.42 / ISO 3309) is 0xCBF43926.
        Assert.Equal(0xCBF43926u, Png.Crc32(Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void Ppm_RoundTrip_PreservesEveryPixel()
    {
        RgbImage image = RandomImage(5, 3, seed: 2);
        byte[] ppm = Ppm.Write(image);
        Assert.StartsWith("P6\n5 3\n255\n", Encoding.ASCII.GetString(ppm, 0, 11));
        Assert.Equal(image.Pixels, Ppm.Read(ppm).Pixels);
    }

    [Fact]
    public void Ppm_Read_SkipsCommentsAndRescalesMaxval()
    {
        byte[] header = Encoding.ASCII.GetBytes("P6 # a comment\n1 1\n# another\n15\n");
        byte[] ppm = [.. header, 15, 0, 7];
        RgbImage image = Ppm.Read(ppm);
        Assert.Equal(((byte)255, (byte)0, (byte)119), image.GetPixel(0, 0)); // 7·255/15 = 119
    }

    [Theory]
    [InlineData("P3\n1 1\n255\n0 0 0\n", "'P3' is not supported")]
    [InlineData("P6\n2 2\n255\n\u0001\u0002", "truncated")]
    [InlineData("P6\n2 2\n65535\n", "maxval 65535")]
    [InlineData("P6\nx 2\n255\n", "width is missing")]
    public void Ppm_Read_RejectsBadFiles(string text, string expected)
    {
        var e = Assert.Throws<ImageFormatException>(() => Ppm.Read(Encoding.Latin1.GetBytes(text), "in.ppm"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ImageFile_Read_DetectsFormatByContentNotExtension()
    {
        string dir = Directory.CreateTempSubdirectory("scenekit").FullName;
        try
        {
            RgbImage image = RandomImage(6, 6, seed: 3);
            string pngNamedPpm = Path.Combine(dir, "a.ppm");
            File.WriteAllBytes(pngNamedPpm, Png.Write(image));
            string ppmNamedPng = Path.Combine(dir, "b.png");
            File.WriteAllBytes(ppmNamedPng, Ppm.Write(image));
            Assert.Equal(image.Pixels, ImageFile.Read(pngNamedPpm).Pixels);
            Assert.Equal(image.Pixels, ImageFile.Read(ppmNamedPng).Pixels);
            File.WriteAllText(Path.Combine(dir, "c.txt"), "0 1 2\tcaption");
            Assert.False(ImageFile.LooksLikeImage(Path.Combine(dir, "c.txt")));
            Assert.Throws<ImageFormatException>(() => ImageFile.Read(Path.Combine(dir, "c.txt")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ExampleImages_DecodeToTheRenderedHeldOutScene()
    {
        // images/scene00-rgba-paeth.png was written by Python's zlib (RGBA, Paeth on every row), not by SceneKit.
        RgbImage expected = SceneRenderer.Render(new SceneGenerator(DatasetSeeds.Test).Next());
        foreach (string name in new[] { "scene00.png", "scene00.ppm", "scene00-rgba-paeth.png" })
        {
            RgbImage image = ImageFile.Read(FeatureExtractorTests.FindRepoFile("samples/iot/CaptionDecoder/images/" + name));
            Assert.True(expected.Pixels.AsSpan().SequenceEqual(image.Pixels), $"{name} differs from the rendered scene");
        }
    }

    internal static RgbImage RandomImage(int width, int height, ulong seed)
    {
        var random = new SceneRandom(seed);
        var image = new RgbImage(width, height);
        for (int i = 0; i < image.Pixels.Length; i++)
        {
            image.Pixels[i] = (byte)random.Next(0, 255);
        }

        return image;
    }

    // An independent PNG encoder with the forward filters of the PNG specification (section 9.2), so the reader's
    // inverse filters are checked against the definition rather than against themselves.
    private static byte[] EncodeFiltered(byte[] samples, int width, int height, int channels, int colourType, int filter)
    {
        int stride = width * channels;
        var raw = new byte[(stride + 1) * height];
        for (int y = 0; y < height; y++)
        {
            int f = filter >= 0 ? filter : y % 5;
            raw[y * (stride + 1)] = (byte)f;
            for (int i = 0; i < stride; i++)
            {
                int x = samples[y * stride + i];
                int a = i >= channels ? samples[y * stride + i - channels] : 0;
                int b = y > 0 ? samples[(y - 1) * stride + i] : 0;
                int c = y > 0 && i >= channels ? samples[(y - 1) * stride + i - channels] : 0;
                int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                int paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
                int predictor = f switch { 0 => 0, 1 => a, 2 => b, 3 => (a + b) / 2, _ => paeth };
                raw[y * (stride + 1) + 1 + i] = (byte)(x - predictor);
            }
        }

        using var z = new MemoryStream();
        using (var zlib = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true))
        {
            zlib.Write(raw);
        }

        var header = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)height);
        header[8] = 8;
        header[9] = (byte)colourType;
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", header);
        byte[] data = z.ToArray();
        // Split the data over two IDAT chunks: the reader must concatenate them.
        Chunk(png, "IDAT", data.AsSpan(0, data.Length / 2));
        Chunk(png, "tEXt", Encoding.ASCII.GetBytes("Comment\0ancillary chunks are skipped"));
        Chunk(png, "IDAT", data.AsSpan(data.Length / 2));
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream s, string type, ReadOnlySpan<byte> body)
    {
        var buffer = new byte[12 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)body.Length);
        Encoding.ASCII.GetBytes(type, buffer.AsSpan(4));
        body.CopyTo(buffer.AsSpan(8));
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(8 + body.Length), Png.Crc32(buffer.AsSpan(4, 4 + body.Length)));
        s.Write(buffer);
    }
}
