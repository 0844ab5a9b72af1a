namespace RnnEmbedded.Trainer;

/// <summary>
/// The forward and backward equations of one recurrent cell variant over the hidden units [j0, j1) of one step of
/// a training window (see <see cref="RecurrentPass{TCell}"/> for the step loop around them). Implemented by
/// structs and used only as a type argument (<c>where TCell : struct, ITrainingCell</c>), so the JIT compiles one
/// specialised step loop per variant: no switch or flag is tested per unit.
/// </summary>
/// <remarks>
/// Before <see cref="Forward"/> the step loop fills <see cref="LayerBuffers.StepGates"/> with W_hh h_prev + b_hh
/// for the first <see cref="BlocksFromHidden"/> gate blocks; after <see cref="Backward"/> it adds
/// dGh · W_hh over those blocks to dh_prev (<see cref="WindowBuffers.DhNext"/>).
/// A cell whose remaining gate blocks need a value of every unit first (GRU reset-before: n reads r ⊙ h_prev)
/// sets <see cref="HasSecondPhase"/>; the step loop then runs <see cref="ForwardSecondPhase"/> and
/// <see cref="BackwardSecondPhase"/> after a barrier.
/// </remarks>
internal interface ITrainingCell
{
    /// <summary>The per-row buffers the cell keeps for its backward pass.</summary>
    static abstract CellBuffers Buffers { get; }

    /// <summary>Leading gate blocks whose recurrent pre-activations come from h_prev directly.</summary>
    static abstract int BlocksFromHidden { get; }

    /// <summary>True when <see cref="Backward"/> writes a direct part of dh_prev (GRU: z ⊙ dh) that the recurrent product adds to.</summary>
    static abstract bool BackwardWritesHiddenGradient { get; }

    /// <summary>True for a cell with a second phase per step (GRU reset-before).</summary>
    static virtual bool HasSecondPhase => false;

    /// <summary>Step t, units [j0, j1): activations, h (and c) from Gx and <see cref="LayerBuffers.StepGates"/>.</summary>
    static abstract void Forward(LayerBuffers l, int t, int j0, int j1);

    /// <summary>
    /// Step t, units [j0, j1): dGx, dGh rows of step t from dh = dH + dh_next (and dc_next), and the elementwise
    /// parts of dh_prev, dc_prev (zero where the row reset).
    /// </summary>
    static abstract void Backward(LayerBuffers l, int t, int j0, int j1);

    /// <summary>The second forward phase of step t, units [j0, j1), once every unit's first phase is done.</summary>
    static virtual void ForwardSecondPhase(LayerBuffers l, int t, int j0, int j1)
    {
    }

    /// <summary>The second backward phase of step t, units [j0, j1), once every unit's <see cref="Backward"/> is done.</summary>
    static virtual void BackwardSecondPhase(LayerBuffers l, int t, int j0, int j1)
    {
    }

    /// <summary>dW_hh (G·H, H) += dGhᵀ · H_prev over all N rows, for the columns [h0, h1).</summary>
    static virtual void AddRecurrentWeightGradient(LayerBuffers l, int h0, int h1)
    {
        int n = l.Batch * l.Steps;
        l.Gemm.Multiply(l.GateWidth, n, l.DGh, 0, 1, l.GateWidth, l.HPrev, 0, l.Hidden, l.W_hh.Grad, 0, l.Hidden, true, h0, h1);
    }
}

/// <summary>Elementwise functions the cells share.</summary>
internal static class CellMath
{
    /// <summary>σ(x), without overflow for large |x|.</summary>
    public static float Sigmoid(float x) => x >= 0f ? 1f / (1f + MathF.Exp(-x)) : MathF.Exp(x) / (1f + MathF.Exp(x));
}
