using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RnnEmbedded.Runtime.CompilerServices;

// int8-dynamic input quantization in Vector128s (docs/kernels.md, "Dynamic int8: int8 dot products"): the path of CPUs
// without AVX/AVX2 — ARM64, where Vector128 compiles to NEON (fabs/fmax, fmul/fmax/fmin/fadd, xtn) — written with the
// cross-platform Vector128 API only, so the same code runs (SSE) on x86 when forced and is tested there bit for bit
// against the scalar definition (Int8QuantizeTests). Every value equals Int8DotPacking.Quantize's; the callers in
// PackedGemv.Int8Dot.cs finish the columns left over (fewer than 4) with the scalar definition.
public static partial class PackedGemv
{
    /// <summary>
    /// max |x[j]| over j &lt; n rounded down to a multiple of 4 (n ≥ 4), <paramref name="j"/> set past them. A maximum
    /// does not round, and |x| clears the sign of −0, so any order and any Max give the scalar loop's value for inputs
    /// without NaN (NaN: unspecified, as in <see cref="MaxAbs"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxAbs128(ref float x, nuint n, ref nuint j)
    {
        Vector128<float> m0 = Vector128<float>.Zero, m1 = m0, m2 = m0, m3 = m0;
        nuint i = 0;
        for (; i + 16 <= n; i += 16)
        {
            m0 = Vector128.Max(m0, Vector128.Abs(Vector128.LoadUnsafe(ref x, i)));
            m1 = Vector128.Max(m1, Vector128.Abs(Vector128.LoadUnsafe(ref x, i + 4)));
            m2 = Vector128.Max(m2, Vector128.Abs(Vector128.LoadUnsafe(ref x, i + 8)));
            m3 = Vector128.Max(m3, Vector128.Abs(Vector128.LoadUnsafe(ref x, i + 12)));
        }

        for (; i + 4 <= n; i += 4)
        {
            m0 = Vector128.Max(m0, Vector128.Abs(Vector128.LoadUnsafe(ref x, i)));
        }

        m0 = Vector128.Max(Vector128.Max(m0, m1), Vector128.Max(m2, m3));
        j = i;
        return MathF.Max(MathF.Max(m0.GetElement(0), m0.GetElement(1)), MathF.Max(m0.GetElement(2), m0.GetElement(3)));
    }

    /// <summary>
    /// xq[j] = Quantize(x[j]) for j &lt; n rounded down to a multiple of 4 (n ≥ 4), <paramref name="j"/> set past them;
    /// returns their sum. 16 values per iteration (one 16-byte store), then 4 (one int).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int QuantizeInput128(ref float x, ref sbyte xq, nuint n, float inverse, ref nuint j)
    {
        Vector128<float> inv = Vector128.Create(inverse);
        Vector128<int> acc = Vector128<int>.Zero;
        nuint i = 0;
        for (; i + 16 <= n; i += 16)
        {
            Vector128<int> q0 = Quantize4(Vector128.LoadUnsafe(ref x, i), inv);
            Vector128<int> q1 = Quantize4(Vector128.LoadUnsafe(ref x, i + 4), inv);
            Vector128<int> q2 = Quantize4(Vector128.LoadUnsafe(ref x, i + 8), inv);
            Vector128<int> q3 = Quantize4(Vector128.LoadUnsafe(ref x, i + 12), inv);
            acc += (q0 + q1) + (q2 + q3);

            // int32 → int16 → int8, truncating narrows (exact: |q| ≤ 127), in order.
            Vector128.Narrow(Vector128.Narrow(q0, q1), Vector128.Narrow(q2, q3)).StoreUnsafe(ref xq, i);
        }

        for (; i + 4 <= n; i += 4)
        {
            Vector128<int> q = Quantize4(Vector128.LoadUnsafe(ref x, i), inv);
            acc += q;
            Unsafe.WriteUnaligned(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref xq, i)), Group4(q));
        }

        j = i;
        return Vector128.Sum(acc);
    }

    /// <summary>
    /// As <see cref="QuantizeInput128"/>, but group g (4 columns, one int) goes to <c>xi[g · stride]</c> (the batch's
    /// interleaved layout, <see cref="QuantizeInterleaved"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int QuantizeInterleaved128(ref float x, ref int xi, nuint n, nuint stride, float inverse, ref nuint j)
    {
        Vector128<float> inv = Vector128.Create(inverse);
        Vector128<int> acc = Vector128<int>.Zero;
        nuint i = 0;
        for (; i + 4 <= n; i += 4)
        {
            Vector128<int> q = Quantize4(Vector128.LoadUnsafe(ref x, i), inv);
            acc += q;
            Unsafe.Add(ref xi, (i >> 2) * stride) = Group4(q);
        }

        j = i;
        return Vector128.Sum(acc);
    }

    /// <summary>
    /// 4 values quantized as <see cref="Int8DotPacking.Quantize"/>, as int32: t = x · inverse (the same single float32
    /// multiply), NaN → 0 (masked first, so Min/Max never see NaN and behave alike on every target), clamped to ±127,
    /// then rounded to nearest even by adding 1.5 · 2^23: for |t| ≤ 127 the sum's ulp is 1, so the default rounding
    /// mode (ties to even, which .NET never changes) rounds t and the integer sits in the low mantissa bits
    /// (bits − 0x4B400000). Clamping before rounding equals the definition's round-then-clamp (±127 are integers and
    /// rounding is monotonic); −0 gives 0. BCL net8.0 has no Vector128.Round, and this needs no rounding instruction.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Quantize4(Vector128<float> x, Vector128<float> inverse)
    {
        Vector128<float> t = x * inverse;
        t &= Vector128.Equals(t, t);
        t = Vector128.Min(Vector128.Max(t, Vector128.Create(-127f)), Vector128.Create(127f));
        return (t + Vector128.Create(12582912f)).AsInt32() - Vector128.Create(0x4B400000);
    }

    /// <summary>4 int32 in [−127, 127] as 4 bytes of one int, the first in the low byte (the dot layout's group).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Group4(Vector128<int> q)
    {
        Vector128<short> w = Vector128.Narrow(q, q);
        return Vector128.Narrow(w, w).AsInt32().ToScalar();
    }
}
