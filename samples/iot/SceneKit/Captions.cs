namespace SceneKit;

/// <summary>The caption grammar. Every caption is a function of the image: nothing in it is hidden from the pixels.</summary>
/// <remarks>
/// <para>One shape: <c>a {size} {colour} {shape} {where}</c>, where is "on the left" (centre x ≤ 20 at 64 px),
/// "on the right" (x ≥ 44), else "at the top" (y ≤ 20), "at the bottom" (y ≥ 44), else "in the centre";
/// thresholds scale with the canvas as in <see cref="SceneGenerator"/>.</para>
/// <para>Two shapes: <c>a {size} {colour} {shape} {relation} a {size} {colour} {shape}</c>, the red shape before the
/// green, green before blue, blue before yellow; relation from the centres of the first (1) and second (2) shape:
/// |dy| ≥ |dx| → "above" (y1 &lt; y2) or "below"; otherwise "to the left of" (x1 &lt; x2) or "to the right of".</para>
/// </remarks>
public static class Captions
{
    public static string Describe(Scene scene)
    {
        ArgumentNullException.ThrowIfNull(scene);
        SceneShape a = scene.Shapes[0];
        if (scene.Shapes.Count == 1)
        {
            return $"a {Phrase(a)} {Where(a, scene.Width, scene.Height)}";
        }

        SceneShape b = scene.Shapes[1];
        int dx = b.CenterX - a.CenterX, dy = b.CenterY - a.CenterY;
        string relation = Math.Abs(dy) >= Math.Abs(dx)
            ? (dy > 0 ? "above" : "below")
            : (dx > 0 ? "to the left of" : "to the right of");
        return $"a {Phrase(a)} {relation} a {Phrase(b)}";
    }

    public static string Word(ShapeColour colour) => colour switch
    {
        ShapeColour.Red => "red",
        ShapeColour.Green => "green",
        ShapeColour.Blue => "blue",
        _ => "yellow",
    };

    public static string Word(ShapeKind kind) => kind switch
    {
        ShapeKind.Circle => "circle",
        ShapeKind.Square => "square",
        _ => "triangle",
    };

    public static string Word(ShapeSize size) => size == ShapeSize.Small ? "small" : "large";

    /// <summary>Splits a caption into lower-case words (whitespace-separated), as BLEU scoring and the datasets use.</summary>
    public static string[] Tokenize(string caption) =>
        caption.ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    private static string Phrase(SceneShape s) => $"{Word(s.Size)} {Word(s.Colour)} {Word(s.Kind)}";

    private static string Where(SceneShape s, int width, int height)
    {
        int left = (int)Math.Round(width * 20.0 / 64), right = width - 1 - left;
        int top = (int)Math.Round(height * 20.0 / 64), bottom = height - 1 - top;
        if (s.CenterX <= left)
        {
            return "on the left";
        }

        if (s.CenterX > right)
        {
            return "on the right";
        }

        if (s.CenterY <= top)
        {
            return "at the top";
        }

        return s.CenterY > bottom ? "at the bottom" : "in the centre";
    }
}
