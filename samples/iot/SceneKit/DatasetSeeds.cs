namespace SceneKit;

/// <summary>The generator seeds of the caption sample's scene sets. Held-out (test) scenes never feed training.</summary>
public static class DatasetSeeds
{
    public const ulong Train = 1;

    public const ulong Validation = 2;

    /// <summary>Held-out scenes: `CaptionDecoder --evaluate` regenerates them from this seed.</summary>
    public const ulong Test = 3;
}
