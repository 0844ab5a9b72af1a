namespace RnnEmbedded.Trainer;

/// <summary>
/// The recurrent layers of a training window: per layer the input GEMM over all T steps, the step loop over the
/// cell, the carried state; backward the step loop in reverse and the weight GEMMs over all steps.
/// <see cref="Create"/> picks the cell variant once; <see cref="RecurrentPass{TCell}"/> is specialised for it.
/// </summary>
internal abstract class RecurrentPass
{
    protected RecurrentPass(LayerBuffers[] layers, WindowBuffers shared, Workers workers)
    {
        Layers = layers;
        Shared = shared;
        Workers = workers;
    }

    public LayerBuffers[] Layers { get; }

    public WindowBuffers Shared { get; }

    protected Workers Workers { get; }

    /// <summary>The pass for <paramref name="net"/>'s cell variant.</summary>
    public static RecurrentPass Create(Network net, int batch, int steps, Workers workers, Gemm gemm)
    {
        NetworkShape s = net.Shape;
        return s.Cell switch
        {
            TrainCell.Lstm => (s.Peepholes, s.Cifg) switch
            {
                (false, false) => new RecurrentPass<LstmCell<LstmPlain>>(net, batch, steps, workers, gemm),
                (true, false) => new RecurrentPass<LstmCell<LstmPeephole>>(net, batch, steps, workers, gemm),
                (false, true) => new RecurrentPass<LstmCell<LstmCoupled>>(net, batch, steps, workers, gemm),
                (true, true) => new RecurrentPass<LstmCell<LstmCoupledPeephole>>(net, batch, steps, workers, gemm),
            },
            TrainCell.Gru when s.GruResetBefore => new RecurrentPass<GruResetBeforeCell>(net, batch, steps, workers, gemm),
            TrainCell.Gru => new RecurrentPass<GruCell>(net, batch, steps, workers, gemm),
            TrainCell.RnnTanh => new RecurrentPass<RnnCell<TanhActivation>>(net, batch, steps, workers, gemm),
            TrainCell.RnnRelu => new RecurrentPass<RnnCell<ReluActivation>>(net, batch, steps, workers, gemm),
            _ => throw new ArgumentOutOfRangeException(nameof(net), s.Cell, "Unknown cell kind."),
        };
    }

    /// <summary>The passes run the first <paramref name="steps"/> steps of every layer's buffers.</summary>
    public void SetSteps(int steps)
    {
        foreach (LayerBuffers l in Layers)
        {
            l.Steps = steps;
        }
    }

    /// <summary>Layer k forward over the window, from its input X to its output HOut; carries the last step's state.</summary>
    public abstract void Forward(int k);

    /// <summary>Layer k backward from Shared.DH: adds its parameter gradients and writes d loss / d X into Shared.DX.</summary>
    public void Backward(int k) => Backward(k, null, 0, null, 0);

    /// <summary>
    /// Layer k backward, as <see cref="Backward(int)"/>, with the state at the window's edges in the graph (seq2seq:
    /// the encoder's final state starts the decoder). <paramref name="finalGradient"/> (at <paramref name="finalAt"/>:
    /// h (B·H), then c (B·H) when the cell has one) is d loss / d(the state after the last step), added to what the
    /// steps receive; <paramref name="initialGradient"/> (same layout) receives d loss / d(the state before step 0)
    /// (zero for a row that resets at step 0).
    /// </summary>
    public abstract void Backward(int k, float[]? finalGradient, int finalAt, float[]? initialGradient, int initialAt);

    // h_prev (and c_prev) of step 0: the carried state, zero where the row resets.
    protected static void PrepareFirstStep(LayerBuffers l)
    {
        int bsz = l.Batch, h = l.Hidden;
        for (int b = 0; b < bsz; b++)
        {
            Span<float> hp = new(l.HPrev, b * h, h);
            Span<float> cp = l.HasCellState ? new(l.CPrev, b * h, h) : default;
            if (l.Reset[b])
            {
                hp.Clear();
                cp.Clear();
                continue;
            }

            new ReadOnlySpan<float>(l.HState, b * h, h).CopyTo(hp);
            if (l.HasCellState)
            {
                new ReadOnlySpan<float>(l.CState, b * h, h).CopyTo(cp);
            }
        }
    }

    // h_prev (and c_prev) of step t + 1 for units [j0, j1), from step t's output; zero where the row resets.
    protected static void PrepareNextStep(LayerBuffers l, int t, int j0, int j1)
    {
        if (t + 1 >= l.Steps)
        {
            return;
        }

        int bsz = l.Batch, h = l.Hidden;
        for (int b = 0; b < bsz; b++)
        {
            int row = (t + 1) * bsz + b;
            Span<float> hp = new(l.HPrev, row * h + j0, j1 - j0);
            Span<float> cp = l.HasCellState ? new(l.CPrev, row * h + j0, j1 - j0) : default;
            if (l.Reset[row])
            {
                hp.Clear();
                cp.Clear();
                continue;
            }

            new ReadOnlySpan<float>(l.HOut, (row - bsz) * h + j0, j1 - j0).CopyTo(hp);
            if (l.HasCellState)
            {
                new ReadOnlySpan<float>(l.C, (row - bsz) * h + j0, j1 - j0).CopyTo(cp);
            }
        }
    }

    /// <summary>acc[j] += Σ_r m[r, j], rows in increasing order (a fixed summation order).</summary>
    public static void ColumnSums(float[] m, int rows, int cols, float[] acc)
    {
        for (int r = 0; r < rows; r++)
        {
            int at = r * cols;
            for (int j = 0; j < cols; j++)
            {
                acc[j] += m[at + j];
            }
        }
    }
}

/// <summary>
/// <see cref="RecurrentPass"/> for one cell variant. Threads split the hidden units of a step (part p owns units
/// [j0, j1) of every gate block), so a step's cell reads only what its own part wrote, except across the
/// barriers between <see cref="Workers.Run"/> calls. The step delegates are created once: a step allocates nothing.
/// </summary>
internal sealed class RecurrentPass<TCell> : RecurrentPass
    where TCell : struct, ITrainingCell
{
    private readonly Action<int> _inputProduct, _forwardStep, _forwardSecondPhase;
    private readonly Action<int> _backwardLastStep, _backwardStep, _backwardSecondPhase, _backwardRecurrent, _backwardCell, _weightGradients;
    private LayerBuffers _layer = null!; // the layer and step the delegates work on
    private int _t;

    public RecurrentPass(Network net, int batch, int steps, Workers workers, Gemm gemm)
        : base(CreateLayers(net, batch, steps, gemm, out WindowBuffers shared), shared, workers)
    {
        _inputProduct = InputProduct;
        _forwardStep = ForwardStep;
        _forwardSecondPhase = ForwardSecondPhase;
        _backwardLastStep = p => BackwardCell(_t, p);
        _backwardStep = p =>
        {
            // Part p owns units [j0, j1): its columns of dh_prev from step t + 1 are all that its cell step t reads.
            BackwardRecurrent(_t + 1, p);
            BackwardCell(_t, p);
        };
        _backwardSecondPhase = p => BackwardSecondPhase(_t, p);
        _backwardRecurrent = p => BackwardRecurrent(_t, p);
        _backwardCell = p => BackwardCell(_t, p);
        _weightGradients = WeightGradients;
    }

    public override void Forward(int k)
    {
        LayerBuffers l = Layers[k];
        _layer = l;
        Workers.Run(_inputProduct);
        PrepareFirstStep(l); // later steps' h_prev is written by the step before, unit by unit
        for (int t = 0; t < l.Steps; t++)
        {
            _t = t;
            Workers.Run(_forwardStep);
            if (TCell.HasSecondPhase)
            {
                Workers.Run(_forwardSecondPhase);
            }
        }

        // Carry the last step's state to the next window.
        int bh = l.Batch * l.Hidden;
        Array.Copy(l.HOut, (l.Steps - 1) * bh, l.HState, 0, bh);
        if (l.HasCellState)
        {
            Array.Copy(l.C, (l.Steps - 1) * bh, l.CState, 0, bh);
        }
    }

    public override void Backward(int k, float[]? finalGradient, int finalAt, float[]? initialGradient, int initialAt)
    {
        LayerBuffers l = Layers[k];
        _layer = l;
        int bh = l.Batch * l.Hidden;
        if (finalGradient is null)
        {
            Array.Clear(Shared.DhNext);
            Array.Clear(Shared.DcNext);
        }
        else
        {
            // The last step's h (and c) also feed what comes after the window: their gradient enters as dh_next, dc_next.
            Array.Copy(finalGradient, finalAt, Shared.DhNext, 0, bh);
            if (l.HasCellState)
            {
                Array.Copy(finalGradient, finalAt + bh, Shared.DcNext, 0, bh);
            }
            else
            {
                Array.Clear(Shared.DcNext);
            }
        }

        _t = l.Steps - 1;
        Workers.Run(_backwardLastStep);
        for (int t = l.Steps - 2; t >= 0; t--)
        {
            if (TCell.HasSecondPhase)
            {
                // Each phase needs every unit of the one before: d(r ⊙ h) reads all of dn, dh_prev all of dr.
                _t = t + 1;
                Workers.Run(_backwardSecondPhase);
                Workers.Run(_backwardRecurrent);
                _t = t;
                Workers.Run(_backwardCell);
            }
            else
            {
                _t = t;
                Workers.Run(_backwardStep);
            }
        }

        if (TCell.HasSecondPhase)
        {
            _t = 0;
            Workers.Run(_backwardSecondPhase);
        }

        if (initialGradient is not null)
        {
            // dh_prev of step 0: the direct part the cell wrote plus W_hhᵀ dGh_0; dc_prev of step 0 as the cell wrote it.
            _t = 0;
            Workers.Run(_backwardRecurrent);
            Array.Copy(Shared.DhNext, 0, initialGradient, initialAt, bh);
            if (l.HasCellState)
            {
                Array.Copy(Shared.DcNext, 0, initialGradient, initialAt + bh, bh);
            }
        }

        // Otherwise no dh_prev for step 0: truncated BPTT stops at the window edge.
        Workers.Run(_weightGradients);
        int n = l.Batch * l.Steps;
        ColumnSums(l.DGx, n, l.GateWidth, l.b_ih.Grad);
        ColumnSums(l.DGh, n, l.GateWidth, l.b_hh.Grad);
    }

    private static LayerBuffers[] CreateLayers(Network net, int batch, int steps, Gemm gemm, out WindowBuffers shared)
    {
        shared = new WindowBuffers(net.Shape, batch, steps, TCell.Buffers);
        var layers = new LayerBuffers[net.Shape.Layers];
        for (int k = 0; k < layers.Length; k++)
        {
            layers[k] = new LayerBuffers(net, k, batch, steps, TCell.Buffers, shared, gemm);
        }

        return layers;
    }

    // Gx (N, GH) = X (N, In) · W_ihᵀ + b_ih, for all T steps at once, split over rows.
    private void InputProduct(int p)
    {
        LayerBuffers l = _layer;
        int n = l.Batch * l.Steps, gh = l.GateWidth, inSize = l.InputSize;
        float[] bias = l.b_ih.Value, gx = l.Gx;
        (int r0, int r1) = Workers.Split(n, Workers.Count, p, 8);
        for (int r = r0; r < r1; r++)
        {
            Array.Copy(bias, 0, gx, r * gh, gh);
        }

        l.Gemm.Multiply(r1 - r0, inSize, l.X, r0 * inSize, inSize, 1, l.W_ih.Transposed!, 0, gh, gx, r0 * gh, gh, true, 0, gh);
    }

    // Part p owns hidden units [j0, j1): their columns of the gate blocks that read h_prev, then the cell.
    private void ForwardStep(int p)
    {
        LayerBuffers l = _layer;
        int t = _t;
        int bsz = l.Batch, h = l.Hidden, gh = l.GateWidth;
        (int j0, int j1) = Workers.Split(h, Workers.Count, p, 16);
        if (j0 >= j1)
        {
            return;
        }

        float[] whhT = l.W_hh.Transposed!, bhh = l.b_hh.Value, gs = l.StepGates;
        for (int g = 0; g < TCell.BlocksFromHidden; g++)
        {
            int c0 = g * h + j0, c1 = g * h + j1;
            for (int b = 0; b < bsz; b++)
            {
                Array.Copy(bhh, c0, gs, b * gh + c0, c1 - c0);
            }

            l.Gemm.Multiply(bsz, h, l.HPrev, t * bsz * h, h, 1, whhT, 0, gh, gs, 0, gh, true, c0, c1);
        }

        TCell.Forward(l, t, j0, j1);
        if (!TCell.HasSecondPhase)
        {
            PrepareNextStep(l, t, j0, j1);
        }
    }

    private void ForwardSecondPhase(int p)
    {
        LayerBuffers l = _layer;
        (int j0, int j1) = Workers.Split(l.Hidden, Workers.Count, p, 16);
        if (j0 >= j1)
        {
            return;
        }

        TCell.ForwardSecondPhase(l, _t, j0, j1);
        PrepareNextStep(l, _t, j0, j1);
    }

    private void BackwardCell(int t, int p)
    {
        (int j0, int j1) = Workers.Split(_layer.Hidden, Workers.Count, p, 16);
        TCell.Backward(_layer, t, j0, j1);
    }

    private void BackwardSecondPhase(int t, int p)
    {
        (int j0, int j1) = Workers.Split(_layer.Hidden, Workers.Count, p, 16);
        if (j0 < j1)
        {
            TCell.BackwardSecondPhase(_layer, t, j0, j1);
        }
    }

    // dh_prev (B, H) (+)= dGh_t (B, GH) · W_hh (GH, H) over the blocks from h_prev, columns [j0, j1); zero where the row reset.
    private void BackwardRecurrent(int t, int p)
    {
        LayerBuffers l = _layer;
        int bsz = l.Batch, h = l.Hidden, gh = l.GateWidth;
        (int j0, int j1) = Workers.Split(h, Workers.Count, p, 16);
        float[] dhNext = Shared.DhNext;
        l.Gemm.Multiply(bsz, TCell.BlocksFromHidden * h, l.DGh, t * bsz * gh, gh, 1, l.W_hh.Value, 0, h, dhNext, 0, h,
            TCell.BackwardWritesHiddenGradient, j0, j1);
        for (int b = 0; b < bsz; b++)
        {
            if (l.Reset[t * bsz + b])
            {
                new Span<float>(dhNext, b * h + j0, j1 - j0).Clear();
            }
        }
    }

    // dW_ih (GH, In) += dGxᵀ · X and dW_hh (GH, H) += dGhᵀ · H_prev, one product over all T steps each;
    // dX (N, In) = dGx · W_ih, split over rows.
    private void WeightGradients(int p)
    {
        LayerBuffers l = _layer;
        int n = l.Batch * l.Steps, gh = l.GateWidth, inSize = l.InputSize;
        (int c0, int c1) = Workers.Split(inSize, Workers.Count, p, 16);
        l.Gemm.Multiply(gh, n, l.DGx, 0, 1, gh, l.X, 0, inSize, l.W_ih.Grad, 0, inSize, true, c0, c1);
        (int h0, int h1) = Workers.Split(l.Hidden, Workers.Count, p, 16);
        TCell.AddRecurrentWeightGradient(l, h0, h1);
        (int r0, int r1) = Workers.Split(n, Workers.Count, p, 8);
        l.Gemm.Multiply(r1 - r0, gh, l.DGx, r0 * gh, gh, 1, l.W_ih.Value, 0, inSize, Shared.DX, r0 * inSize, inSize, false, 0, inSize);
    }
}
