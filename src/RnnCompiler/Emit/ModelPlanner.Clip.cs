using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Emit;

// Gate pre-activation clipping (LayerSpec.Clip; docs/model-format.md, "Clipping"): a clipped layer's pointwise step
// calls the runtime's GateClip kernels (a static GateClip per layer and direction), which take the same arguments as
// CellKernels / Activations.
public static partial class ModelPlanner
{
    /// <summary>
    /// The clipped kernel for the layer, e.g. <c>L0_Clip.Lstm</c> (the writer declares <c>{prefix}_Clip</c>, a
    /// <c>GateClip</c> of the bound), or null when the layer does not clip.
    /// </summary>
    private static string? ClipKernel(LayerSpec layer, CellVariant variant, string prefix, bool combine = false)
    {
        if (layer.Clip is null)
        {
            return null;
        }

        string method = combine ? "GruCombine" : variant switch
        {
            CellVariant.Rnn => layer.Activation switch
            {
                ActivationKind.Relu => "Relu",
                ActivationKind.Sigmoid => "Sigmoid",
                _ => "Tanh",
            },
            CellVariant.Lstm => "Lstm",
            CellVariant.LstmCifg => "LstmCifg",
            CellVariant.LstmPeephole => "LstmPeephole",
            CellVariant.LstmCifgPeephole => "LstmCifgPeephole",
            CellVariant.GruResetAfter => "GruResetAfter",
            _ => "GruResetBeforeGates",
        };
        return prefix + "_Clip." + method;
    }
}
