namespace RnnEmbedded.Trainer;

/// <summary>
/// One recurrent layer's view of a training window: its parameters, its per-row buffers (row r = t·B + b holds
/// stream b at step t; N = T·B rows) and the step buffers the window's layers share. Created once per window; the
/// cells of <see cref="ITrainingCell"/> read and write these arrays and allocate nothing.
/// </summary>
internal sealed class LayerBuffers
{
    public LayerBuffers(Network net, int layer, int batch, int steps, CellBuffers needs, WindowBuffers shared, Gemm gemm)
    {
        NetworkShape s = net.Shape;
        int h = s.Hidden;
        int gh = s.Gates * h;
        int n = batch * steps;
        Batch = batch;
        Steps = steps;
        MaxSteps = steps;
        Hidden = h;
        GateWidth = gh;
        InputSize = s.LayerInput(layer);
        W_ih = net.W_ih[layer];
        W_hh = net.W_hh[layer];
        b_ih = net.b_ih[layer];
        b_hh = net.b_hh[layer];
        Peephole = net.Peephole[layer];
        X = new float[n * InputSize];
        Gx = new float[n * gh];
        Gates = needs.Gates ? new float[n * gh] : [];
        HPrev = new float[n * h];
        HOut = new float[n * h];
        HasCellState = needs.CellState;
        CPrev = needs.CellState ? new float[n * h] : [];
        C = needs.CellState ? new float[n * h] : [];
        TanhC = needs.CellState ? new float[n * h] : [];
        HiddenCandidate = needs.HiddenCandidate ? new float[n * h] : [];
        ResetHidden = needs.ResetHidden ? new float[n * h] : [];
        HState = new float[batch * h];
        CState = needs.CellState ? new float[batch * h] : [];
        Shared = shared;
        Reset = shared.Reset;
        StepGates = shared.StepGates;
        DGx = shared.DGx;
        DGh = needs.SeparateHiddenGradient ? shared.DGhSeparate : shared.DGx;
        Gemm = gemm;
    }

    /// <summary>The matrix product every GEMM of this layer uses (its vector width chosen by the session).</summary>
    public Gemm Gemm { get; }

    public int Batch { get; }

    /// <summary>The steps the passes run (<see cref="Window.SetSteps"/>); the buffers hold <see cref="MaxSteps"/>.</summary>
    public int Steps { get; set; }

    public int MaxSteps { get; }

    /// <summary>H.</summary>
    public int Hidden { get; }

    /// <summary>G·H, the width of a row of gate pre-activations.</summary>
    public int GateWidth { get; }

    public int InputSize { get; }

    public Parameter W_ih { get; }

    public Parameter W_hh { get; }

    public Parameter b_ih { get; }

    public Parameter b_hh { get; }

    /// <summary>(3, H) LSTM peepholes p_i, p_f, p_o, or null.</summary>
    public Parameter? Peephole { get; }

    /// <summary>(N, In) the layer's input.</summary>
    public float[] X { get; }

    /// <summary>(N, G·H) W_ih x + b_ih for every row.</summary>
    public float[] Gx { get; }

    /// <summary>(N, G·H) gate activations kept for the backward pass (LSTM, GRU).</summary>
    public float[] Gates { get; }

    /// <summary>(N, H) h_prev of every row: the carried state, the step before, or zero after a reset.</summary>
    public float[] HPrev { get; }

    /// <summary>(N, H) h of every row.</summary>
    public float[] HOut { get; }

    /// <summary>True when the cell carries c beside h (LSTM).</summary>
    public bool HasCellState { get; }

    /// <summary>(N, H) LSTM c_prev, c and tanh(c).</summary>
    public float[] CPrev { get; }

    public float[] C { get; }

    public float[] TanhC { get; }

    /// <summary>(N, H) GRU reset-after: W_hn h_prev + b_hn, kept for the backward pass.</summary>
    public float[] HiddenCandidate { get; }

    /// <summary>(N, H) GRU reset-before: r ⊙ h_prev.</summary>
    public float[] ResetHidden { get; }

    /// <summary>(B, H) the state carried from one window to the next (h; c for LSTM).</summary>
    public float[] HState { get; }

    public float[] CState { get; }

    public WindowBuffers Shared { get; }

    /// <summary>(N,) true where the row starts from the zero state (shared).</summary>
    public bool[] Reset { get; }

    /// <summary>(B, G·H) W_hh h_prev + b_hh of the current step (shared).</summary>
    public float[] StepGates { get; }

    /// <summary>(N, G·H) d loss / d(W_ih x + b_ih).</summary>
    public float[] DGx { get; }

    /// <summary>(N, G·H) d loss / d(W_hh h_prev + b_hh); the same array as <see cref="DGx"/> unless the cell needs its own.</summary>
    public float[] DGh { get; }
}

/// <summary>Which per-row buffers a cell keeps between its forward and backward passes.</summary>
/// <param name="Gates">(N, G·H) gate activations.</param>
/// <param name="CellState">c beside h (LSTM): c_prev, c, tanh(c) per row and a carried c.</param>
/// <param name="HiddenCandidate">(N, H) W_hn h_prev + b_hn (GRU reset-after).</param>
/// <param name="ResetHidden">(N, H) r ⊙ h_prev (GRU reset-before).</param>
/// <param name="SeparateHiddenGradient">dGh differs from dGx (GRU reset-after: the n block's dGh is r ⊙ dGx).</param>
internal readonly record struct CellBuffers(bool Gates, bool CellState, bool HiddenCandidate, bool ResetHidden, bool SeparateHiddenGradient);

/// <summary>Buffers every layer of a window uses in turn (one layer runs at a time).</summary>
internal sealed class WindowBuffers
{
    public WindowBuffers(NetworkShape s, int batch, int steps, CellBuffers needs)
    {
        int h = s.Hidden;
        int gh = s.Gates * h;
        int n = batch * steps;
        StepGates = new float[batch * gh];
        DGx = new float[n * gh];
        DGhSeparate = needs.SeparateHiddenGradient ? new float[n * gh] : [];
        DH = new float[n * h];
        DX = new float[n * Math.Max(s.LayerInput(0), h)]; // layer 0 reads E, F or the last input layer's outputs
        DhNext = new float[batch * h];
        DcNext = new float[batch * h];
        DResetHidden = needs.ResetHidden ? new float[batch * h] : [];
        Reset = new bool[n];
    }

    /// <summary>(B, G·H) W_hh h_prev + b_hh of the current step.</summary>
    public float[] StepGates { get; }

    public float[] DGx { get; }

    public float[] DGhSeparate { get; }

    /// <summary>(N, H) d loss / d h of the layer being differentiated (from above: the head or the next layer).</summary>
    public float[] DH { get; }

    /// <summary>(N, max(In of layer 0, H)) d loss / d x of the layer just differentiated.</summary>
    public float[] DX { get; }

    /// <summary>(B, H) d loss / d h_prev and d c_prev flowing from step t + 1 to step t.</summary>
    public float[] DhNext { get; }

    public float[] DcNext { get; }

    /// <summary>(B, H) GRU reset-before: d loss / d(r ⊙ h_prev) of one step.</summary>
    public float[] DResetHidden { get; }

    /// <summary>(N,) true where the row starts from the zero state.</summary>
    public bool[] Reset { get; }
}
