using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;
using Xunit.Abstractions;
using static RnnEmbedded.Tests.Kernels.KernelTestSupport;

namespace RnnEmbedded.Tests.Kernels;

public sealed class CellKernelsTests
{
    // Absolute error of a cell output vs the double-precision equations, inputs as generated below
    // (preactivations in [-4, 4], state in [-2, 2], peepholes in [-0.5, 0.5]). Measured maxima are in docs/kernels.md.
    private const double CellTolerance = 6e-7; // measured max 3.1e-7 (LSTM with peepholes)

    private readonly ITestOutputHelper _output;

    public CellKernelsTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<VectorWidth, bool, bool> LstmCases()
    {
        var data = new TheoryData<VectorWidth, bool, bool>();
        foreach (VectorWidth w in SupportedWidths())
        {
            data.Add(w, false, false);
            data.Add(w, true, false);
            data.Add(w, false, true);
            data.Add(w, true, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(LstmCases))]
    public void Lstm_EveryVariantAndLength_MatchesDoubleReference(VectorWidth width, bool peephole, bool cifg)
    {
        var random = new Random(31 + (peephole ? 1 : 0) + (cifg ? 2 : 0));
        double max = 0;
        foreach (int n in PointwiseLengths())
        {
            int gateCount = cifg ? 3 : 4;
            float[] gates = Uniform(random, gateCount * n, -4f, 4f);
            float[] peep = peephole ? Uniform(random, 3 * n, -0.5f, 0.5f) : [];
            float[] c0 = Uniform(random, n, -2f, 2f);
            var c = new Guarded(c0);
            var h = new Guarded(n);
            var g = new Guarded(gates);

            // Each variant through the entry point named for it.
            switch ((peephole, cifg))
            {
                case (false, false):
                    CellKernels.Lstm(g.Span, c.Span, h.Span, width);
                    break;
                case (false, true):
                    CellKernels.LstmCifg(g.Span, c.Span, h.Span, width);
                    break;
                case (true, false):
                    CellKernels.LstmPeephole(g.Span, peep, c.Span, h.Span, width);
                    break;
                default:
                    CellKernels.LstmCifgPeephole(g.Span, peep, c.Span, h.Span, width);
                    break;
            }

            c.AssertGuardsIntact($"c n={n}");
            h.AssertGuardsIntact($"h n={n}");
            g.AssertGuardsIntact($"gates n={n}");
            Assert.Equal(gates, g.ToArray());
            float[] cOut = c.ToArray();
            float[] hOut = h.ToArray();
            for (int k = 0; k < n; k++)
            {
                double pi = peephole ? peep[k] : 0, pf = peephole ? peep[n + k] : 0, po = peephole ? peep[(2 * n) + k] : 0;
                double cOld = c0[k];
                double i = Sigmoid(gates[k] + (pi * cOld));
                double f = cifg ? 1 - i : Sigmoid(gates[n + k] + (pf * cOld));
                double gg = Math.Tanh(gates[((cifg ? 1 : 2) * n) + k]);
                double cNew = (f * cOld) + (i * gg);
                double o = Sigmoid(gates[((cifg ? 2 : 3) * n) + k] + (po * cNew));
                double hNew = o * Math.Tanh(cNew);
                max = Math.Max(max, Math.Max(Math.Abs(cOut[k] - cNew), Math.Abs(hOut[k] - hNew)));
                Assert.True(Math.Abs(cOut[k] - cNew) <= CellTolerance, $"n={n} k={k}: c' = {cOut[k]}, expected {cNew}");
                Assert.True(Math.Abs(hOut[k] - hNew) <= CellTolerance, $"n={n} k={k}: h' = {hOut[k]}, expected {hNew}");
            }
        }

        _output.WriteLine($"{width} peephole={peephole} cifg={cifg}: max abs error {max:E3}");
    }

    [Theory]
    [MemberData(nameof(LstmCases))]
    public void Lstm_TwoVectorsSideBySide_SameBitsAsOneVectorAtATime(VectorWidth width, bool peephole, bool cifg)
    {
        // Long cells run two vectors side by side (docs/kernels.md); a cell exactly one vector long takes the
        // one-vector path. Every lane must get the same bits both ways, extreme and NaN preactivations included.
        int lanes = width == VectorWidth.Scalar ? 1 : (int)width / 32;
        int n = (9 * lanes) + 3; // four pairs of vectors, one single vector, the overlapped tail
        int gateCount = cifg ? 3 : 4;
        var random = new Random(71 + (peephole ? 1 : 0) + (cifg ? 2 : 0));
        float[] gates = Uniform(random, gateCount * n, -12f, 12f);
        gates[5] = float.NaN;
        gates[n + 6] = 95f;
        gates[n + 7] = -95f;
        gates[(2 * n) + 8] = float.PositiveInfinity;
        float[] peep = peephole ? Uniform(random, 3 * n, -0.5f, 0.5f) : [];
        float[] c0 = Uniform(random, n, -3f, 3f);
        float[] c = (float[])c0.Clone();
        float[] h = new float[n];
        Run(gates, peep, c, h);

        for (int start = 0; start < n; start += lanes)
        {
            int k0 = Math.Min(start, n - lanes);
            float[] g1 = new float[gateCount * lanes];
            float[] p1 = peephole ? new float[3 * lanes] : [];
            for (int block = 0; block < gateCount; block++)
            {
                Array.Copy(gates, (block * n) + k0, g1, block * lanes, lanes);
            }

            for (int block = 0; block < p1.Length / Math.Max(lanes, 1); block++)
            {
                Array.Copy(peep, (block * n) + k0, p1, block * lanes, lanes);
            }

            float[] c1 = c0.AsSpan(k0, lanes).ToArray();
            float[] h1 = new float[lanes];
            Run(g1, p1, c1, h1);
            for (int k = 0; k < lanes; k++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(c1[k]), BitConverter.SingleToInt32Bits(c[k0 + k]));
                Assert.Equal(BitConverter.SingleToInt32Bits(h1[k]), BitConverter.SingleToInt32Bits(h[k0 + k]));
            }
        }

        void Run(float[] g, float[] p, float[] cc, float[] hh)
        {
            switch ((peephole, cifg))
            {
                case (false, false):
                    CellKernels.Lstm(g, cc, hh, width);
                    break;
                case (false, true):
                    CellKernels.LstmCifg(g, cc, hh, width);
                    break;
                case (true, false):
                    CellKernels.LstmPeephole(g, p, cc, hh, width);
                    break;
                default:
                    CellKernels.LstmCifgPeephole(g, p, cc, hh, width);
                    break;
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void GruResetAfter_EveryLength_MatchesDoubleReference(VectorWidth width)
    {
        var random = new Random(41);
        double max = 0;
        foreach (int n in PointwiseLengths())
        {
            float[] gi = Uniform(random, 3 * n, -4f, 4f);
            float[] gh = Uniform(random, 3 * n, -4f, 4f);
            float[] h0 = Uniform(random, n, -1f, 1f);
            var h = new Guarded(h0);
            CellKernels.GruResetAfter(gi, gh, h.Span, width);
            h.AssertGuardsIntact($"h n={n}");
            float[] hOut = h.ToArray();
            for (int k = 0; k < n; k++)
            {
                double r = Sigmoid(gi[k] + (double)gh[k]);
                double z = Sigmoid(gi[n + k] + (double)gh[n + k]);
                double cand = Math.Tanh(gi[(2 * n) + k] + (r * gh[(2 * n) + k]));
                double expected = ((1 - z) * cand) + (z * h0[k]);
                max = Math.Max(max, Math.Abs(hOut[k] - expected));
                Assert.True(Math.Abs(hOut[k] - expected) <= CellTolerance, $"n={n} k={k}: h' = {hOut[k]}, expected {expected}");
            }
        }

        _output.WriteLine($"{width}: GRU reset-after max abs error {max:E3}");
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void GruResetBeforeGates_EveryLength_MatchesDoubleReference(VectorWidth width)
    {
        var random = new Random(43);
        foreach (int n in PointwiseLengths())
        {
            int giBlocks = (n & 1) == 0 ? 3 : 2; // both accepted shapes
            float[] gi = Uniform(random, giBlocks * n, -4f, 4f);
            float[] gh = Uniform(random, 2 * n, -4f, 4f);
            float[] h = Uniform(random, n, -1f, 1f);
            var z = new Guarded(n);
            var rh = new Guarded(n);
            CellKernels.GruResetBeforeGates(gi, gh, h, z.Span, rh.Span, width);
            z.AssertGuardsIntact($"z n={n}");
            rh.AssertGuardsIntact($"rh n={n}");
            float[] zOut = z.ToArray();
            float[] rhOut = rh.ToArray();
            for (int k = 0; k < n; k++)
            {
                double r = Sigmoid(gi[k] + (double)gh[k]);
                double zz = Sigmoid(gi[n + k] + (double)gh[n + k]);
                Assert.True(Math.Abs(zOut[k] - zz) <= CellTolerance, $"n={n} k={k}: z = {zOut[k]}, expected {zz}");
                Assert.True(Math.Abs(rhOut[k] - (r * h[k])) <= CellTolerance, $"n={n} k={k}: r⊙h = {rhOut[k]}, expected {r * h[k]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void GruCombine_EveryLength_MatchesDoubleReference(VectorWidth width)
    {
        var random = new Random(47);
        foreach (int n in PointwiseLengths())
        {
            float[] nPre = Uniform(random, n, -4f, 4f);
            float[] z = Uniform(random, n, 0f, 1f);
            float[] h0 = Uniform(random, n, -1f, 1f);
            var h = new Guarded(h0);
            CellKernels.GruCombine(nPre, z, h.Span, width);
            h.AssertGuardsIntact($"h n={n}");
            float[] hOut = h.ToArray();
            for (int k = 0; k < n; k++)
            {
                double expected = ((1 - z[k]) * Math.Tanh(nPre[k])) + (z[k] * h0[k]);
                Assert.True(Math.Abs(hOut[k] - expected) <= CellTolerance, $"n={n} k={k}: h' = {hOut[k]}, expected {expected}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void GruResetBefore_ComposedWithGemv_MatchesChoEquations(VectorWidth width)
    {
        // n = tanh(W_in x + b_in + W_hn (r⊙h) + b_hn): gi_n already holds W_in x + b_in + b_hn here.
        const int H = 37;
        var random = new Random(53);
        float[] gi = Uniform(random, 3 * H, -2f, 2f);
        float[] gh = Uniform(random, 2 * H, -2f, 2f);
        float[] h0 = Uniform(random, H, -1f, 1f);
        float[] whn = Uniform(random, H * H, -0.3f, 0.3f);
        float[] packed = PanelPacking.Pack(whn, H, H);

        var z = new float[H];
        var rh = new float[H];
        float[] h = (float[])h0.Clone();
        CellKernels.GruResetBeforeGates(gi, gh, h, z, rh, width);
        var nPre = new float[PanelPacking.PaddedRows(H)];
        gi.AsSpan(2 * H, H).CopyTo(nPre);
        PackedGemv.MultiplyAdd(packed, rh, nPre, width);
        CellKernels.GruCombine(nPre.AsSpan(0, H), z, h, width);

        for (int k = 0; k < H; k++)
        {
            double pre = gi[(2 * H) + k];
            for (int j = 0; j < H; j++)
            {
                pre += whn[(k * H) + j] * Sigmoid(gi[j] + (double)gh[j]) * h0[j];
            }

            double zz = Sigmoid(gi[H + k] + (double)gh[H + k]);
            double expected = ((1 - zz) * Math.Tanh(pre)) + (zz * h0[k]);
            Assert.True(Math.Abs(h[k] - expected) <= 4 * CellTolerance, $"k={k}: h' = {h[k]}, expected {expected}");
        }
    }

    public static TheoryData<VectorWidth, ActivationKind> RnnCases()
    {
        var data = new TheoryData<VectorWidth, ActivationKind>();
        foreach (VectorWidth w in SupportedWidths())
        {
            foreach (ActivationKind k in Enum.GetValues<ActivationKind>())
            {
                data.Add(w, k);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RnnCases))]
    public void Rnn_InPlaceAndOutOfPlace_MatchActivation(VectorWidth width, ActivationKind activation)
    {
        var random = new Random(59);
        foreach (int n in PointwiseLengths())
        {
            float[] pre = Uniform(random, n, -5f, 5f);
            var values = new Guarded(pre);
            CellKernels.Rnn(values.Span, activation, width);
            var h = new Guarded(n);
            CellKernels.Rnn(pre, h.Span, activation, width);
            values.AssertGuardsIntact($"values n={n}");
            h.AssertGuardsIntact($"h n={n}");
            Assert.Equal(values.ToArray(), h.ToArray());
            for (int k = 0; k < n; k++)
            {
                double expected = activation switch
                {
                    ActivationKind.Tanh => Math.Tanh(pre[k]),
                    ActivationKind.Sigmoid => Sigmoid(pre[k]),
                    _ => Math.Max(pre[k], 0.0),
                };
                Assert.True(Math.Abs(h.Span[k] - expected) <= CellTolerance, $"n={n} k={k}: {h.Span[k]} vs {expected}");
            }
        }
    }

    [Fact]
    public void Lstm_RejectsWrongGateLength_NamingGates()
    {
        var e = Assert.Throws<ArgumentException>(() => CellKernels.Lstm(new float[15], new float[4], new float[4], VectorWidth.V128));
        Assert.Equal("gates", e.ParamName);
        Assert.Contains("4·H = 16", e.Message);
        e = Assert.Throws<ArgumentException>(() => CellKernels.LstmCifgPeephole(new float[16], new float[12], new float[4], new float[4], VectorWidth.V128));
        Assert.Equal("gates", e.ParamName);
        Assert.Contains("3·H = 12", e.Message);
    }

    [Fact]
    public void LstmPeephole_RejectsWrongPeepholeLength_NamingPeepholes()
    {
        var e = Assert.Throws<ArgumentException>(() => CellKernels.LstmPeephole(new float[16], new float[8], new float[4], new float[4], VectorWidth.V256));
        Assert.Equal("peepholes", e.ParamName);
    }

    [Fact]
    public void Lstm_RejectsHMismatchAndOverlap()
    {
        var e = Assert.Throws<ArgumentException>(() => CellKernels.Lstm(new float[16], new float[4], new float[5], VectorWidth.V128));
        Assert.Equal("h", e.ParamName);
        var buffer = new float[24];
        e = Assert.Throws<ArgumentException>(() => CellKernels.Lstm(buffer.AsSpan(0, 16), buffer.AsSpan(12, 4), new float[4], VectorWidth.V128));
        Assert.Equal("c", e.ParamName);
        Assert.Contains("must not overlap gates", e.Message);
        e = Assert.Throws<ArgumentException>(() => CellKernels.Lstm(new float[16], buffer.AsSpan(0, 4), buffer.AsSpan(2, 4), VectorWidth.V128));
        Assert.Equal("h", e.ParamName);
    }

    [Fact]
    public void Gru_RejectsWrongLengthsAndOverlap()
    {
        var e = Assert.Throws<ArgumentException>(() => CellKernels.GruResetAfter(new float[12], new float[11], new float[4], VectorWidth.V128));
        Assert.Equal("gh", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => CellKernels.GruResetBeforeGates(new float[4], new float[8], new float[4], new float[4], new float[4], VectorWidth.V128));
        Assert.Equal("gi", e.ParamName);
        var buffer = new float[16];
        e = Assert.Throws<ArgumentException>(() => CellKernels.GruResetBeforeGates(new float[8], new float[8], buffer.AsSpan(0, 4), buffer.AsSpan(0, 4), new float[4], VectorWidth.V128));
        Assert.Equal("z", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => CellKernels.GruCombine(new float[3], new float[4], new float[4], VectorWidth.V128));
        Assert.Equal("nPre", e.ParamName);
    }
}
