namespace SceneKit;

/// <summary>
/// Deterministic random scenes: the same seed gives the same scenes, images and captions everywhere.
/// </summary>
/// <remarks>
/// Rules (canvas W×H, default 64×64; all coordinates in pixels, y down):
/// <list type="bullet">
/// <item>30% of scenes have one shape, 70% two shapes of different colours. Shape, colour and size are uniform.</item>
/// <item>Half extent s: small 5..7, large 10..13 (so a small shape's bounding box is ≤ 15 px, a large one's ≥ 21 px).</item>
/// <item>One shape: a position label is drawn uniformly, then the centre uniformly inside its region (for 64×64:
/// left x ∈ [s+1, 20], y ∈ [24, 40]; right x ∈ [44, 62−s]; top y ∈ [s+1, 20], x ∈ [24, 40]; bottom y ∈ [44, 62−s];
/// centre x, y ∈ [28, 36]; regions scale with the canvas).</item>
/// <item>Two shapes: centres uniform inside the canvas (1 px margin), redrawn until the bounding boxes are at least
/// 2 px apart and one axis dominates: |dy| ≥ 2|dx| (an "above"/"below" scene) or |dx| ≥ 2|dy| ("left of"/"right of").</item>
/// </list>
/// </remarks>
public sealed class SceneGenerator
{
    public const int DefaultSize = 64;

    private const int SmallMin = 5, SmallMax = 7, LargeMin = 10, LargeMax = 13;

    private readonly int _width;
    private readonly int _height;
    private SceneRandom _random;

    public SceneGenerator(ulong seed, int width = DefaultSize, int height = DefaultSize)
    {
        if (width < 48 || height < 48 || width > 1024 || height > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"canvas {width}×{height}: both sides must be in [48, 1024].");
        }

        _width = width;
        _height = height;
        _random = new SceneRandom(seed);
    }

    public Scene Next()
    {
        ulong noiseSeed = _random.NextUInt64();
        if (_random.NextDouble() < 0.3)
        {
            return new Scene(_width, _height, [NextSingle()], noiseSeed);
        }

        var c1 = (ShapeColour)_random.Next(0, 3);
        var c2 = (ShapeColour)_random.Next(0, 2);
        if (c2 >= c1)
        {
            c2++; // a different colour, uniform over the other three
        }

        if (c2 < c1)
        {
            (c1, c2) = (c2, c1);
        }

        var (k1, z1, s1) = NextLook();
        var (k2, z2, s2) = NextLook();
        for (int attempt = 0; ; attempt++)
        {
            int x1 = _random.Next(s1 + 1, _width - 2 - s1), y1 = _random.Next(s1 + 1, _height - 2 - s1);
            int x2 = _random.Next(s2 + 1, _width - 2 - s2), y2 = _random.Next(s2 + 1, _height - 2 - s2);
            int dx = Math.Abs(x2 - x1), dy = Math.Abs(y2 - y1);
            bool apart = dx >= s1 + s2 + 3 || dy >= s1 + s2 + 3;
            bool dominant = dy >= 2 * dx || dx >= 2 * dy;
            if (apart && dominant)
            {
                return new Scene(_width, _height, [new SceneShape(k1, c1, z1, x1, y1, s1), new SceneShape(k2, c2, z2, x2, y2, s2)], noiseSeed);
            }

            if (attempt > 100_000)
            {
                throw new InvalidOperationException("scene placement did not converge (canvas too small?)");
            }
        }
    }

    private SceneShape NextSingle()
    {
        var colour = (ShapeColour)_random.Next(0, 3);
        var (kind, size, s) = NextLook();
        var position = (ScenePosition)_random.Next(0, 4);
        int lo = (int)Math.Round(_width * 20.0 / 64), hi = _width - 1 - lo; // 20 and 43 at 64 px
        int mLo = (int)Math.Round(_width * 24.0 / 64), mHi = _width - mLo;  // 24 and 40
        int cLo = (int)Math.Round(_width * 28.0 / 64), cHi = _width - cLo;  // 28 and 36
        int vlo = (int)Math.Round(_height * 20.0 / 64), vhi = _height - 1 - vlo;
        int vmLo = (int)Math.Round(_height * 24.0 / 64), vmHi = _height - vmLo;
        int vcLo = (int)Math.Round(_height * 28.0 / 64), vcHi = _height - vcLo;
        (int x, int y) = position switch
        {
            ScenePosition.Left => (_random.Next(s + 1, lo), _random.Next(vmLo, vmHi)),
            ScenePosition.Right => (_random.Next(hi + 1, _width - 2 - s), _random.Next(vmLo, vmHi)),
            ScenePosition.Top => (_random.Next(mLo, mHi), _random.Next(s + 1, vlo)),
            ScenePosition.Bottom => (_random.Next(mLo, mHi), _random.Next(vhi + 1, _height - 2 - s)),
            _ => (_random.Next(cLo, cHi), _random.Next(vcLo, vcHi)),
        };
        return new SceneShape(kind, colour, size, x, y, s);
    }

    private (ShapeKind Kind, ShapeSize Size, int HalfExtent) NextLook()
    {
        var kind = (ShapeKind)_random.Next(0, 2);
        var size = (ShapeSize)_random.Next(0, 1);
        int s = size == ShapeSize.Small ? _random.Next(SmallMin, SmallMax) : _random.Next(LargeMin, LargeMax);
        return (kind, size, s);
    }
}
