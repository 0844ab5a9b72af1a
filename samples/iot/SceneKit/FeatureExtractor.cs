namespace SceneKit;

/// <summary>
/// Image → feature vector for the caption decoder: per-colour masks, their geometry and a coarse spatial histogram.
/// Works on any image size (every quantity is a fraction of the canvas). Deterministic: the same pixels give the
/// same floats on every platform (integer counting, then one division per feature).
/// </summary>
/// <remarks>
/// <para><b>Pixel classification.</b> A pixel is "coloured" when max(R, G, B) − min(R, G, B) ≥ 60 (the background and
/// greys are not); a coloured pixel belongs to the nearest of the four base colours of
/// <see cref="SceneRenderer.BaseColours"/> in squared RGB distance (ties: the earlier colour). This gives four
/// masks M_red, M_green, M_blue, M_yellow.</para>
/// <para><b>Features.</b> F = 4 × 24 = 96 floats: block c (c = 0 red, 1 green, 2 blue, 3 yellow) is floats [24c, 24c + 24).
/// With N = W·H pixels, n = |M_c|, and the mask's bounding box [x0, x1] × [y0, y1] (inclusive):</para>
/// <list type="table">
/// <item><term>+0 present</term><description>1 if n ≥ max(4, N / 500), else 0 (when 0, every other float of the block is 0).</description></item>
/// <item><term>+1 size</term><description>sqrt(n / N): linear in the shape's size.</description></item>
/// <item><term>+2 centre x</term><description>2 · ((x0 + x1 + 1) / 2) / W − 1 ∈ [−1, 1]: bounding-box centre, −1 left edge, +1 right edge.</description></item>
/// <item><term>+3 centre y</term><description>the same for y: −1 top, +1 bottom.</description></item>
/// <item><term>+4 width</term><description>(x1 − x0 + 1) / W.</description></item>
/// <item><term>+5 height</term><description>(y1 − y0 + 1) / H.</description></item>
/// <item><term>+6 fill</term><description>n / ((x1 − x0 + 1)(y1 − y0 + 1)): ≈ 1 square, ≈ π/4 circle, ≈ 1/2 triangle.</description></item>
/// <item><term>+7 top fill</term><description>fraction of the box's top third rows that is in the mask (≈ 1 square, ≈ 0.17 triangle).</description></item>
/// <item><term>+8..+23 grid</term><description>4×4 spatial histogram, row-major (cell (i, j) = rows [iH/4, (i+1)H/4), columns
/// [jW/4, (j+1)W/4)): the fraction of the cell's pixels in the mask.</description></item>
/// </list>
/// </remarks>
public static class FeatureExtractor
{
    public const int ColourCount = 4;
    public const int GridSize = 4;
    public const int GeometryFeatures = 8;
    public const int FeaturesPerColour = GeometryFeatures + GridSize * GridSize; // 24
    public const int FeatureCount = ColourCount * FeaturesPerColour;            // 96
    public const int SaturationThreshold = 60;

    /// <summary>Names of the features, index = position in the vector (e.g. "red.present", "blue.grid[2,3]").</summary>
    public static IReadOnlyList<string> Names { get; } = BuildNames();

    public static float[] Extract(RgbImage image)
    {
        var features = new float[FeatureCount];
        Extract(image, features);
        return features;
    }

    public static void Extract(RgbImage image, Span<float> features)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (features.Length != FeatureCount)
        {
            throw new ArgumentException($"features has {features.Length} elements; it needs {FeatureCount}.", nameof(features));
        }

        int w = image.Width, h = image.Height;
        var labels = new sbyte[w * h];
        Classify(image, labels);
        features.Clear();
        Span<long> cells = stackalloc long[GridSize * GridSize];
        for (int c = 0; c < ColourCount; c++)
        {
            Span<float> block = features.Slice(c * FeaturesPerColour, FeaturesPerColour);
            long n = 0;
            int x0 = int.MaxValue, x1 = -1, y0 = int.MaxValue, y1 = -1;
            cells.Clear();
            for (int y = 0; y < h; y++)
            {
                int gy = y * GridSize / h;
                for (int x = 0; x < w; x++)
                {
                    if (labels[y * w + x] != c)
                    {
                        continue;
                    }

                    n++;
                    x0 = Math.Min(x0, x);
                    x1 = Math.Max(x1, x);
                    y0 = Math.Min(y0, y);
                    y1 = Math.Max(y1, y);
                    cells[gy * GridSize + x * GridSize / w]++;
                }
            }

            long total = (long)w * h;
            if (n < Math.Max(4, total / 500))
            {
                continue;
            }

            int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
            int topRows = Math.Max(1, bh / 3);
            long top = 0;
            for (int y = y0; y < y0 + topRows; y++)
            {
                for (int x = x0; x <= x1; x++)
                {
                    top += labels[y * w + x] == c ? 1 : 0;
                }
            }

            block[0] = 1f;
            block[1] = (float)Math.Sqrt((double)n / total);
            block[2] = (float)((x0 + x1 + 1.0) / w - 1.0);
            block[3] = (float)((y0 + y1 + 1.0) / h - 1.0);
            block[4] = (float)bw / w;
            block[5] = (float)bh / h;
            block[6] = (float)((double)n / ((long)bw * bh));
            block[7] = (float)((double)top / ((long)topRows * bw));
            for (int gy = 0; gy < GridSize; gy++)
            {
                int rows = (gy + 1) * h / GridSize - gy * h / GridSize;
                for (int gx = 0; gx < GridSize; gx++)
                {
                    int columns = (gx + 1) * w / GridSize - gx * w / GridSize;
                    block[GeometryFeatures + gy * GridSize + gx] = (float)((double)cells[gy * GridSize + gx] / ((long)rows * columns));
                }
            }
        }
    }

    /// <summary>Per pixel: −1 (background) or the <see cref="ShapeColour"/> index.</summary>
    public static void Classify(RgbImage image, Span<sbyte> labels)
    {
        ArgumentNullException.ThrowIfNull(image);
        ReadOnlySpan<byte> p = image.Pixels;
        ReadOnlySpan<byte> bases = SceneRenderer.BaseColours;
        for (int i = 0; i < labels.Length; i++)
        {
            int r = p[3 * i], g = p[3 * i + 1], b = p[3 * i + 2];
            int max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b));
            if (max - min < SaturationThreshold)
            {
                labels[i] = -1;
                continue;
            }

            int best = 0, bestDistance = int.MaxValue;
            for (int c = 0; c < ColourCount; c++)
            {
                int dr = r - bases[3 * c], dg = g - bases[3 * c + 1], db = b - bases[3 * c + 2];
                int d = dr * dr + dg * dg + db * db;
                if (d < bestDistance)
                {
                    best = c;
                    bestDistance = d;
                }
            }

            labels[i] = (sbyte)best;
        }
    }

    private static string[] BuildNames()
    {
        string[] geometry = ["present", "size", "centre_x", "centre_y", "width", "height", "fill", "top_fill"];
        var names = new string[FeatureCount];
        for (int c = 0; c < ColourCount; c++)
        {
            string colour = Captions.Word((ShapeColour)c);
            for (int k = 0; k < GeometryFeatures; k++)
            {
                names[c * FeaturesPerColour + k] = $"{colour}.{geometry[k]}";
            }

            for (int g = 0; g < GridSize * GridSize; g++)
            {
                names[c * FeaturesPerColour + GeometryFeatures + g] = $"{colour}.grid[{g / GridSize},{g % GridSize}]";
            }
        }

        return names;
    }
}
