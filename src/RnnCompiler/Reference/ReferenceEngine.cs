using System;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Reference;

/// <summary>
/// The scalar oracle: every variant of <see cref="ModelSpec"/> computed the plainest way, one statement per
/// equation of docs/model-format.md's "Math", in float like PyTorch's CPU path. It allocates freely and is
/// slow on purpose; other engines (runtime kernels, generated code) are tested against it.
/// <para>
/// Stepwise use (<see cref="Step(int, float[])"/>, <see cref="Step(float[], float[])"/>,
/// <see cref="StepImage"/>) keeps the recurrent state between calls. Bidirectional models need the whole
/// sequence: use the static <see cref="Run(ModelSpec, int[])"/> / <see cref="Run(ModelSpec, float[][])"/>.
/// </para>
/// </summary>
public sealed partial class ReferenceEngine
{
    private readonly ModelSpec _spec;
    private readonly float[][] _h; // per layer: (StateSize,) h of the forward direction
    private readonly float[][] _c; // per layer: (H,) LSTM cell state, empty for RNN/GRU

    public ReferenceEngine(ModelSpec spec)
    {
        _spec = spec ?? throw new ArgumentNullException(nameof(spec));
        if (spec.Layers is null || spec.Layers.Count == 0)
        {
            throw new ArgumentException("The model has no recurrent layer.", nameof(spec));
        }

        _h = new float[spec.Layers.Count][];
        _c = new float[spec.Layers.Count][];
        for (int k = 0; k < spec.Layers.Count; k++)
        {
            LayerSpec layer = spec.Layers[k];
            _h[k] = new float[layer.StateSize];
            _c[k] = new float[layer.Cell == CellKind.Lstm ? layer.HiddenSize : 0];
        }
    }

    public ModelSpec Spec => _spec;

    /// <summary>Floats written per step: head logits, or the last layer's output without a head.</summary>
    public int OutputSize => _spec.OutputSize;

    /// <summary>Length of <see cref="GetState"/>: Σ over layers of StateSize (+ H for LSTM).</summary>
    public int StateLength
    {
        get
        {
            int n = 0;
            for (int k = 0; k < _h.Length; k++)
            {
                n += _h[k].Length + _c[k].Length;
            }

            return n;
        }
    }

    /// <summary>Back to the zero state.</summary>
    public void Reset()
    {
        for (int k = 0; k < _h.Length; k++)
        {
            Array.Clear(_h[k], 0, _h[k].Length);
            Array.Clear(_c[k], 0, _c[k].Length);
        }
    }

    /// <summary>The recurrent state, layer by layer: h (StateSize) then, for LSTM, c (H).</summary>
    public float[] GetState()
    {
        RequireUnidirectional();
        var state = new float[StateLength];
        int at = 0;
        for (int k = 0; k < _h.Length; k++)
        {
            Array.Copy(_h[k], 0, state, at, _h[k].Length);
            at += _h[k].Length;
            Array.Copy(_c[k], 0, state, at, _c[k].Length);
            at += _c[k].Length;
        }

        return state;
    }

    /// <summary>
    /// Copies layer <paramref name="layer"/>'s current state: its h (StateSize,) into <paramref name="h"/> and, for
    /// LSTM, its cell state c (H,) into <paramref name="c"/>, which must be empty for RNN and GRU layers.
    /// The per-layer view of <see cref="GetState"/>, without allocating (used by the activation viewer).
    /// </summary>
    public void CopyLayerState(int layer, float[] h, float[] c)
    {
        RequireUnidirectional();
        if ((uint)layer >= (uint)_h.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"Layer {layer} is outside [0, {_h.Length}).");
        }

        if (h is null)
        {
            throw new ArgumentNullException(nameof(h));
        }

        if (c is null)
        {
            throw new ArgumentNullException(nameof(c));
        }

        if (h.Length != _h[layer].Length)
        {
            throw new ArgumentException($"The h buffer has {h.Length} floats; layer {layer}'s h has {_h[layer].Length}.", nameof(h));
        }

        if (c.Length != _c[layer].Length)
        {
            throw new ArgumentException($"The c buffer has {c.Length} floats; layer {layer}'s cell state has {_c[layer].Length} (0 unless LSTM).", nameof(c));
        }

        Array.Copy(_h[layer], h, h.Length);
        Array.Copy(_c[layer], c, c.Length);
    }

    /// <summary>Restores a state taken by <see cref="GetState"/>.</summary>
    public void SetState(float[] state)
    {
        RequireUnidirectional();
        if (state is null)
        {
            throw new ArgumentNullException(nameof(state));
        }

        if (state.Length != StateLength)
        {
            throw new ArgumentException($"The state has {state.Length} floats; this model's state has {StateLength}.", nameof(state));
        }

        int at = 0;
        for (int k = 0; k < _h.Length; k++)
        {
            Array.Copy(state, at, _h[k], 0, _h[k].Length);
            at += _h[k].Length;
            Array.Copy(state, at, _c[k], 0, _c[k].Length);
            at += _c[k].Length;
        }
    }

    /// <summary>One step on token <paramref name="token"/> in [0, InputSize) (embedding or one-hot models).</summary>
    public void Step(int token, float[] output)
    {
        RequireUnidirectional();
        if (!_spec.HasTokenInput)
        {
            throw new InvalidOperationException("The model takes dense input; call Step(float[] input, float[] output).");
        }

        CheckToken(_spec, token, nameof(token));
        CheckOutput(output);
        StepLayers(TokenInput(_spec, token), output);
    }

    /// <summary>One step on a dense input of InputSize floats (dense-input models).</summary>
    public void Step(float[] input, float[] output)
    {
        RequireUnidirectional();
        if (_spec.HasTokenInput)
        {
            throw new InvalidOperationException("The model takes token input; call Step(int token, float[] output).");
        }

        CheckDense(_spec, input, nameof(input));
        CheckOutput(output);
        StepLayers(ApplyInputLayers(_spec, input), output);
    }

    /// <summary>One step on an image feature vector (caption decoders): x = W_img f + b_img feeds layer 0.</summary>
    public void StepImage(float[] features, float[] output)
    {
        RequireUnidirectional();
        DenseSpec projection = _spec.ImageProjection
            ?? throw new InvalidOperationException("The model has no image projection (only caption decoders do).");
        if (features is null)
        {
            throw new ArgumentNullException(nameof(features));
        }

        if (features.Length != projection.InputSize)
        {
            throw new ArgumentException($"The image feature vector has {features.Length} floats; the projection expects {projection.InputSize}.", nameof(features));
        }

        CheckOutput(output);
        StepLayers(Dense(projection, features), output);
    }

    /// <summary>Whole token sequence from the zero state; result[t] is step t's output. Valid for every model with token input.</summary>
    public static float[][] Run(ModelSpec spec, int[] tokens)
    {
        if (spec is null)
        {
            throw new ArgumentNullException(nameof(spec));
        }

        if (tokens is null)
        {
            throw new ArgumentNullException(nameof(tokens));
        }

        if (!spec.HasTokenInput)
        {
            throw new ArgumentException("The model takes dense input; call Run(spec, float[][] inputs).", nameof(spec));
        }

        var xs = new float[tokens.Length][];
        for (int t = 0; t < tokens.Length; t++)
        {
            CheckToken(spec, tokens[t], nameof(tokens));
            xs[t] = TokenInput(spec, tokens[t]);
        }

        return RunSequence(spec, xs);
    }

    /// <summary>Whole dense sequence from the zero state; inputs[t] has InputSize floats; result[t] is step t's output.</summary>
    public static float[][] Run(ModelSpec spec, float[][] inputs)
    {
        if (spec is null)
        {
            throw new ArgumentNullException(nameof(spec));
        }

        if (inputs is null)
        {
            throw new ArgumentNullException(nameof(inputs));
        }

        if (spec.HasTokenInput)
        {
            throw new ArgumentException("The model takes token input; call Run(spec, int[] tokens).", nameof(spec));
        }

        var xs = new float[inputs.Length][];
        for (int t = 0; t < inputs.Length; t++)
        {
            CheckDense(spec, inputs[t], nameof(inputs));
            xs[t] = ApplyInputLayers(spec, inputs[t]);
        }

        return RunSequence(spec, xs);
    }

    /// <summary>
    /// Caption decoder over a whole sequence from the zero state: step 0 consumes the projected image
    /// features, steps 1..T consume <paramref name="tokens"/> (normally &lt;start&gt; and the words so far).
    /// </summary>
    public static float[][] RunCaption(ModelSpec spec, float[] features, int[] tokens)
    {
        if (spec is null)
        {
            throw new ArgumentNullException(nameof(spec));
        }

        DenseSpec projection = spec.ImageProjection
            ?? throw new ArgumentException("The model has no image projection (only caption decoders do).", nameof(spec));
        if (features is null)
        {
            throw new ArgumentNullException(nameof(features));
        }

        if (tokens is null)
        {
            throw new ArgumentNullException(nameof(tokens));
        }

        if (features.Length != projection.InputSize)
        {
            throw new ArgumentException($"The image feature vector has {features.Length} floats; the projection expects {projection.InputSize}.", nameof(features));
        }

        var xs = new float[tokens.Length + 1][];
        xs[0] = Dense(projection, features);
        for (int t = 0; t < tokens.Length; t++)
        {
            CheckToken(spec, tokens[t], nameof(tokens));
            xs[t + 1] = TokenInput(spec, tokens[t]);
        }

        return RunSequence(spec, xs);
    }

    // ------------------------------------------------------------------ model level

    /// <summary>Advances every layer by one step on layer 0's input x and writes the model output.</summary>
    private void StepLayers(float[] x, float[] output)
    {
        for (int k = 0; k < _spec.Layers.Count; k++)
        {
            LayerSpec layer = _spec.Layers[k];
            CellStep(layer, layer.Forward, x, _h[k], _c[k]);
            x = (float[])_h[k].Clone(); // (StateSize,) next layer's input
        }

        float[] y = ApplyHead(_spec, x); // (OutputSize,)
        Array.Copy(y, output, y.Length);
    }

    /// <summary>All layers over a whole sequence; xs[t] is layer 0's input at step t.</summary>
    private static float[][] RunSequence(ModelSpec spec, float[][] xs)
    {
        int steps = xs.Length;
        foreach (LayerSpec layer in spec.Layers)
        {
            var forward = new float[steps][];
            float[] h = new float[layer.StateSize];                                  // (StateSize,)
            float[] c = new float[layer.Cell == CellKind.Lstm ? layer.HiddenSize : 0]; // (H,)
            for (int i = 0; i < steps; i++)
            {
                int t = layer.Reverse ? steps - 1 - i : i; // a reverse-only layer reads the sequence from the end
                CellStep(layer, layer.Forward, xs[t], h, c);
                forward[t] = (float[])h.Clone();
            }

            var ys = new float[steps][];
            if (layer.Backward is null)
            {
                ys = forward;
            }
            else
            {
                // The reverse direction reads the sequence from the end; step t's output is [h_fwd(t), h_bwd(t)].
                h = new float[layer.StateSize];
                c = new float[layer.Cell == CellKind.Lstm ? layer.HiddenSize : 0];
                for (int t = steps - 1; t >= 0; t--)
                {
                    CellStep(layer, layer.Backward, xs[t], h, c);
                    ys[t] = new float[2 * layer.StateSize]; // (2·StateSize,)
                    Array.Copy(forward[t], 0, ys[t], 0, layer.StateSize);
                    Array.Copy(h, 0, ys[t], layer.StateSize, layer.StateSize);
                }
            }

            xs = ys;
        }

        var outputs = new float[steps][];
        for (int t = 0; t < steps; t++)
        {
            outputs[t] = ApplyHead(spec, xs[t]);
        }

        return outputs;
    }

    /// <summary>Layer 0's input for a token: the embedding row (E,) or a one-hot vector (V,).</summary>
    private static float[] TokenInput(ModelSpec spec, int token)
    {
        if (spec.InputKind == InputKind.Embedding)
        {
            Matrix embedding = spec.Embedding!; // (V, E)
            var x = new float[embedding.Cols];  // (E,)
            Array.Copy(embedding.Data, token * embedding.Cols, x, 0, embedding.Cols);
            return x;
        }

        var oneHot = new float[spec.InputSize]; // (V,)
        oneHot[token] = 1f;
        return oneHot;
    }

    // ------------------------------------------------------------------ cells

    /// <summary>One step of one direction of one layer: updates h (StateSize,) and, for LSTM, c (H,) in place.</summary>
    private static void CellStep(LayerSpec layer, DirectionWeights w, float[] x, float[] h, float[] c)
    {
        switch (layer.Cell)
        {
            case CellKind.Rnn:
                RnnStep(layer, w, x, h);
                break;
            case CellKind.Gru:
                GruStep(layer, w, x, h);
                break;
            default:
                LstmStep(layer, w, x, h, c);
                break;
        }
    }

    /// <summary>RNN: h' = act(W_ih x + b_ih + W_hh h + b_hh), act ∈ {tanh, relu, sigmoid}.</summary>
    private static void RnnStep(LayerSpec layer, DirectionWeights w, float[] x, float[] h)
    {
        int hidden = layer.HiddenSize;
        float[] gi = Affine(w.W_ih, x, w.b_ih); // (H,) W_ih x + b_ih
        float[] gh = Affine(w.W_hh, h, w.b_hh); // (H,) W_hh h + b_hh
        for (int j = 0; j < hidden; j++)
        {
            h[j] = Activate(layer.Activation, Clip(layer, gi[j] + gh[j]));
        }
    }

    /// <summary>
    /// LSTM, PyTorch gate order i, f, g, o (CIFG: i, g, o with f = 1 − i):
    /// i = σ(.. + p_i⊙c), f = σ(.. + p_f⊙c), g = tanh(..), c' = f⊙c + i⊙g, o = σ(.. + p_o⊙c'),
    /// h' = o⊙tanh(c'), then h' = W_hr h' with a projection. Peepholes follow ONNX: i and f see the old
    /// cell, o sees the new one.
    /// </summary>
    private static void LstmStep(LayerSpec layer, DirectionWeights w, float[] x, float[] h, float[] c)
    {
        int hidden = layer.HiddenSize;
        bool cifg = layer.Cifg;
        int iBlock = 0;
        int fBlock = 1;                 // unused with CIFG
        int gBlock = cifg ? 1 : 2;
        int oBlock = cifg ? 2 : 3;
        Matrix? p = w.Peepholes;        // (3, H) rows p_i, p_f, p_o, or null

        float[] gi = Affine(w.W_ih, x, w.b_ih); // (G·H,) W_ih x + b_ih
        float[] gh = Affine(w.W_hh, h, w.b_hh); // (G·H,) W_hh h + b_hh
        var m = new float[hidden];              // (H,) o ⊙ tanh(c'), before any projection
        for (int j = 0; j < hidden; j++)
        {
            float cOld = c[j];
            float i = Sigmoid(Clip(layer, gi[iBlock * hidden + j] + gh[iBlock * hidden + j] + (p is null ? 0f : p[0, j] * cOld)));
            float f = cifg ? 1f - i : Sigmoid(Clip(layer, gi[fBlock * hidden + j] + gh[fBlock * hidden + j] + (p is null ? 0f : p[1, j] * cOld)));
            float g = Tanh(Clip(layer, gi[gBlock * hidden + j] + gh[gBlock * hidden + j]));
            float cNew = f * cOld + i * g;
            float o = Sigmoid(Clip(layer, gi[oBlock * hidden + j] + gh[oBlock * hidden + j] + (p is null ? 0f : p[2, j] * cNew)));
            c[j] = cNew;
            m[j] = o * Tanh(cNew);
        }

        float[] hNew = w.W_hr is null ? m : Affine(w.W_hr, m, null); // (StateSize,) W_hr m with a projection
        Array.Copy(hNew, h, hNew.Length);
    }

    /// <summary>
    /// GRU, PyTorch gate order r, z, n: r = σ(..), z = σ(..), h' = (1 − z)⊙n + z⊙h, with
    /// reset after: n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn)),
    /// reset before: n = tanh(W_in x + b_in + W_hn (r⊙h) + b_hn).
    /// </summary>
    private static void GruStep(LayerSpec layer, DirectionWeights w, float[] x, float[] h)
    {
        int hidden = layer.HiddenSize;
        float[] gi = Affine(w.W_ih, x, w.b_ih); // (3H,) W_ih x + b_ih, blocks r, z, n
        float[] gh = Affine(w.W_hh, h, w.b_hh); // (3H,) W_hh h + b_hh, blocks r, z, n
        var r = new float[hidden];              // (H,)
        var z = new float[hidden];              // (H,)
        for (int j = 0; j < hidden; j++)
        {
            r[j] = Sigmoid(Clip(layer, gi[j] + gh[j]));
            z[j] = Sigmoid(Clip(layer, gi[hidden + j] + gh[hidden + j]));
        }

        var hn = new float[hidden]; // (H,) the recurrent part of n's pre-activation
        if (layer.GruForm == GruForm.ResetAfter)
        {
            for (int j = 0; j < hidden; j++)
            {
                hn[j] = r[j] * gh[2 * hidden + j]; // r ⊙ (W_hn h + b_hn)
            }
        }
        else
        {
            var rh = new float[hidden]; // (H,) r ⊙ h
            for (int j = 0; j < hidden; j++)
            {
                rh[j] = r[j] * h[j];
            }

            for (int j = 0; j < hidden; j++)
            {
                hn[j] = RowDot(w.W_hh, 2 * hidden + j, rh) + (w.b_hh is null ? 0f : w.b_hh[2 * hidden + j]); // W_hn (r⊙h) + b_hn
            }
        }

        for (int j = 0; j < hidden; j++)
        {
            float n = Tanh(Clip(layer, gi[2 * hidden + j] + hn[j]));
            h[j] = (1f - z[j]) * n + z[j] * h[j];
        }
    }

    // ------------------------------------------------------------------ math

    /// <summary>y = W x + b: W (rows, cols) @ x (cols,) [+ b (rows,)] -> y (rows,).</summary>
    public static float[] Affine(Matrix w, float[] x, float[]? b)
    {
        if (x.Length != w.Cols)
        {
            throw new ArgumentException($"Vector length {x.Length} does not match the matrix's {w.Cols} columns.", nameof(x));
        }

        var y = new float[w.Rows];
        for (int r = 0; r < w.Rows; r++)
        {
            y[r] = RowDot(w, r, x) + (b is null ? 0f : b[r]);
        }

        return y;
    }

    /// <summary>Dense layer: act(W x + b), act being the layer's <see cref="DenseSpec.Activation"/> (identity by default).</summary>
    public static float[] Dense(DenseSpec dense, float[] x) => Activate(dense.Activation, Affine(dense.W, x, dense.b));

    /// <summary>Σ_j W[r, j] x[j], accumulated in float from j = 0.</summary>
    private static float RowDot(Matrix w, int row, float[] x)
    {
        float sum = 0f;
        int offset = row * w.Cols;
        for (int j = 0; j < w.Cols; j++)
        {
            sum += w.Data[offset + j] * x[j];
        }

        return sum;
    }

    private static float Activate(ActivationKind activation, float x) => activation switch
    {
        ActivationKind.Relu => Relu(x),
        ActivationKind.Sigmoid => Sigmoid(x),
        _ => Tanh(x),
    };

    /// <summary>σ(x) = 1 / (1 + e^−x), never exponentiating a large positive number.</summary>
    public static float Sigmoid(float x)
    {
        if (x >= 0f)
        {
            float e = (float)Math.Exp(-x); // e^−x ≤ 1
            return 1f / (1f + e);
        }
        else
        {
            float e = (float)Math.Exp(x);  // e^x < 1
            return e / (1f + e);
        }
    }

    public static float Tanh(float x) => (float)Math.Tanh(x);

    public static float Relu(float x) => x > 0f ? x : 0f;

    /// <summary>probs = softmax(logits): subtract the max, exponentiate, normalize. The arrays may be the same.</summary>
    public static void Softmax(float[] logits, float[] probs)
    {
        CheckSoftmaxArguments(logits, probs);
        float max = Max(logits);
        float sum = 0f;
        for (int k = 0; k < logits.Length; k++)
        {
            probs[k] = (float)Math.Exp(logits[k] - max); // ≤ 1
            sum += probs[k];
        }

        for (int k = 0; k < logits.Length; k++)
        {
            probs[k] /= sum;
        }
    }

    /// <summary>logProbs = log softmax(logits) = x − max − log Σ e^(x − max). The arrays may be the same.</summary>
    public static void LogSoftmax(float[] logits, float[] logProbs)
    {
        CheckSoftmaxArguments(logits, logProbs);
        float max = Max(logits);
        float sum = 0f;
        for (int k = 0; k < logits.Length; k++)
        {
            sum += (float)Math.Exp(logits[k] - max);
        }

        float logSum = (float)Math.Log(sum);
        for (int k = 0; k < logits.Length; k++)
        {
            logProbs[k] = logits[k] - max - logSum;
        }
    }

    private static float Max(float[] values)
    {
        float max = values[0];
        for (int k = 1; k < values.Length; k++)
        {
            max = values[k] > max ? values[k] : max;
        }

        return max;
    }

    private static void CheckSoftmaxArguments(float[] logits, float[] result)
    {
        if (logits is null)
        {
            throw new ArgumentNullException(nameof(logits));
        }

        if (result is null)
        {
            throw new ArgumentNullException(nameof(result));
        }

        if (logits.Length == 0)
        {
            throw new ArgumentException("Softmax of an empty vector is undefined.", nameof(logits));
        }

        if (result.Length != logits.Length)
        {
            throw new ArgumentException($"The result has {result.Length} floats; the logits have {logits.Length}.", nameof(result));
        }
    }

    // ------------------------------------------------------------------ argument checks

    private void RequireUnidirectional()
    {
        if (_spec.RunOnly)
        {
            throw new InvalidOperationException($"The model is {(_spec.Bidirectional ? "bidirectional" : "reverse")}: it needs the whole sequence. Use ReferenceEngine.Run(spec, ...).");
        }
    }

    private void CheckOutput(float[] output)
    {
        if (output is null)
        {
            throw new ArgumentNullException(nameof(output));
        }

        if (output.Length != _spec.OutputSize)
        {
            throw new ArgumentException($"The output buffer has {output.Length} floats; the model writes {_spec.OutputSize}.", nameof(output));
        }
    }

    private static void CheckToken(ModelSpec spec, int token, string argument)
    {
        if ((uint)token >= (uint)spec.InputSize)
        {
            throw new ArgumentOutOfRangeException(argument, token, $"Token {token} is outside the vocabulary [0, {spec.InputSize}).");
        }
    }

    private static void CheckDense(ModelSpec spec, float[]? input, string argument)
    {
        if (input is null)
        {
            throw new ArgumentNullException(argument);
        }

        if (input.Length != spec.InputSize)
        {
            throw new ArgumentException($"A dense input has {input.Length} floats; the model takes {spec.InputSize} per step.", argument);
        }
    }
}
