using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Trainer;

/// <summary>
/// A stack of dense layers applied to every row of a training window (row r = t·B + b): the input layers before
/// recurrent layer 0, or the head's hidden layers after the last one. Layer i computes
/// <c>Y_i (N, O_i) = act_i(Y_{i−1} · W_iᵀ + b_i)</c>, with Y_{−1} the stack's input; the layers act on each step
/// independently, so backpropagation through time passes through them row by row. Threads split the rows of the
/// forward products and of d loss / d input, and the columns of the weight gradients (fixed summation orders: the
/// results do not depend on the thread count). Buffers and delegates are created once: a pass allocates nothing.
/// </summary>
internal sealed class DenseStack
{
    private readonly Parameter[] _w, _b;
    private readonly DenseActivation[] _activations;
    private readonly float[][] _out; // per layer (N, O_i): the activated outputs
    private readonly float[][] _grad; // per layer (N, O_i): d loss / d output, then d loss / d pre-activation in place
    private int _n;
    private readonly Workers _workers;
    private readonly Gemm _gemm;
    private readonly Action<int> _forward, _activationGradient, _products;
    private int _layer; // the layer the delegates work on
    private float[] _in = []; // its input (N, In)
    private float[]? _inGrad; // where d loss / d input goes (N, In), or null

    public DenseStack(Parameter[] weights, Parameter[] biases, DenseActivation[] activations, int rows, Workers workers, Gemm gemm)
    {
        _w = weights;
        _b = biases;
        _activations = activations;
        _n = rows;
        _workers = workers;
        _gemm = gemm;
        _out = new float[weights.Length][];
        _grad = new float[weights.Length][];
        for (int i = 0; i < weights.Length; i++)
        {
            _out[i] = new float[rows * weights[i].Rows];
            _grad[i] = new float[rows * weights[i].Rows];
        }

        _forward = ForwardPart;
        _activationGradient = ActivationGradientPart;
        _products = ProductsPart;
    }

    /// <summary>The passes run the first <paramref name="rows"/> rows of the buffers (at most the rows they were created with).</summary>
    public void SetRows(int rows)
    {
        if (rows > _out[0].Length / _w[0].Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "More rows than the stack's buffers hold.");
        }

        _n = rows;
    }

    /// <summary>(N, O) the last layer's outputs after <see cref="Forward"/>.</summary>
    public float[] Output => _out[^1];

    /// <summary>O, the last layer's width.</summary>
    public int OutputWidth => _w[^1].Rows;

    /// <summary>(N, O) d loss / d <see cref="Output"/>: the caller fills it before <see cref="Backward"/>.</summary>
    public float[] OutputGradient => _grad[^1];

    /// <summary>Every layer forward from <paramref name="input"/> (N, In of layer 0).</summary>
    public void Forward(float[] input)
    {
        for (int i = 0; i < _w.Length; i++)
        {
            _layer = i;
            _in = i == 0 ? input : _out[i - 1];
            _workers.Run(_forward);
        }
    }

    /// <summary>
    /// Backward from <see cref="OutputGradient"/> after <see cref="Forward"/> on the same <paramref name="input"/>: adds
    /// every layer's dW and db, and writes d loss / d input (N, In) into <paramref name="inputGradient"/> when given.
    /// </summary>
    public void Backward(float[] input, float[]? inputGradient)
    {
        for (int i = _w.Length - 1; i >= 0; i--)
        {
            _layer = i;
            _in = i == 0 ? input : _out[i - 1];
            _inGrad = i == 0 ? inputGradient : _grad[i - 1];
            _workers.Run(_activationGradient);
            _workers.Run(_products);
            RecurrentPass.ColumnSums(_grad[i], _n, _w[i].Rows, _b[i].Grad);
        }
    }

    // Rows [r0, r1): Y = act(X · Wᵀ + b).
    private void ForwardPart(int p)
    {
        Parameter w = _w[_layer];
        int o = w.Rows, inSize = w.Cols;
        float[] y = _out[_layer];
        float[] bias = _b[_layer].Value;
        (int r0, int r1) = Workers.Split(_n, _workers.Count, p, 8);
        for (int r = r0; r < r1; r++)
        {
            Array.Copy(bias, 0, y, r * o, o);
        }

        _gemm.Multiply(r1 - r0, inSize, _in, r0 * inSize, inSize, 1, w.Transposed!, 0, o, y, r0 * o, o, true, 0, o);
        Span<float> rows = new(y, r0 * o, (r1 - r0) * o);
        switch (_activations[_layer])
        {
            case DenseActivation.Relu:
                for (int i = 0; i < rows.Length; i++)
                {
                    rows[i] = MathF.Max(rows[i], 0f);
                }

                break;
            case DenseActivation.Tanh:
                for (int i = 0; i < rows.Length; i++)
                {
                    rows[i] = MathF.Tanh(rows[i]);
                }

                break;
            case DenseActivation.Sigmoid:
                for (int i = 0; i < rows.Length; i++)
                {
                    rows[i] = CellMath.Sigmoid(rows[i]);
                }

                break;
        }
    }

    // Rows [r0, r1): dZ = dY ⊙ act'(·), from the activated outputs Y: relu 1 where y > 0, tanh 1 − y², sigmoid y (1 − y).
    private void ActivationGradientPart(int p)
    {
        int o = _w[_layer].Rows;
        (int r0, int r1) = Workers.Split(_n, _workers.Count, p, 8);
        Span<float> d = new(_grad[_layer], r0 * o, (r1 - r0) * o);
        ReadOnlySpan<float> y = new(_out[_layer], r0 * o, (r1 - r0) * o);
        switch (_activations[_layer])
        {
            case DenseActivation.Relu:
                for (int i = 0; i < d.Length; i++)
                {
                    d[i] = y[i] > 0f ? d[i] : 0f;
                }

                break;
            case DenseActivation.Tanh:
                for (int i = 0; i < d.Length; i++)
                {
                    d[i] *= 1f - y[i] * y[i];
                }

                break;
            case DenseActivation.Sigmoid:
                for (int i = 0; i < d.Length; i++)
                {
                    d[i] *= y[i] * (1f - y[i]);
                }

                break;
        }
    }

    // dW (O, In) += dZᵀ · X over all N rows, split over the In columns; dX (N, In) = dZ · W, split over rows.
    private void ProductsPart(int p)
    {
        Parameter w = _w[_layer];
        int o = w.Rows, inSize = w.Cols;
        float[] dz = _grad[_layer];
        (int c0, int c1) = Workers.Split(inSize, _workers.Count, p, 16);
        _gemm.Multiply(o, _n, dz, 0, 1, o, _in, 0, inSize, w.Grad, 0, inSize, true, c0, c1);
        if (_inGrad is not null)
        {
            (int r0, int r1) = Workers.Split(_n, _workers.Count, p, 8);
            _gemm.Multiply(r1 - r0, o, dz, r0 * o, o, 1, w.Value, 0, inSize, _inGrad, r0 * inSize, inSize, false, 0, inSize);
        }
    }
}
