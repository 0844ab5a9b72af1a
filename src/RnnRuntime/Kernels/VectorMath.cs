using System.Runtime.CompilerServices;

namespace RnnEmbedded.Runtime.CompilerServices;

/// <summary>
/// exp, sigmoid, tanh and relu written once over <see cref="ISimdOps{TV}"/> (scalar and every vector width run the
/// same algorithm). Ported from Cephes (Stephen L. Moshier) <c>expf.c</c> and <c>tanhf.c</c>: the constants are
/// Cephes' single-precision ones. Accuracy against double-precision Math is measured in docs/kernels.md and
/// asserted by ActivationsTests.
/// </summary>
internal static class VectorMath
{
    // exp clamps its input to [ExpMin, ExpMax] so 2^n never overflows the exponent field (Cephes MAXLOGF/MINLOGF).
    // Above: the largest x whose result stays finite after rounding n = round(x·log2 e) to 128 with e^r < 1.
    // Below: ln(2^-126); results under 2^-126 are approximate (absolute error below 1.2e-38), never negative.
    internal const float ExpMax = 88.3762626647949f;
    internal const float ExpMin = -87.3365447504f;

    private const float Log2E = 1.44269504088896341f;

    // 1.5·2^23: adding it rounds a float in (−2^22, 2^22) to an integer that sits in the low mantissa bits.
    private const float RoundMagic = 12582912f;

    // ln 2 split so n·Ln2Hi is exact for |n| ≤ 2^14 (Cody–Waite reduction, Cephes C1/C2).
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;

    // e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln2/2 (Cephes expf.c).
    private const float ExpP0 = 1.9875691500e-4f;
    private const float ExpP1 = 1.3981999507e-3f;
    private const float ExpP2 = 8.3334519073e-3f;
    private const float ExpP3 = 4.1665795894e-2f;
    private const float ExpP4 = 1.6666665459e-1f;
    private const float ExpP5 = 5.0000001201e-1f;

    // tanh x ≈ x + x³·Q(x²) on |x| < 0.625 (Cephes tanhf.c); beyond it (1 − e)/(1 + e), e = exp(−2|x|), has no cancellation.
    private const float TanhSmall = 0.625f;
    private const float TanhQ0 = -5.70498872745e-3f;
    private const float TanhQ1 = 2.06390887954e-2f;
    private const float TanhQ2 = -5.37397155531e-2f;
    private const float TanhQ3 = 1.33314422036e-1f;
    private const float TanhQ4 = -3.33332819422e-1f;

    /// <summary>e^x: x = n·ln2 + r, e^r by polynomial, scaled by 2^n through the exponent bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<TOps, TV>(TV x)
        where TOps : ISimdOps<TV>
        where TV : struct => ExpClamped<TOps, TV>(TOps.Clamp(x, TOps.Create(ExpMin), TOps.Create(ExpMax)));

    /// <summary>
    /// <see cref="Exp"/> of an x ≤ 0 or NaN (sigmoid and tanh pass −|x|): the same bits, without the upper clamp,
    /// which leaves such an x unchanged (a NaN stays NaN through the lower one, see <see cref="ISimdOps{TV}.Clamp"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV ExpNonPositive<TOps, TV>(TV x)
        where TOps : ISimdOps<TV>
        where TV : struct => ExpClamped<TOps, TV>(TOps.ClampBelow(x, TOps.Create(ExpMin)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV ExpClamped<TOps, TV>(TV x)
        where TOps : ISimdOps<TV>
        where TV : struct
    {
        TV t = TOps.Add(TOps.Multiply(x, TOps.Create(Log2E)), TOps.Create(RoundMagic)); // low bits hold n
        TV n = TOps.Subtract(t, TOps.Create(RoundMagic));                                 // n = round(x·log2 e)
        TV r = TOps.Subtract(TOps.Subtract(x, TOps.Multiply(n, TOps.Create(Ln2Hi))), TOps.Multiply(n, TOps.Create(Ln2Lo)));

        TV p = TOps.MultiplyAdd(TOps.Create(ExpP0), r, TOps.Create(ExpP1));
        p = TOps.MultiplyAdd(p, r, TOps.Create(ExpP2));
        p = TOps.MultiplyAdd(p, r, TOps.Create(ExpP3));
        p = TOps.MultiplyAdd(p, r, TOps.Create(ExpP4));
        p = TOps.MultiplyAdd(p, r, TOps.Create(ExpP5));
        p = TOps.MultiplyAdd(p, TOps.Multiply(r, r), TOps.Add(r, TOps.Create(1f))); // e^r

        return TOps.AddToExponent(p, t);                                                // e^r · 2^n
    }

    /// <summary>σ(x) = 1/(1 + e^−x) for x ≥ 0, e^x/(1 + e^x) for x &lt; 0: exp only ever sees −|x|.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Sigmoid<TOps, TV>(TV x)
        where TOps : ISimdOps<TV>
        where TV : struct
    {
        TV e = ExpNonPositive<TOps, TV>(TOps.Or(x, TOps.Create(-0f)));      // e^−|x| ∈ (0, 1]
        TV s = TOps.Divide(TOps.Create(1f), TOps.Add(TOps.Create(1f), e));
        return TOps.Select(TOps.GreaterThanOrEqual(x, TOps.Create(0f)), s, TOps.Multiply(e, s));
    }

    /// <summary>tanh x: odd polynomial for |x| &lt; 0.625 (relative accuracy near 0), else sign(x)·(1 − e)/(1 + e), e = e^−2|x|.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Tanh<TOps, TV>(TV x)
        where TOps : ISimdOps<TV>
        where TV : struct
    {
        TV sign = TOps.Create(-0f);
        TV ax = TOps.AndNot(x, sign);

        TV e = ExpNonPositive<TOps, TV>(TOps.Multiply(ax, TOps.Create(-2f)));
        TV large = TOps.Divide(TOps.Subtract(TOps.Create(1f), e), TOps.Add(TOps.Create(1f), e));
        large = TOps.Or(large, TOps.And(x, sign));

        TV z = TOps.Multiply(x, x);
        TV q = TOps.MultiplyAdd(TOps.Create(TanhQ0), z, TOps.Create(TanhQ1));
        q = TOps.MultiplyAdd(q, z, TOps.Create(TanhQ2));
        q = TOps.MultiplyAdd(q, z, TOps.Create(TanhQ3));
        q = TOps.MultiplyAdd(q, z, TOps.Create(TanhQ4));
        TV small = TOps.MultiplyAdd(TOps.Multiply(q, z), x, x);

        return TOps.Select(TOps.LessThan(ax, TOps.Create(TanhSmall)), small, large);
    }

    /// <summary>max(x, 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Relu<TOps, TV>(TV x)
        where TOps : ISimdOps<TV>
        where TV : struct => TOps.Max(x, TOps.Create(0f));
}

/// <summary>A pointwise function, so one loop serves every activation at every width.</summary>
internal interface IUnaryFunction
{
    static abstract TV Invoke<TOps, TV>(TV x)
        where TOps : ISimdOps<TV>
        where TV : struct;
}

internal readonly struct ExpFunction : IUnaryFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TOps, TV>(TV x)
        where TOps : ISimdOps<TV>
        where TV : struct => VectorMath.Exp<TOps, TV>(x);
}

internal readonly struct SigmoidFunction : IUnaryFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TOps, TV>(TV x)
        where TOps : ISimdOps<TV>
        where TV : struct => VectorMath.Sigmoid<TOps, TV>(x);
}

internal readonly struct TanhFunction : IUnaryFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TOps, TV>(TV x)
        where TOps : ISimdOps<TV>
        where TV : struct => VectorMath.Tanh<TOps, TV>(x);
}

internal readonly struct ReluFunction : IUnaryFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TOps, TV>(TV x)
        where TOps : ISimdOps<TV>
        where TV : struct => VectorMath.Relu<TOps, TV>(x);
}
