using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using static RnnEmbedded.Tests.Reference.TestModels;

namespace RnnEmbedded.Tests.Reference;

/// <summary>
/// Variants PyTorch lacks, checked against values worked out by hand. Pre-activations are chosen from
/// {0, ±ln 3, ln 3 / 2, ...} so that σ(0) = 1/2, σ(ln 3) = 3/4, σ(−ln 3) = 1/4, σ(2 ln 3) = 9/10 and
/// tanh(ln 3 / 2) = 1/2. Models are built from tensors and metadata, so the builder's variant inference is
/// exercised too. Dense input of one feature, no head: the output is h.
/// </summary>
public sealed class HandWorkedVariantTests
{
    /// <summary>ln 3 is rounded to float, so results are off by a few ulps of 1.</summary>
    private const double Tolerance = 1e-6;

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    [Fact]
    public void Step_LstmPeepholes_FollowTheOnnxRule_InputAndForgetSeeOldCell_OutputSeesNewCell()
    {
        // H = 1, In = 1, no bias. W_ih rows i, f, g, o = [0, 0, L/2, 0] (L = ln 3), W_hh = 0 (h never feeds back).
        // Peepholes (3, 1) rows p_i, p_f, p_o = [−4L, 8L, 4L] (distinct, so a row mix-up shows).
        ModelSpec spec = Build(
            T("cell.weight_ih_l0", [4, 1], 0f, 0f, Ln3 / 2, 0f),
            T("cell.weight_hh_l0", [4, 1], 0f, 0f, 0f, 0f),
            T("cell.peephole_l0", [3, 1], -4 * Ln3, 8 * Ln3, 4 * Ln3));
        Assert.Equal(CellKind.Lstm, spec.Layers[0].Cell);
        Assert.True(spec.Layers[0].HasPeepholes);
        var engine = new ReferenceEngine(spec);
        var h = new float[1];

        // Step 1, x = 1, c = 0:
        //   i = σ(0 + p_i·0) = 1/2,  f = σ(0 + p_f·0) = 1/2,  g = tanh(L/2) = 1/2
        //   c' = f·0 + i·g = 1/4
        //   o = σ(0 + p_o·c') = σ(4L · 1/4) = σ(L) = 3/4     (old-cell rule would give σ(0) = 1/2; p_f in o's place σ(2L) = 9/10)
        //   h' = o·tanh(c') = 3/4 · tanh(1/4)
        engine.Step([1f], h);
        float[] state = engine.GetState(); // [h, c]
        Assert.Equal(0.25, state[1], Tolerance);
        Assert.Equal(0.75 * Math.Tanh(0.25), h[0], Tolerance); // 0.18368899...

        // Step 2, x = 0 (W_ih x = 0), c = 1/4:
        //   i = σ(p_i·c) = σ(−4L/4) = σ(−L) = 1/4
        //   f = σ(p_f·c) = σ(8L/4) = σ(2L) = 9/10
        //   g = tanh(0) = 0
        //   c' = f·c + i·g = 9/10 · 1/4 = 9/40 = 0.225
        //   o = σ(p_o·c') = σ(4L · 9/40) = σ(0.9 L) = 3^0.9 / (1 + 3^0.9)
        //   h' = o·tanh(9/40)
        engine.Step([0f], h);
        state = engine.GetState();
        double o2 = Math.Pow(3, 0.9) / (1 + Math.Pow(3, 0.9)); // 0.72609...
        Assert.Equal(0.225, state[1], Tolerance);
        Assert.Equal(o2 * Math.Tanh(0.225), h[0], Tolerance);
    }

    [Fact]
    public void Step_LstmCifg_ForgetGateIsOneMinusInputGate_RowsOrderedIGO()
    {
        // CIFG: rnn.lstm.cifg=true, W_ih/W_hh/biases have 3H rows ordered i, g, o. H = 1, In = 1.
        // W_ih = [L, 0, 0], W_hh = 0, b_ih = [0, L/2, 0], b_hh = [0, 0, 0] (present: the layer has biases).
        ModelSpec spec = BuildWith(
            new() { ["rnn.lstm.cifg"] = "true" },
            T("lstm.weight_ih_l0", [3, 1], Ln3, 0f, 0f),
            T("lstm.weight_hh_l0", [3, 1], 0f, 0f, 0f),
            T("lstm.bias_ih_l0", [3], 0f, Ln3 / 2, 0f),
            T("lstm.bias_hh_l0", [3], 0f, 0f, 0f));
        Assert.Equal(CellKind.Lstm, spec.Layers[0].Cell);
        Assert.True(spec.Layers[0].Cifg);
        var engine = new ReferenceEngine(spec);
        var h = new float[1];

        // Step 1, x = 1, c = 0:
        //   i = σ(L) = 3/4,  f = 1 − i = 1/4,  g = tanh(L/2) = 1/2,  o = σ(0) = 1/2
        //   c' = f·0 + i·g = 3/4 · 1/2 = 3/8
        //   h' = o·tanh(c') = 1/2 · tanh(3/8)
        engine.Step([1f], h);
        Assert.Equal(0.375, engine.GetState()[1], Tolerance);
        Assert.Equal(0.5 * Math.Tanh(0.375), h[0], Tolerance);

        // Step 2, x = 1, c = 3/8:
        //   i = σ(L) = 3/4,  f = 1 − i = 1/4,  g = 1/2,  o = 1/2
        //   c' = 1/4 · 3/8 + 3/4 · 1/2 = 3/32 + 12/32 = 15/32     (an independent f = σ(0) = 1/2 would give 18/32)
        //   h' = 1/2 · tanh(15/32)
        engine.Step([1f], h);
        Assert.Equal(15.0 / 32, engine.GetState()[1], Tolerance);
        Assert.Equal(0.5 * Math.Tanh(15.0 / 32), h[0], Tolerance);

        // Step 3, x = 0, c = 15/32:
        //   i = σ(0) = 1/2,  f = 1/2,  g = tanh(L/2) = 1/2 (from b_ih),  o = 1/2
        //   c' = 1/2 · 15/32 + 1/2 · 1/2 = 15/64 + 16/64 = 31/64
        engine.Step([0f], h);
        Assert.Equal(31.0 / 64, engine.GetState()[1], Tolerance);
        Assert.Equal(0.5 * Math.Tanh(31.0 / 64), h[0], Tolerance);
    }

    [Fact]
    public void Step_LstmCifgWithPeepholes_UsesPiAndPoRows()
    {
        // CIFG + peepholes: rows p_i, p_f (must be zero), p_o. H = 1, W_ih = [0, L/2, 0] (i, g, o), W_hh = 0, no bias.
        // p_i = −4L, p_o = 4L.
        ModelSpec spec = BuildWith(
            new() { ["rnn.lstm.cifg"] = "true" },
            T("lstm.weight_ih_l0", [3, 1], 0f, Ln3 / 2, 0f),
            T("lstm.weight_hh_l0", [3, 1], 0f, 0f, 0f),
            T("lstm.peephole_l0", [3, 1], -4 * Ln3, 0f, 4 * Ln3));
        var engine = new ReferenceEngine(spec);
        var h = new float[1];

        // Step 1, x = 1, c = 0: i = σ(0) = 1/2, f = 1/2, g = 1/2, c' = 1/4, o = σ(4L/4) = 3/4, h' = 3/4 tanh(1/4).
        engine.Step([1f], h);
        Assert.Equal(0.75 * Math.Tanh(0.25), h[0], Tolerance);

        // Step 2, x = 1, c = 1/4: i = σ(−4L/4) = 1/4, f = 3/4, g = 1/2,
        //   c' = 3/4 · 1/4 + 1/4 · 1/2 = 3/16 + 2/16 = 5/16,  o = σ(4L · 5/16) = σ(1.25 L) = 3^1.25 / (1 + 3^1.25)
        engine.Step([1f], h);
        double o2 = Math.Pow(3, 1.25) / (1 + Math.Pow(3, 1.25));
        Assert.Equal(0.3125, engine.GetState()[1], Tolerance);
        Assert.Equal(o2 * Math.Tanh(0.3125), h[0], Tolerance);
    }

    /// <summary>
    /// H = 2, In = 1, x = 0, starting from h = (1, 1) set with SetState. b_ih = (L, −L | 0, 0 | 0, 0) for r, z, n;
    /// b_hh = (0, 0 | 0, 0 | 1/2, −1/4); W_hh's r and z rows are 0, its n rows W_hn = [[1, 1], [0, 1]].
    ///   r = σ(L, −L) = (3/4, 1/4),  z = σ(0, 0) = (1/2, 1/2).
    /// </summary>
    private static ModelSpec GruTwoByTwo(string? form) => BuildWith(
        form is null ? new() : new() { ["rnn.gru.form"] = form },
        T("gru.weight_ih_l0", [6, 1], 5f, 5f, 5f, 5f, 5f, 5f), // multiplied by x = 0
        T("gru.weight_hh_l0", [6, 2], 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 1f, 1f, 0f, 1f),
        T("gru.bias_ih_l0", [6], Ln3, -Ln3, 0f, 0f, 0f, 0f),
        T("gru.bias_hh_l0", [6], 0f, 0f, 0f, 0f, 0.5f, -0.25f));

    [Fact]
    public void Step_GruResetBefore_AppliesResetToHBeforeTheMatrix()
    {
        ModelSpec spec = GruTwoByTwo("reset_before");
        Assert.Equal(GruForm.ResetBefore, spec.Layers[0].GruForm);
        var engine = new ReferenceEngine(spec);
        engine.SetState([1f, 1f]);
        var h = new float[2];

        // n = tanh(W_in x + b_in + W_hn (r⊙h) + b_hn)
        //   r⊙h = (3/4, 1/4);  W_hn (r⊙h) = (3/4 + 1/4, 1/4) = (1, 1/4);  + b_hn = (3/2, 0)
        //   n = (tanh(3/2), 0)
        // h' = (1 − z)⊙n + z⊙h = (1/2 tanh(3/2) + 1/2, 0 + 1/2) = (σ(3), 1/2)       [1/2 tanh(a) + 1/2 = σ(2a)]
        // (reset after would give pre-activation r⊙(W_hn h + b_hn) = (15/8, 3/16); r⊙(W_hn h) + b_hn would give (2, 0).)
        engine.Step([0f], h);
        Assert.Equal(Sigmoid(3), h[0], Tolerance); // 0.95257...
        Assert.Equal(0.5, h[1], Tolerance);
    }

    [Fact]
    public void Step_GruResetAfter_AppliesResetToTheWholeRecurrentTerm()
    {
        ModelSpec spec = GruTwoByTwo(null); // default: reset_after (PyTorch)
        Assert.Equal(GruForm.ResetAfter, spec.Layers[0].GruForm);
        var engine = new ReferenceEngine(spec);
        engine.SetState([1f, 1f]);
        var h = new float[2];

        // n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn))
        //   W_hn h = (2, 1);  + b_hn = (5/2, 3/4);  r⊙ = (3/4 · 5/2, 1/4 · 3/4) = (15/8, 3/16)
        // h' = (1 − z)⊙n + z⊙h = (1/2 tanh(15/8) + 1/2, 1/2 tanh(3/16) + 1/2) = (σ(15/4), σ(3/8))
        engine.Step([0f], h);
        Assert.Equal(Sigmoid(3.75), h[0], Tolerance);
        Assert.Equal(Sigmoid(0.375), h[1], Tolerance);
    }

    [Fact]
    public void Step_RnnSigmoid_AppliesLogisticToTheSum()
    {
        // rnn.nonlinearity=sigmoid. H = 1, In = 1: W_ih = L, W_hh = −4L/3, b_ih = L/2, b_hh = −L/2 (they cancel).
        ModelSpec spec = BuildWith(
            new() { ["rnn.nonlinearity"] = "sigmoid" },
            T("rnn.weight_ih_l0", [1, 1], Ln3),
            T("rnn.weight_hh_l0", [1, 1], -4 * Ln3 / 3),
            T("rnn.bias_ih_l0", [1], Ln3 / 2),
            T("rnn.bias_hh_l0", [1], -Ln3 / 2));
        Assert.Equal(ActivationKind.Sigmoid, spec.Layers[0].Activation);
        var engine = new ReferenceEngine(spec);
        var h = new float[1];

        // Step 1, x = 1, h = 0:   h' = σ(L + L/2 + 0 − L/2) = σ(L) = 3/4
        engine.Step([1f], h);
        Assert.Equal(0.75, h[0], Tolerance);

        // Step 2, x = 0, h = 3/4: h' = σ(0 + L/2 − 4L/3 · 3/4 − L/2) = σ(−L) = 1/4
        engine.Step([0f], h);
        Assert.Equal(0.25, h[0], Tolerance);

        // Step 3, x = 1, h = 1/4: h' = σ(L − 4L/3 · 1/4) = σ(2L/3) = 3^(2/3) / (1 + 3^(2/3))
        engine.Step([1f], h);
        Assert.Equal(Math.Pow(3, 2.0 / 3) / (1 + Math.Pow(3, 2.0 / 3)), h[0], Tolerance);
    }

    [Fact]
    public void Step_TwoLayerStackWithHead_FeedsLayerOutputsUpward()
    {
        // Layer 0: RNN tanh H = 1, W_ih = L/2, W_hh = 0 → h0 = tanh(L/2 · x) = 1/2 for x = 1.
        // Layer 1: RNN tanh H = 1, W_ih = L, W_hh = 0 → h1 = tanh(L · 1/2) = tanh(L/2) = 1/2.
        // Head: y = 4·h1 − 1 = 1.
        ModelSpec spec = Build(
            T("rnn.weight_ih_l0", [1, 1], Ln3 / 2),
            T("rnn.weight_hh_l0", [1, 1], 0f),
            T("rnn.weight_ih_l1", [1, 1], Ln3),
            T("rnn.weight_hh_l1", [1, 1], 0f),
            T("fc.weight", [1, 1], 4f),
            T("fc.bias", [1], -1f));
        var engine = new ReferenceEngine(spec);
        var y = new float[1];
        engine.Step([1f], y);
        Assert.Equal(1.0, y[0], Tolerance);
    }
}
