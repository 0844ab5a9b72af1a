namespace SceneKit;

/// <summary>
/// Draws a <see cref="Scene"/>: background (238, 236, 230), each shape in its colour's base RGB with a per-shape
/// jitter of ±12 per channel, and ±8 of per-pixel noise on every pixel (all from <see cref="Scene.NoiseSeed"/>).
/// Pixel (x, y) is inside a circle when (x − cx)² + (y − cy)² ≤ (s + 0.5)²; inside a square when |x − cx| ≤ s and
/// |y − cy| ≤ s; inside the triangle when row t = y − (cy − s) ∈ [0, 2s] and |x − cx| ≤ t / 2.
/// </summary>
public static class SceneRenderer
{
    public static readonly (byte R, byte G, byte B) Background = (238, 236, 230);

    /// <summary>Base colours, indexed by <see cref="ShapeColour"/>.</summary>
    public static ReadOnlySpan<byte> BaseColours =>
    [
        215, 45, 40,   // red
        40, 185, 55,   // green
        45, 75, 215,   // blue
        230, 205, 40,  // yellow
    ];

    public static RgbImage Render(Scene scene)
    {
        ArgumentNullException.ThrowIfNull(scene);
        var image = new RgbImage(scene.Width, scene.Height);
        var random = new SceneRandom(scene.NoiseSeed);
        Span<int> colours = stackalloc int[3 * scene.Shapes.Count];
        for (int k = 0; k < scene.Shapes.Count; k++)
        {
            int c = (int)scene.Shapes[k].Colour;
            for (int ch = 0; ch < 3; ch++)
            {
                colours[3 * k + ch] = BaseColours[3 * c + ch] + random.Next(-12, 12);
            }
        }

        for (int y = 0; y < scene.Height; y++)
        {
            for (int x = 0; x < scene.Width; x++)
            {
                int r = Background.R, g = Background.G, b = Background.B;
                for (int k = 0; k < scene.Shapes.Count; k++)
                {
                    if (Contains(scene.Shapes[k], x, y))
                    {
                        r = colours[3 * k];
                        g = colours[3 * k + 1];
                        b = colours[3 * k + 2];
                    }
                }

                image.SetPixel(x, y, Clamp(r + random.Next(-8, 8)), Clamp(g + random.Next(-8, 8)), Clamp(b + random.Next(-8, 8)));
            }
        }

        return image;
    }

    public static bool Contains(SceneShape shape, int x, int y)
    {
        int dx = x - shape.CenterX, dy = y - shape.CenterY, s = shape.HalfExtent;
        switch (shape.Kind)
        {
            case ShapeKind.Circle:
                return 4 * (dx * dx + dy * dy) <= (2 * s + 1) * (2 * s + 1);
            case ShapeKind.Square:
                return Math.Abs(dx) <= s && Math.Abs(dy) <= s;
            default:
                int t = dy + s;
                return t >= 0 && t <= 2 * s && 2 * Math.Abs(dx) <= t;
        }
    }

    private static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);
}
