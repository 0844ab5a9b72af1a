using System.Globalization;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Emit;

// Gate pre-activation clipping (LayerSpec.Clip; docs/model-format.md, "Clipping"): a clipped layer's pointwise step
// calls the runtime's GateClip kernels, which take the same arguments as CellKernels / Activations.
public static partial class ModelPlanner
{
    /// <summary>The clipped kernel for the layer, e.g. <c>new GateClip(3f).Lstm</c>, or null when it does not clip.</summary>
    private static string? ClipKernel(LayerSpec layer, CellVariant variant, bool combine = false)
    {
        if (layer.Clip is not float bound)
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
        return "new GateClip(" + bound.ToString("R", CultureInfo.InvariantCulture) + "f)." + method;
    }
}
