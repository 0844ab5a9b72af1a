using System.Runtime.Intrinsics;
using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;
using Xunit.Abstractions;
using static RnnEmbedded.Tests.Kernels.KernelTestSupport;

namespace RnnEmbedded.Tests.Kernels;

public sealed class ActivationsTests
{
    // Bounds asserted against double-precision Math. The documented contract is 1e-6 absolute for sigmoid and
    // tanh; these are tighter (about 2× the values measured on Zen 4, docs/kernels.md) so a regression shows.
    private const double SigmoidAbsTolerance = 2e-7;         // measured 8.9e-8
    private const double TanhAbsTolerance = 2e-7;            // measured 8.9e-8
    private const double ExpRelTolerance = 2.5e-7;           // on [-87, 88], measured 1.17e-7
    private const double TanhSmallRelTolerance = 2.5e-7;     // 1e-30 ≤ |x| < 1, measured 1.32e-7
    private const double SigmoidNegativeRelTolerance = 4e-7; // x in [-80, 0], measured 2.0e-7: e^x/(1+e^x) stays relative

    private const int SweepSteps = 800_000; // [-20, 20] in steps of 5e-5

    private readonly ITestOutputHelper _output;

    public ActivationsTests(ITestOutputHelper output) => _output = output;

    private static float[] SweepInputs()
    {
        var extremes = new List<float>
        {
            0f, -0f, float.Epsilon, -float.Epsilon, 1e-30f, -1e-30f, 1e-7f, -1e-7f, 0.625f, -0.625f, 0.62499997f, -0.62499997f,
            30f, -30f, 50f, -50f, 87f, -87f, 88.5f, -88.5f, 89f, -89f, 100f, -100f, 1e4f, -1e4f, 1e30f, -1e30f,
            float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity,
        };
        var inputs = new float[SweepSteps + 1 + extremes.Count];
        for (int i = 0; i <= SweepSteps; i++)
        {
            inputs[i] = (float)(-20.0 + (40.0 * i / SweepSteps));
        }

        extremes.CopyTo(inputs, SweepSteps + 1);
        return inputs;
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void Sigmoid_WithinAbsoluteBound_OverDenseSweepAndExtremes(VectorWidth width)
    {
        float[] x = SweepInputs();
        var y = new float[x.Length];
        Activations.Sigmoid(x, y, width);
        double max = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double expected = float.IsPositiveInfinity(x[i]) ? 1.0 : float.IsNegativeInfinity(x[i]) ? 0.0 : Sigmoid(x[i]);
            Assert.False(float.IsNaN(y[i]), $"sigmoid({x[i]}) is NaN");
            max = Math.Max(max, Math.Abs(y[i] - expected));
        }

        _output.WriteLine($"{width}: max |sigmoid - σ| = {max:E3}");
        Assert.True(max <= SigmoidAbsTolerance, $"{width}: max abs error {max:E3} > {SigmoidAbsTolerance:E1}");
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void Sigmoid_KeepsRelativeAccuracy_ForNegativeInputs(VectorWidth width)
    {
        var x = new float[160_001];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(-80.0 * i / (x.Length - 1));
        }

        var y = new float[x.Length];
        Activations.Sigmoid(x, y, width);
        double max = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double expected = Sigmoid(x[i]);
            max = Math.Max(max, Math.Abs(y[i] - expected) / expected);
        }

        _output.WriteLine($"{width}: max relative error of sigmoid on [-80, 0] = {max:E3}");
        Assert.True(max <= SigmoidNegativeRelTolerance, $"{width}: max relative error {max:E3}");
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void Tanh_WithinAbsoluteBound_OverDenseSweepAndExtremes(VectorWidth width)
    {
        float[] x = SweepInputs();
        var y = new float[x.Length];
        Activations.Tanh(x, y, width);
        double max = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double expected = Math.Tanh(x[i]);
            Assert.False(float.IsNaN(y[i]), $"tanh({x[i]}) is NaN");
            max = Math.Max(max, Math.Abs(y[i] - expected));
        }

        _output.WriteLine($"{width}: max |tanh - tanh| = {max:E3}");
        Assert.True(max <= TanhAbsTolerance, $"{width}: max abs error {max:E3} > {TanhAbsTolerance:E1}");
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void Tanh_KeepsRelativeAccuracy_NearZero(VectorWidth width)
    {
        var x = new List<float>();
        for (double v = 1e-30; v < 1.0; v *= 1.001)
        {
            x.Add((float)v);
            x.Add((float)-v);
        }

        var y = new float[x.Count];
        Activations.Tanh(x.ToArray(), y, width);
        double max = 0;
        for (int i = 0; i < y.Length; i++)
        {
            double expected = Math.Tanh(x[i]);
            max = Math.Max(max, Math.Abs(y[i] - expected) / Math.Abs(expected));
        }

        _output.WriteLine($"{width}: max relative error of tanh on 1e-30 ≤ |x| < 1 = {max:E3}");
        Assert.True(max <= TanhSmallRelTolerance, $"{width}: max relative error {max:E3}");
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void Exp_WithinRelativeBound_OnUnclampedRange_AndFiniteOutside(VectorWidth width)
    {
        var x = new float[400_001];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(-87.0 + (175.0 * i / (x.Length - 1))); // [-87, 88]
        }

        var y = new float[x.Length];
        Activations.Exp(x, y, width);
        double max = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double expected = Math.Exp(x[i]);
            max = Math.Max(max, Math.Abs(y[i] - expected) / expected);
        }

        _output.WriteLine($"{width}: max relative error of exp on [-87, 88] = {max:E3}");
        Assert.True(max <= ExpRelTolerance, $"{width}: max relative error {max:E3}");

        float[] outside = [89f, 1000f, float.MaxValue, float.PositiveInfinity, -88f, -1000f, float.MinValue, float.NegativeInfinity];
        var clamped = new float[outside.Length];
        Activations.Exp(outside, clamped, width);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(float.IsFinite(clamped[i]) && clamped[i] > 2.4e38f, $"exp({outside[i]}) = {clamped[i]}: expected the clamp exp(88.376) ≈ 2.406e38");
        }

        for (int i = 4; i < 8; i++)
        {
            Assert.True(clamped[i] >= 0f && clamped[i] < 1.2e-38f, $"exp({outside[i]}) = {clamped[i]}: expected a tiny non-negative value");
        }
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void Relu_IsMaxWithZero(VectorWidth width)
    {
        float[] x = Uniform(new Random(7), 1000, -5f, 5f);
        var y = new float[x.Length];
        Activations.Relu(x, y, width);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(x[i] > 0 ? x[i] : 0f, y[i]);
        }
    }

    public static TheoryData<VectorWidth, ActivationKind> WidthsAndKinds()
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
    [MemberData(nameof(WidthsAndKinds))]
    public void Apply_EveryLength_MatchesReference_InPlaceEqualsOutOfPlace_AndStaysInBounds(VectorWidth width, ActivationKind kind)
    {
        var random = new Random(1234);
        Func<double, double> reference = kind switch
        {
            ActivationKind.Tanh => Math.Tanh,
            ActivationKind.Sigmoid => Sigmoid,
            _ => v => Math.Max(v, 0.0),
        };
        foreach (int n in PointwiseLengths())
        {
            float[] x = Uniform(random, n, -9f, 9f);
            var source = new Guarded(x);
            var destination = new Guarded(n);
            Activations.Apply(kind, source.Span, destination.Span, width);
            var inPlace = new Guarded(x);
            Activations.Apply(kind, inPlace.Span, width);

            source.AssertGuardsIntact("source");
            destination.AssertGuardsIntact($"{kind} n={n} destination");
            inPlace.AssertGuardsIntact($"{kind} n={n} in place");
            Assert.Equal(x, source.ToArray()); // the source is not written
            float[] outOfPlace = destination.ToArray();
            Assert.Equal(outOfPlace, inPlace.ToArray());
            for (int i = 0; i < n; i++)
            {
                double error = Math.Abs(outOfPlace[i] - reference(x[i]));
                Assert.True(error <= 1e-6, $"{kind} {width} n={n} i={i}: f({x[i]}) = {outOfPlace[i]}, error {error:E2}");
            }
        }
    }

    [Fact]
    public void VectorOverloads_MatchScalarOverloads_LaneByLane()
    {
        float[] x = Uniform(new Random(99), 64, -12f, 12f);
        x[0] = 0.3f;
        x[1] = -0.3f; // inside the tanh polynomial branch
        var s128 = Vector128.Create(x.AsSpan(0, 4));
        var s256 = Vector256.Create(x.AsSpan(0, 8));
        var s512 = Vector512.Create(x.AsSpan(0, 16));
        for (int i = 0; i < 16; i++)
        {
            float s = Activations.Sigmoid(x[i]);
            float t = Activations.Tanh(x[i]);
            float e = Activations.Exp(x[i]);
            float r = Activations.Relu(x[i]);
            AssertClose(s, Activations.Sigmoid(s512)[i]);
            AssertClose(t, Activations.Tanh(s512)[i]);
            AssertClose(e, Activations.Exp(s512)[i]);
            Assert.Equal(r, Activations.Relu(s512)[i]);
            if (i < 8)
            {
                AssertClose(s, Activations.Sigmoid(s256)[i]);
                AssertClose(t, Activations.Tanh(s256)[i]);
                AssertClose(e, Activations.Exp(s256)[i]);
                Assert.Equal(r, Activations.Relu(s256)[i]);
            }

            if (i < 4)
            {
                AssertClose(s, Activations.Sigmoid(s128)[i]);
                AssertClose(t, Activations.Tanh(s128)[i]);
                AssertClose(e, Activations.Exp(s128)[i]);
                Assert.Equal(r, Activations.Relu(s128)[i]);
            }

            Assert.True(Math.Abs(s - Sigmoid(x[i])) <= SigmoidAbsTolerance);
            Assert.True(Math.Abs(t - Math.Tanh(x[i])) <= TanhAbsTolerance);
        }

        // FMA and multiply-add may differ by an ulp or two between scalar and vector code.
        static void AssertClose(float expected, float actual) =>
            Assert.True(Math.Abs(expected - actual) <= 4 * MathF.BitIncrement(Math.Abs(expected)) - (4 * Math.Abs(expected)) + 1e-30,
                $"expected {expected}, got {actual}");
    }

    [Fact]
    public void Apply_RejectsLengthMismatch_NamingDestination()
    {
        var e = Assert.Throws<ArgumentException>(() => Activations.Sigmoid(new float[5], new float[4], VectorWidth.V128));
        Assert.Equal("destination", e.ParamName);
        Assert.Contains("must equal source length 5", e.Message);
    }

    [Fact]
    public void Apply_RejectsPartialOverlap_ButAllowsExactInPlace()
    {
        var buffer = new float[40];
        var e = Assert.Throws<ArgumentException>(() => Activations.Tanh(buffer.AsSpan(0, 32), buffer.AsSpan(1, 32), VectorWidth.V256));
        Assert.Equal("destination", e.ParamName);
        Activations.Tanh(buffer.AsSpan(0, 32), buffer.AsSpan(0, 32), VectorWidth.V256); // same memory: allowed
    }

    [Fact]
    public void Apply_RejectsUndefinedWidthAndActivation()
    {
        var w = Assert.Throws<ArgumentOutOfRangeException>(() => Activations.Sigmoid(new float[4], (VectorWidth)100));
        Assert.Equal("width", w.ParamName);
        var a = Assert.Throws<ArgumentOutOfRangeException>(() => Activations.Apply((ActivationKind)9, new float[4], VectorWidth.V128));
        Assert.Equal("activation", a.ParamName);
    }
}
