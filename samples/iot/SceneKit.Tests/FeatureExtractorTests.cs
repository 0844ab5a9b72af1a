namespace SceneKit.Tests;

public sealed class FeatureExtractorTests
{
    [Fact]
    public void Classify_GeneratedScenes_LabelsEveryPixelAsDrawn()
    {
        // Despite colour jitter and pixel noise, the masks are exactly the shapes' pixels.
        var generator = new SceneGenerator(11);
        for (int i = 0; i < 200; i++)
        {
            Scene scene = generator.Next();
            RgbImage image = SceneRenderer.Render(scene);
            var labels = new sbyte[64 * 64];
            FeatureExtractor.Classify(image, labels);
            for (int y = 0; y < 64; y++)
            {
                for (int x = 0; x < 64; x++)
                {
                    int expected = -1;
                    foreach (SceneShape s in scene.Shapes)
                    {
                        expected = SceneRenderer.Contains(s, x, y) ? (int)s.Colour : expected;
                    }

                    Assert.True(expected == labels[y * 64 + x], $"scene {i} pixel ({x}, {y}): label {labels[y * 64 + x]}, drawn {expected}");
                }
            }
        }
    }

    [Fact]
    public void Extract_SeparatesShapeSizeAndPosition()
    {
        var generator = new SceneGenerator(12);
        for (int i = 0; i < 500; i++)
        {
            Scene scene = generator.Next();
            float[] f = FeatureExtractor.Extract(SceneRenderer.Render(scene));
            for (int c = 0; c < 4; c++)
            {
                bool present = false;
                foreach (SceneShape s in scene.Shapes)
                {
                    present |= (int)s.Colour == c;
                }

                Assert.Equal(present ? 1f : 0f, f[c * FeatureExtractor.FeaturesPerColour]);
            }

            foreach (SceneShape s in scene.Shapes)
            {
                int o = (int)s.Colour * FeatureExtractor.FeaturesPerColour;
                float fill = f[o + 6], top = f[o + 7];
                switch (s.Kind)
                {
                    case ShapeKind.Square: Assert.True(fill == 1f && top == 1f, $"square fill {fill} top {top}"); break;
                    case ShapeKind.Circle: Assert.InRange(fill, 0.70f, 0.86f); break;
                    default: Assert.InRange(fill, 0.45f, 0.62f); Assert.InRange(top, 0.05f, 0.4f); break;
                }

                float extent = Math.Max(f[o + 4], f[o + 5]) * 64;
                Assert.True(s.Size == ShapeSize.Small ? extent <= 15 : extent >= 21, $"{s.Size} extent {extent}");
                Assert.Equal(2f * (s.CenterX + 0.5f) / 64 - 1, f[o + 2], 1e-6f);
                Assert.Equal(2f * (s.CenterY + 0.5f) / 64 - 1, f[o + 3], 1e-6f);
            }
        }
    }

    [Fact]
    public void Extract_GridSumsToMaskArea()
    {
        var scene = new Scene(64, 64, [new SceneShape(ShapeKind.Square, ShapeColour.Yellow, ShapeSize.Large, 20, 40, 10)], 9);
        float[] f = FeatureExtractor.Extract(SceneRenderer.Render(scene));
        int o = 3 * FeatureExtractor.FeaturesPerColour;
        double cells = 0;
        for (int g = 0; g < 16; g++)
        {
            cells += f[o + FeatureExtractor.GeometryFeatures + g] * 16 * 16; // each cell is 16×16 px
        }

        Assert.Equal(21 * 21, cells, 1e-3);
        Assert.Equal(Math.Sqrt(21.0 * 21 / 4096), f[o + 1], 1e-6);
        Assert.Equal("yellow.grid[2,1]", FeatureExtractor.Names[o + FeatureExtractor.GeometryFeatures + 9]);
    }

    [Fact]
    public void Extract_RejectsWrongBufferLength()
    {
        var e = Assert.Throws<ArgumentException>(() => FeatureExtractor.Extract(new RgbImage(8, 8), new float[10]));
        Assert.Equal("features", e.ParamName);
    }

    [Fact]
    public void CommittedHeldOutSet_MatchesRegeneratedScenes()
    {
        // samples/iot/CaptionDecoder/data/test.txt was written by `scenes dataset`; the code must still produce it byte for byte.
        string path = FindRepoFile("samples/iot/CaptionDecoder/data/test.txt");
        string[] lines = File.ReadAllLines(path);
        Assert.Equal(1000, lines.Length);
        var generator = new SceneGenerator(DatasetSeeds.Test);
        var features = new float[FeatureExtractor.FeatureCount];
        var line = new System.Text.StringBuilder();
        for (int i = 0; i < 200; i++)
        {
            Scene scene = generator.Next();
            FeatureExtractor.Extract(SceneRenderer.Render(scene), features);
            line.Clear();
            CaptionDataset.AppendLine(line, features, scene.Caption);
            Assert.Equal(lines[i], line.ToString().TrimEnd('\n'));
            (float[] parsed, string? caption) = CaptionDataset.ParseLine(lines[i], path, i + 1);
            Assert.Equal(features, parsed);
            Assert.Equal(scene.Caption, caption);
        }
    }

    internal static string FindRepoFile(string relative)
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }
}
