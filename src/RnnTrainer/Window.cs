using RnnEmbedded.Runtime;

namespace RnnEmbedded.Trainer;

/// <summary>
/// One training window: B parallel streams × T steps, and every buffer the forward and backward passes need.
/// Row r = t·B + b holds stream b at step t. The recurrent state (h, c per layer) is carried from one window to
/// the next (truncated BPTT: gradients stop at the window edge). A row whose <see cref="Reset"/> flag is set
/// starts from the zero state (a new sentence or caption), and no gradient crosses that edge.
/// The window owns the embedding (or image projection), the dropout between layers and the softmax head; the
/// recurrent layers run in a <see cref="RecurrentPass"/> specialised for the network's cell variant.
/// </summary>
public sealed partial class Window
{
    private readonly Network _net;
    private readonly Workers _workers;
    private readonly Gemm _gemm;
    private readonly RecurrentPass _pass;
    private readonly int _h;
    private readonly float[][] _drop; // per layer gap: the dropout mask (scale or 0), empty when off
    private readonly float[] _logits; // (N, V): logits, then probabilities, then d loss / d logits
    private readonly double[] _rowLoss; // (N,)
    private readonly Action<int> _head, _logitGradient, _headBackward;
    private float _scale;
    private int _n; // B · Steps: the rows the passes run
    private bool _lastSteps; // the active steps are the last Steps of MaxSteps (SetSteps)

    /// <summary>A window for <paramref name="net"/>; <paramref name="gemm"/> defaults to <see cref="Gemm.Widest"/>.</summary>
    public Window(Network net, int batch, int steps, Workers workers, Gemm? gemm = null)
    {
        if (batch < 1 || steps < 1)
        {
            throw new ArgumentException("A window needs at least one stream and one step.");
        }

        _net = net;
        _workers = workers;
        _gemm = gemm ?? Gemm.Widest;
        Batch = batch;
        Steps = steps;
        MaxSteps = steps;
        NetworkShape s = net.Shape;
        _h = s.Hidden;
        _n = batch * steps;
        _pass = RecurrentPass.Create(net, batch, steps, workers, _gemm);
        Inputs = new int[_n];
        Targets = new int[_n];
        _drop = new float[s.Layers][];
        for (int k = 0; k < s.Layers; k++)
        {
            _drop[k] = [];
        }

        _inputStack = CreateStack(net.InputW, net.InputB, s.InputLayers); // Layers/Window.Layers.cs
        _headStack = CreateStack(net.HeadLayerW, net.HeadLayerB, s.HeadLayers);
        _denseInput = _inputStack is null ? [] : new float[_n * s.DenseInputs];
        _logits = net.HasHead ? new float[_n * s.OutputCount] : [];
        _rowLoss = new double[_n];
        _head = HeadForward;
        _logitGradient = LogitGradient;
        _headBackward = HeadBackward;
    }

    public int Batch { get; }

    /// <summary>The steps the passes run: <see cref="MaxSteps"/> unless <see cref="SetSteps"/> chose fewer.</summary>
    public int Steps { get; private set; }

    /// <summary>The steps the window's buffers hold (its length when created).</summary>
    public int MaxSteps { get; }

    /// <summary>
    /// Runs the next passes over the first <paramref name="steps"/> steps of the buffers only (rows r = t·B + b, t &lt;
    /// steps; 1 ≤ steps ≤ <see cref="MaxSteps"/>): a seq2seq batch's windows fitted to its longest source and target.
    /// The dropout masks are the ones a window of <see cref="MaxSteps"/> steps draws for the same rows: the active
    /// steps stand for its last steps when <paramref name="lastSteps"/> (a right-aligned source) and for its first
    /// ones otherwise, and the draws of the steps left out are skipped, so a fitted window gives the results of the
    /// full one bit for bit (docs/training.md, "Sequence to sequence").
    /// </summary>
    public void SetSteps(int steps, bool lastSteps)
    {
        if (steps < 1 || steps > MaxSteps)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"A window of {MaxSteps} steps runs 1 to {MaxSteps} of them.");
        }

        Steps = steps;
        _lastSteps = lastSteps;
        _n = Batch * steps;
        _pass.SetSteps(steps);
        _inputStack?.SetRows(_n);
        _headStack?.SetRows(_n);
    }

    /// <summary>(N,) token ids; a negative id −1−i feeds the image features of sample i (caption task).</summary>
    public int[] Inputs { get; }

    /// <summary>(N,) target ids; −1 means no loss at that row.</summary>
    public int[] Targets { get; }

    /// <summary>(N,) true where the row starts from the zero state.</summary>
    public bool[] Reset => _pass.Shared.Reset;

    /// <summary>(samples, F) image features for negative input ids (caption task).</summary>
    public float[]? Features { get; set; }

    /// <summary>Regression (dense input): (rows, F) input values; row Inputs[r] feeds window row r.</summary>
    public float[]? InputValues { get; set; }

    /// <summary>Regression: (targets, O) target values; window row r is trained towards row Targets[r] (when ≥ 0).</summary>
    public float[]? TargetValues { get; set; }

    /// <summary>Dropout probability between recurrent layers during training.</summary>
    public float Dropout { get; set; }

    /// <summary>Row <paramref name="row"/>'s outputs after <see cref="Forward"/> (before <see cref="Backward"/>): the head's raw outputs for regression.</summary>
    public ReadOnlySpan<float> Outputs(int row) => Probabilities(row);

    /// <summary>Row <paramref name="row"/>'s output probabilities after <see cref="Forward"/> (before <see cref="Backward"/>).</summary>
    public ReadOnlySpan<float> Probabilities(int row)
    {
        int v = _net.Shape.OutputCount;
        return new ReadOnlySpan<float>(_logits, row * v, v);
    }

    /// <summary>Rows with a target in the last forward pass.</summary>
    public int TargetCount { get; private set; }

    /// <summary>Back to the zero state in every stream.</summary>
    public void ResetState()
    {
        foreach (LayerBuffers l in _pass.Layers)
        {
            Array.Clear(l.HState);
            Array.Clear(l.CState);
        }
    }

    /// <summary>Values in <see cref="GetState"/>.</summary>
    public int StateLength => StateOffset(_pass.Layers.Length);

    /// <summary>Copies the carried state into <paramref name="target"/>, a window of the same state layout (seq2seq hand-over).</summary>
    public void CopyStateTo(Window target)
    {
        if (target.StateLength != StateLength || target.Batch != Batch)
        {
            throw new ArgumentException("The target window's state has another layout.", nameof(target));
        }

        for (int k = 0; k < _pass.Layers.Length; k++)
        {
            LayerBuffers from = _pass.Layers[k], to = target._pass.Layers[k];
            Array.Copy(from.HState, to.HState, from.HState.Length);
            Array.Copy(from.CState, to.CState, from.CState.Length);
        }
    }

    // Where layer k's h starts in GetState's layout.
    private int StateOffset(int k)
    {
        int at = 0;
        for (int i = 0; i < k; i++)
        {
            at += _pass.Layers[i].HState.Length + _pass.Layers[i].CState.Length;
        }

        return at;
    }

    /// <summary>The carried state: per layer h (B·H) then c (B·H, LSTM only).</summary>
    public float[] GetState()
    {
        var all = new List<float>();
        foreach (LayerBuffers l in _pass.Layers)
        {
            all.AddRange(l.HState);
            all.AddRange(l.CState);
        }

        return all.ToArray();
    }

    public void SetState(float[] state)
    {
        int at = 0;
        foreach (LayerBuffers l in _pass.Layers)
        {
            if (at + l.HState.Length + l.CState.Length > state.Length)
            {
                throw new ArgumentException("The saved state is shorter than this network's state.");
            }

            Array.Copy(state, at, l.HState, 0, l.HState.Length);
            at += l.HState.Length;
            Array.Copy(state, at, l.CState, 0, l.CState.Length);
            at += l.CState.Length;
        }

        if (at != state.Length)
        {
            throw new ArgumentException("The saved state is longer than this network's state.");
        }
    }

    /// <summary>
    /// Forward pass over the window; returns the summed cross-entropy (nats) over rows with a target — for regression
    /// the summed squared error per row, each row's mean over its O outputs (so the mean over rows is the MSE).
    /// <paramref name="dropoutSeed"/> seeds the dropout masks (<see cref="Xoshiro128StarStar"/>); null means
    /// evaluation (no dropout).
    /// </summary>
    public double Forward(ulong? dropoutSeed)
    {
        var dropoutRng = new Xoshiro128StarStar(dropoutSeed ?? 0);
        NetworkShape s = _net.Shape;
        int e = s.Embedding;

        // Embedding lookup (or image projection, or the dense input row) into the first layer's input.
        float[] x0 = _pass.Layers[0].X;
        if (s.IsRegression)
        {
            float[] values = InputValues ?? throw new InvalidOperationException("A dense-input window needs Window.InputValues.");
            int f = s.DenseInputs;
            float[] rows = _inputStack is null ? x0 : _denseInput;
            for (int r = 0; r < _n; r++)
            {
                Array.Copy(values, Inputs[r] * f, rows, r * f, f);
            }

            InputLayersForward(x0);
        }
        else
        {
            float[] emb = _net.Embedding!.Value;
            for (int r = 0; r < _n; r++)
            {
                int tok = Inputs[r];
                if (tok >= 0)
                {
                    Array.Copy(emb, tok * e, x0, r * e, e);
                }
                else
                {
                    ProjectImage(-1 - tok, x0, r * e);
                }
            }
        }

        for (int k = 0; k < s.Layers; k++)
        {
            _pass.Forward(k);
            if (k + 1 < s.Layers)
            {
                ApplyDropout(k, dropoutSeed is not null, ref dropoutRng);
            }
        }

        if (!_net.HasHead)
        {
            // A seq2seq encoder: its output is the state it carries (GetState), nothing is scored here.
            TargetCount = 0;
            return 0;
        }

        // Head: the head's hidden layers, then logits (N, V) = H (N, H') · W_headᵀ + b_head; then softmax cross-entropy per row.
        _headStack?.Forward(_pass.Layers[^1].HOut);
        _workers.Run(_head);
        double loss = 0;
        int count = 0;
        for (int r = 0; r < _n; r++)
        {
            if (Targets[r] >= 0)
            {
                loss += _rowLoss[r];
                count++;
            }
        }

        TargetCount = count;
        return loss;
    }

    /// <summary>
    /// Backward pass after <see cref="Forward"/>: adds d(loss · <paramref name="scale"/>)/dθ to every parameter's
    /// Grad, where loss is the summed cross-entropy Forward returned.
    /// </summary>
    public void Backward(float scale) => Backward(scale, null, null);

    /// <summary>
    /// As <see cref="Backward(float)"/>, with the window's edge states in the graph (seq2seq).
    /// <paramref name="finalStateGradient"/> (laid out as <see cref="GetState"/>) is d loss / d(the state after the
    /// last step) — for a network without a head (an encoder) the only gradient there is;
    /// <paramref name="initialStateGradient"/> (same layout) receives d loss / d(the state before step 0).
    /// </summary>
    public void Backward(float scale, float[]? finalStateGradient, float[]? initialStateGradient)
    {
        NetworkShape s = _net.Shape;
        WindowBuffers shared = _pass.Shared;
        if (_net.HasHead)
        {
            _scale = scale;
            _workers.Run(_logitGradient);
            _workers.Run(_headBackward);
            RecurrentPass.ColumnSums(_logits, _n, s.OutputCount, _net.HeadB.Grad);
            _headStack?.Backward(_pass.Layers[^1].HOut, shared.DH);
        }
        else
        {
            Array.Clear(shared.DH, 0, _n * _h);
        }

        int stateLength = StateLength;
        if (finalStateGradient is not null && finalStateGradient.Length != stateLength
            || initialStateGradient is not null && initialStateGradient.Length != stateLength)
        {
            throw new ArgumentException($"A state gradient of this window has {stateLength} values (GetState's layout).");
        }

        for (int k = s.Layers - 1; k >= 0; k--)
        {
            int at = StateOffset(k);
            _pass.Backward(k, finalStateGradient, at, initialStateGradient, at);
            if (k > 0)
            {
                // Through the dropout between layer k−1 and k.
                float[] drop = _drop[k - 1];
                float[] dH = shared.DH, dX = shared.DX;
                for (int i = 0; i < _n * _h; i++)
                {
                    dH[i] = drop.Length == 0 ? dX[i] : dX[i] * drop[i];
                }
            }
        }

        if (_net.Embedding is null)
        {
            InputLayersBackward(); // dense input: only input layers before layer 0
            return;
        }

        // Embedding rows (and the image projection) in row order: a fixed summation order.
        int e = s.Embedding;
        float[] dEmb = _net.Embedding.Grad;
        float[] dX0 = shared.DX;
        for (int r = 0; r < _n; r++)
        {
            int tok = Inputs[r];
            if (tok >= 0)
            {
                int at = tok * e;
                for (int j = 0; j < e; j++)
                {
                    dEmb[at + j] += dX0[r * e + j];
                }
            }
            else
            {
                ImageBackward(-1 - tok, r * e);
            }
        }
    }

    // Rows [r0, r1) of part p: logits = H · W_headᵀ + b_head, then softmax and the row's loss.
    private void HeadForward(int p)
    {
        int v = _net.Shape.OutputCount;
        (float[] hLast, int hw) = HeadInput();
        float[] headB = _net.HeadB.Value;
        (int r0, int r1) = Workers.Split(_n, _workers.Count, p, 8);
        for (int r = r0; r < r1; r++)
        {
            Array.Copy(headB, 0, _logits, r * v, v);
        }

        _gemm.Multiply(r1 - r0, hw, hLast, r0 * hw, hw, 1, _net.HeadW.Transposed!, 0, v, _logits, r0 * v, v, true, 0, v);
        if (_net.Shape.IsRegression)
        {
            float[] targets = TargetValues ?? throw new InvalidOperationException("A regression window needs Window.TargetValues.");
            for (int r = r0; r < r1; r++)
            {
                _rowLoss[r] = Targets[r] < 0 ? 0.0 : SquaredError(new ReadOnlySpan<float>(_logits, r * v, v), new ReadOnlySpan<float>(targets, Targets[r] * v, v));
            }

            return;
        }

        for (int r = r0; r < r1; r++)
        {
            _rowLoss[r] = SoftmaxLoss(new Span<float>(_logits, r * v, v), Targets[r]);
        }
    }

    // d loss / d logits = (p − onehot(target)) · scale; rows without a target contribute nothing. Regression:
    // d/dy of Σ_j (y_j − t_j)² / O is 2 (y − t) / O.
    private void LogitGradient(int p)
    {
        int v = _net.Shape.OutputCount;
        float scale = _scale;
        (int r0, int r1) = Workers.Split(_n, _workers.Count, p, 8);
        if (_net.Shape.IsRegression)
        {
            float[] targets = TargetValues!;
            float factor = 2f * scale / v;
            for (int r = r0; r < r1; r++)
            {
                Span<float> row = new(_logits, r * v, v);
                int target = Targets[r];
                if (target < 0)
                {
                    row.Clear();
                    continue;
                }

                for (int j = 0; j < v; j++)
                {
                    row[j] = (row[j] - targets[target * v + j]) * factor;
                }
            }

            return;
        }

        for (int r = r0; r < r1; r++)
        {
            Span<float> row = new(_logits, r * v, v);
            int target = Targets[r];
            if (target < 0)
            {
                row.Clear();
                continue;
            }

            for (int j = 0; j < v; j++)
            {
                row[j] *= scale;
            }

            row[target] -= scale;
        }
    }

    // dW_head (V, H) += dLogitsᵀ · H split over the H columns; dH (N, H) = dLogits · W_head split over rows
    // (H is the last head layer's output and dH its gradient when the head has hidden layers).
    private void HeadBackward(int p)
    {
        int v = _net.Shape.OutputCount;
        (float[] hLast, int hw) = HeadInput();
        float[] dH = _headStack?.OutputGradient ?? _pass.Shared.DH;
        Parameter headW = _net.HeadW;
        (int c0, int c1) = Workers.Split(hw, _workers.Count, p, 16);
        _gemm.Multiply(v, _n, _logits, 0, 1, v, hLast, 0, hw, headW.Grad, 0, hw, true, c0, c1);
        (int r0, int r1) = Workers.Split(_n, _workers.Count, p, 8);
        _gemm.Multiply(r1 - r0, v, _logits, r0 * v, v, 1, headW.Value, 0, hw, dH, r0 * hw, hw, false, 0, hw);
    }

    private void ProjectImage(int sample, float[] dst, int at)
    {
        Parameter w = _net.ImageW ?? throw new InvalidOperationException("An image input needs a network with an image projection.");
        float[] features = Features ?? throw new InvalidOperationException("An image input needs Window.Features.");
        int f = w.Cols;
        for (int i = 0; i < w.Rows; i++)
        {
            float sum = _net.ImageB!.Value[i];
            for (int j = 0; j < f; j++)
            {
                sum = MathF.FusedMultiplyAdd(w.Value[i * f + j], features[sample * f + j], sum);
            }

            dst[at + i] = sum;
        }
    }

    private void ImageBackward(int sample, int at)
    {
        Parameter w = _net.ImageW!;
        float[] features = Features!;
        int f = w.Cols;
        for (int i = 0; i < w.Rows; i++)
        {
            float d = _pass.Shared.DX[at + i];
            _net.ImageB!.Grad[i] += d;
            for (int j = 0; j < f; j++)
            {
                w.Grad[i * f + j] += d * features[sample * f + j];
            }
        }
    }

    private void ApplyDropout(int k, bool training, ref Xoshiro128StarStar rng)
    {
        float[] src = _pass.Layers[k].HOut;
        float[] dst = _pass.Layers[k + 1].X;
        if (!training || Dropout <= 0f)
        {
            Array.Copy(src, dst, _n * _h);
            _drop[k] = [];
            return;
        }

        if (_drop[k].Length == 0)
        {
            _drop[k] = new float[Batch * MaxSteps * _h];
        }

        // A window of MaxSteps steps draws N·H values per layer gap in row order; the steps this one leaves out are skipped.
        int skipped = (MaxSteps - Steps) * Batch * _h;
        if (_lastSteps)
        {
            Skip(ref rng, skipped);
        }

        float keep = 1f - Dropout;
        float scale = 1f / keep;
        float[] mask = _drop[k];
        for (int i = 0; i < _n * _h; i++)
        {
            mask[i] = rng.NextSingle() < keep ? scale : 0f;
            dst[i] = src[i] * mask[i];
        }

        if (!_lastSteps && k + 2 < _net.Shape.Layers)
        {
            Skip(ref rng, skipped); // only a later gap's masks come after these draws
        }
    }

    private static void Skip(ref Xoshiro128StarStar rng, int draws)
    {
        for (int i = 0; i < draws; i++)
        {
            rng.NextSingle();
        }
    }

    // Σ_j (y_j − t_j)² / O, in double, in a fixed order.
    private static double SquaredError(ReadOnlySpan<float> y, ReadOnlySpan<float> t)
    {
        double sum = 0;
        for (int j = 0; j < y.Length; j++)
        {
            double d = (double)y[j] - t[j];
            sum += d * d;
        }

        return sum / y.Length;
    }

    // In place: logits → probabilities; returns −log p[target] (0 when target < 0).
    private static double SoftmaxLoss(Span<float> z, int target)
    {
        float max = float.NegativeInfinity;
        for (int j = 0; j < z.Length; j++)
        {
            max = MathF.Max(max, z[j]);
        }

        float shifted = target >= 0 ? z[target] - max : 0f;
        float sum = 0f;
        for (int j = 0; j < z.Length; j++)
        {
            float ez = MathF.Exp(z[j] - max);
            z[j] = ez;
            sum += ez;
        }

        double loss = target >= 0 ? Math.Log(sum) - shifted : 0.0;
        float inv = 1f / sum;
        for (int j = 0; j < z.Length; j++)
        {
            z[j] *= inv;
        }

        return loss;
    }
}
