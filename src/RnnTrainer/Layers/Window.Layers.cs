using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Trainer;

// Layer stacks in a training window: the input layers between the dense input rows and recurrent layer 0, and the
// head's hidden layers between the last recurrent layer and the head's output layer (docs/training.md, "Layer stacks").
public sealed partial class Window
{
    private readonly DenseStack? _inputStack, _headStack;
    private readonly float[] _denseInput; // (N, F) the dense input rows when input layers transform them, else empty

    private DenseStack? CreateStack(Parameter[] w, Parameter[] b, IReadOnlyList<DenseLayerShape>? layers)
    {
        if (w.Length == 0)
        {
            return null;
        }

        var activations = new DenseActivation[w.Length];
        for (int i = 0; i < w.Length; i++)
        {
            activations[i] = layers![i].Activation;
        }

        return new DenseStack(w, b, activations, _n, _workers, _gemm);
    }

    // Layer 0's input (N, In) from the gathered dense rows through the input layers.
    private void InputLayersForward(float[] x0)
    {
        if (_inputStack is null)
        {
            return;
        }

        _inputStack.Forward(_denseInput);
        Array.Copy(_inputStack.Output, x0, _n * _inputStack.OutputWidth);
    }

    // The input layers' gradients from d loss / d (layer 0's input) in the shared DX.
    private void InputLayersBackward()
    {
        if (_inputStack is null)
        {
            return;
        }

        Array.Copy(_pass.Shared.DX, _inputStack.OutputGradient, _n * _inputStack.OutputWidth);
        _inputStack.Backward(_denseInput, null);
    }

    // What the head's output layer reads: the last head layer's outputs, else the last recurrent layer's h.
    private (float[] Rows, int Width) HeadInput() =>
        _headStack is null ? (_pass.Layers[^1].HOut, _h) : (_headStack.Output, _headStack.OutputWidth);
}
