using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;
using static RnnEmbedded.Tests.Kernels.KernelTestSupport;

namespace RnnEmbedded.Tests.Kernels;

/// <summary>
/// The clipped cell kernels (<see cref="GateClip"/>) against a double-precision reference of the clipped equations
/// (docs/model-format.md, "Clipping"), at every width and every length 0..256 plus a large one (the pooled scratch path),
/// with pre-activations in [−4, 4] and bounds that clip most of them.
/// </summary>
public class GateClipTests
{
    private const double Tolerance = 6e-7;
    private const float Bound = 0.75f;

    private static double C(double x) => Math.Max(-Bound, Math.Min(Bound, x));

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void Lstm_EveryVariant_MatchesClippedReference(VectorWidth width)
    {
        var random = new Random(51);
        var clip = new GateClip(Bound);
        foreach (int n in PointwiseLengths())
        {
            foreach ((bool peephole, bool cifg) in new[] { (false, false), (true, false), (false, true), (true, true) })
            {
                int blocks = cifg ? 3 : 4;
                float[] gates = Uniform(random, blocks * n, -4f, 4f);
                float[] p = Uniform(random, 3 * n, -2f, 2f);
                float[] c0 = Uniform(random, n, -2f, 2f);
                float[] c = (float[])c0.Clone();
                var h = new float[n];
                switch (peephole, cifg)
                {
                    case (false, false): clip.Lstm(gates, c, h, width); break;
                    case (true, false): clip.LstmPeephole(gates, p, c, h, width); break;
                    case (false, true): clip.LstmCifg(gates, c, h, width); break;
                    default: clip.LstmCifgPeephole(gates, p, c, h, width); break;
                }

                int gBlock = cifg ? n : 2 * n, oBlock = cifg ? 2 * n : 3 * n;
                for (int k = 0; k < n; k++)
                {
                    double pi = peephole ? p[k] * (double)c0[k] : 0, pf = peephole ? p[n + k] * (double)c0[k] : 0;
                    double i = Sigmoid(C(gates[k] + pi));
                    double f = cifg ? 1 - i : Sigmoid(C(gates[n + k] + pf));
                    double g = Math.Tanh(C(gates[gBlock + k]));
                    double cNew = (f * c0[k]) + (i * g);
                    double o = Sigmoid(C(gates[oBlock + k] + (peephole ? p[(2 * n) + k] * cNew : 0)));
                    double hNew = o * Math.Tanh(cNew);
                    Assert.True(Math.Abs(c[k] - cNew) <= Tolerance, $"{width} n={n} peephole={peephole} cifg={cifg} k={k}: c' = {c[k]}, expected {cNew}");
                    Assert.True(Math.Abs(h[k] - hNew) <= Tolerance, $"{width} n={n} peephole={peephole} cifg={cifg} k={k}: h' = {h[k]}, expected {hNew}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void Gru_BothForms_MatchClippedReference(VectorWidth width)
    {
        var random = new Random(52);
        var clip = new GateClip(Bound);
        foreach (int n in PointwiseLengths())
        {
            float[] gi = Uniform(random, 3 * n, -4f, 4f);
            float[] gh = Uniform(random, 3 * n, -4f, 4f);
            float[] h0 = Uniform(random, n, -1f, 1f);

            // Reset after: one call.
            float[] h = (float[])h0.Clone();
            clip.GruResetAfter(gi, gh, h, width);

            // Reset before: gates, then (as the generated code does) nPre = gi_n + W_hn (r⊙h), here gi_n + gh_n ⊙ (r⊙h).
            var z = new float[n];
            var rh = new float[n];
            clip.GruResetBeforeGates(gi, gh, h0, z, rh, width);
            var nPre = new float[n];
            for (int k = 0; k < n; k++)
            {
                nPre[k] = gi[(2 * n) + k] + (gh[(2 * n) + k] * rh[k]);
            }

            float[] hb = (float[])h0.Clone();
            clip.GruCombine(nPre, z, hb, width);
            for (int k = 0; k < n; k++)
            {
                double r = Sigmoid(C(gi[k] + (double)gh[k]));
                double zz = Sigmoid(C(gi[n + k] + (double)gh[n + k]));
                double after = Math.Tanh(C(gi[(2 * n) + k] + (r * gh[(2 * n) + k])));
                double expected = ((1 - zz) * after) + (zz * h0[k]);
                Assert.True(Math.Abs(h[k] - expected) <= Tolerance, $"{width} n={n} k={k}: reset-after h' = {h[k]}, expected {expected}");
                Assert.True(Math.Abs(z[k] - zz) <= Tolerance, $"{width} n={n} k={k}: z = {z[k]}, expected {zz}");
                Assert.True(Math.Abs(rh[k] - (r * h0[k])) <= Tolerance, $"{width} n={n} k={k}: r⊙h = {rh[k]}, expected {r * h0[k]}");
                double before = Math.Tanh(C(nPre[k]));
                double expectedBefore = ((1 - z[k]) * before) + (z[k] * h0[k]);
                Assert.True(Math.Abs(hb[k] - expectedBefore) <= Tolerance, $"{width} n={n} k={k}: reset-before h' = {hb[k]}, expected {expectedBefore}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void Rnn_EveryActivation_MatchesClippedReference(VectorWidth width)
    {
        var random = new Random(53);
        var clip = new GateClip(Bound);
        foreach (int n in PointwiseLengths())
        {
            float[] pre = Uniform(random, n, -4f, 4f);
            var relu = new float[n];
            var tanh = new float[n];
            var sigmoid = new float[n];
            clip.Relu(pre, relu, width);
            clip.Tanh(pre, tanh, width);
            clip.Sigmoid(pre, sigmoid, width);
            for (int k = 0; k < n; k++)
            {
                Assert.True(Math.Abs(relu[k] - Math.Max(0, C(pre[k]))) <= Tolerance, $"{width} n={n} k={k}: relu {relu[k]}");
                Assert.True(Math.Abs(tanh[k] - Math.Tanh(C(pre[k]))) <= Tolerance, $"{width} n={n} k={k}: tanh {tanh[k]}");
                Assert.True(Math.Abs(sigmoid[k] - Sigmoid(C(pre[k]))) <= Tolerance, $"{width} n={n} k={k}: sigmoid {sigmoid[k]}");
            }
        }
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Constructor_RejectsABoundThatIsNotPositiveAndFinite(float bound) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new GateClip(bound));

    [Fact]
    public void Lstm_RejectsAWrongGateLength_NamingTheArgument()
    {
        var e = Assert.Throws<ArgumentException>(() => new GateClip(1f).Lstm(new float[7], new float[2], new float[2], VectorWidth.Scalar));
        Assert.Equal("gates", e.ParamName);
    }
    /// <summary>
    /// The clamp itself, bit for bit: the clipped tanh of special values (NaN, ±0, the bounds and their neighbours,
    /// infinities) equals <see cref="Activations.Tanh(Span{float}, VectorWidth)"/> of the scalar rule's clamp at every
    /// length 0..67 (vector body and tail), so NaN passes through the clamp and −0 keeps its sign as before.
    /// </summary>
    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void Clamp_SpecialValues_EveryLength_KeepsScalarBits(VectorWidth width)
    {
        float above = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(Bound) + 1);
        float[] special = [float.NaN, 0f, -0f, Bound, -Bound, above, -above, float.PositiveInfinity, float.NegativeInfinity, 0.5f, 1e-30f, 3f, -3f];
        var clip = new GateClip(Bound);
        for (int n = 0; n < 68; n++)
        {
            var x = new float[n];
            var expected = new float[n];
            for (int k = 0; k < n; k++)
            {
                x[k] = special[((k * 7) + n) % special.Length];
                expected[k] = x[k] > Bound ? Bound : x[k] < -Bound ? -Bound : x[k];
            }

            Activations.Tanh(expected, width);
            var h = new float[n];
            clip.Tanh(x, h, width);
            for (int k = 0; k < n; k++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(expected[k]) == BitConverter.SingleToInt32Bits(h[k]),
                    $"{width} n={n} k={k}: clipped tanh of {x[k]} = {h[k]}, expected {expected[k]}");
            }
        }
    }
}
