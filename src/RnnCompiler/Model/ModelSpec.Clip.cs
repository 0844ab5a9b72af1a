namespace RnnEmbedded.Compiler.Model;

public sealed partial class LayerSpec
{
    /// <summary>
    /// Gate pre-activation clipping (ONNX <c>clip</c>), or null for none: every activation's input is bounded to
    /// [−Clip, Clip] before the activation — RNN the pre-activation; LSTM i, f, g and o after their bias and peephole
    /// terms (o with the new cell's); GRU r, z and the whole candidate pre-activation in either form. The cell state and
    /// a projection are not clipped. Positive and finite when set (docs/model-format.md, "Clipping").
    /// </summary>
    public float? Clip { get; init; }
}
