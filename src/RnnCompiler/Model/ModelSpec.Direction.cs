namespace RnnEmbedded.Compiler.Model;

/// <summary>Layer directions: forward, reverse-only and bidirectional layers (docs/model-format.md, "Layer directions").</summary>
public sealed partial class ModelSpec
{
    /// <summary>
    /// True when some layer reads the sequence backwards (a bidirectional or reverse-only layer): step t's output
    /// depends on later steps, so the model has no Step and no state, only a whole-sequence Run.
    /// </summary>
    public bool RunOnly
    {
        get
        {
            foreach (LayerSpec layer in Layers)
            {
                if (layer.Bidirectional || layer.Reverse)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>The layers' direction as docs and <c>rnn inspect</c> name it: forward, reverse or bidirectional.</summary>
    public static string DirectionName(LayerSpec layer) =>
        layer.Bidirectional ? "bidirectional" : layer.Reverse ? "reverse" : "forward";
}
