namespace SceneKit;

public enum ShapeKind
{
    Circle,
    Square,
    Triangle,
}

/// <summary>Shape colours, in the order captions mention them (a red shape is always named before a blue one).</summary>
public enum ShapeColour
{
    Red,
    Green,
    Blue,
    Yellow,
}

public enum ShapeSize
{
    Small,
    Large,
}

/// <summary>Where a lone shape sits (one-shape scenes).</summary>
public enum ScenePosition
{
    Left,
    Right,
    Top,
    Bottom,
    Centre,
}

/// <summary>
/// One shape. (CenterX, CenterY) in pixels, y down; HalfExtent = the circle's radius, half the square's side, half
/// the triangle's base and height (an upward isosceles triangle, apex at the top centre of its bounding box).
/// </summary>
public readonly record struct SceneShape(ShapeKind Kind, ShapeColour Colour, ShapeSize Size, int CenterX, int CenterY, int HalfExtent);

/// <summary>A scene: one or two shapes of different colours on a light, slightly noisy background.</summary>
public sealed class Scene
{
    public Scene(int width, int height, IReadOnlyList<SceneShape> shapes, ulong noiseSeed)
    {
        if (shapes.Count is < 1 or > 2)
        {
            throw new ArgumentException($"a scene has 1 or 2 shapes, not {shapes.Count}.", nameof(shapes));
        }

        if (shapes.Count == 2 && shapes[0].Colour >= shapes[1].Colour)
        {
            throw new ArgumentException("the two shapes must have different colours, listed in caption order (Red, Green, Blue, Yellow).", nameof(shapes));
        }

        Width = width;
        Height = height;
        Shapes = shapes;
        NoiseSeed = noiseSeed;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>In caption order (colour order).</summary>
    public IReadOnlyList<SceneShape> Shapes { get; }

    /// <summary>Seeds the pixel noise and colour jitter of <see cref="SceneRenderer"/>.</summary>
    public ulong NoiseSeed { get; }

    /// <summary>The caption: a function of the image (see <see cref="Captions.Describe"/>).</summary>
    public string Caption => Captions.Describe(this);
}
