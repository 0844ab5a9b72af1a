// Shared source: compiled into RnnEmbedded.Runtime (namespace RnnEmbedded.Runtime.CompilerServices, for the kernels)
// and into RnnEmbedded.Compiler and the generator (namespace RnnEmbedded.Compiler.Model, for LayerSpec.Activation).
// The member names are also the names of the Activations kernels the generated code calls.
#if RNN_RUNTIME
using System.ComponentModel;

namespace RnnEmbedded.Runtime.CompilerServices;
#else
namespace RnnEmbedded.Compiler.Model;
#endif

/// <summary>Nonlinearity of a plain (Elman) RNN cell: h' = act(W_ih x + b_ih + W_hh h + b_hh).</summary>
#if RNN_RUNTIME
[EditorBrowsable(EditorBrowsableState.Never)]
#endif
public enum ActivationKind
{
    /// <summary>tanh (PyTorch nn.RNN's default nonlinearity).</summary>
    Tanh,

    /// <summary>max(x, 0) (PyTorch nonlinearity='relu').</summary>
    Relu,

    /// <summary>1 / (1 + e^−x) (ONNX RNN activations=["Sigmoid"]).</summary>
    Sigmoid,
}
