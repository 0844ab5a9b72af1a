using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

#pragma warning disable CA2252 // AvxVnni is preview in the net8.0 reference (see PackedGemv.Int8Dot.cs); guarded

namespace RnnEmbedded.Runtime.CompilerServices;

// int8-dynamic products without an integer dot-product instruction (docs/kernels.md, "Dynamic int8: without VNNI or
// dotprod"): x86 with AVX-512BW, AVX2 or SSSE3 but no AVX-VNNI, and ARM without the dot-product extension
// (Raspberry Pi 4, Cortex-A72). Each computes the exact int32 row sums Σ_j q_w·q_x of the dot layout and finishes
// with the same float32 operations as the other paths (DotFinish128/256/512), so the bits equal the scalar path's
// and VNNI's/sdot's.
//
// x86: vpmaddubsw multiplies unsigned by signed bytes and adds adjacent pairs into int16 with saturation. It gets
// |q_w| (vpabsb: 0..128 as unsigned) and q_x with the sign of q_w (vpsignb: q_x, −q_x or 0; |q_x| ≤ 127 so negation
// is exact), so each product is q_w·q_x, at most 128·127 = 16,256 in magnitude, and a pair at most 32,512 < 32,767:
// it never saturates, even for q_w = −128. vpmaddwd by ones then adds the two pairs of one row's 4-column group into
// that row's int32 lane — the lane vpdpbusd fills. AVX-512BW lacks vpsignb and blends x and −x by q_w's sign instead.
// ARM: smull/smull2 widen the products to int16 (exact), smlal/smlal2 add the next group's (two products ≤ 32,512:
// exact), sadalp adds adjacent int16 pairs into int32 lanes that hold half a row's group, and addp joins the halves.
public static partial class PackedGemv
{
    /// <summary>The AVX2 <c>vpmaddubsw</c> path (256 bits); see <see cref="SingleDotPath"/>.</summary>
    internal const int DotPathMaddubs256 = 4;

    /// <summary>The SSSE3 <c>pmaddubsw</c> path (128 bits).</summary>
    internal const int DotPathMaddubs128 = 5;

    /// <summary>The ARM AdvSimd widening-multiply path (<c>smull</c>/<c>smlal</c>/<c>sadalp</c>, 128 bits).</summary>
    internal const int DotPathWidening = 6;

    /// <summary>The AVX-512BW <c>vpmaddubsw</c> path (512 bits).</summary>
    internal const int DotPathMaddubs512 = 7;

    /// <summary>
    /// Which integer product one int8-dynamic product (<see cref="Multiply(PackedInt8DotMatrix, ReadOnlySpan{float},
    /// Span{float}, VectorWidth)"/>) runs at <paramref name="width"/> here: <see cref="DotPath"/>'s dot-product
    /// instruction (3 AVX-VNNI 256, 2 AVX-VNNI 128, 1 sdot) where there is one, else 7 AVX-512BW or 4 AVX2
    /// <c>vpmaddubsw</c>, 5 SSSE3 <c>pmaddubsw</c>, 6 AdvSimd widening multiplies, or 0 scalar.
    /// </summary>
    internal static int SingleDotPath(VectorWidth width)
    {
        int path = DotPath(width);
        if (path != 0)
        {
            return path;
        }

        width = Simd.Resolve(width);
        if (width >= VectorWidth.V512 && Avx512BW.IsSupported)
        {
            return DotPathMaddubs512;
        }

        if (width >= VectorWidth.V256 && Avx2.IsSupported)
        {
            return DotPathMaddubs256;
        }

        if (width >= VectorWidth.V128 && Ssse3.IsSupported)
        {
            return DotPathMaddubs128;
        }

        return width >= VectorWidth.V128 && AdvSimd.Arm64.IsSupported ? DotPathWidening : 0;
    }

    /// <summary>Whether path <paramref name="path"/> (see <see cref="SingleDotPath"/>) can run on this machine.</summary>
    internal static bool IsDotPathSupported(int path) => path switch
    {
        0 => true,
        1 => Dp.IsSupported,
        2 or 3 => AvxVnni.IsSupported,
        DotPathMaddubs256 => Avx2.IsSupported,
        DotPathMaddubs128 => Ssse3.IsSupported,
        DotPathWidening => AdvSimd.Arm64.IsSupported,
        DotPathMaddubs512 => Avx512BW.IsSupported,
        _ => false,
    };

    /// <summary>
    /// <see cref="Multiply(PackedInt8DotMatrix, ReadOnlySpan{float}, Span{float}, VectorWidth)"/> (or MultiplyAdd)
    /// on a chosen path instead of the machine's choice, so tests and benchmarks reach every path this CPU can run.
    /// </summary>
    internal static void MultiplyOnDotPath(PackedInt8DotMatrix packed, ReadOnlySpan<float> x, Span<float> y, int path, bool accumulate)
    {
        if (!IsDotPathSupported(path))
        {
            throw new PlatformNotSupportedException($"int8-dynamic dot path {path} needs an instruction set this machine lacks.");
        }

        RunDot(packed.Weights, packed.RowScales, x, y, VectorWidth.Scalar, accumulate, path);
    }

    /// <summary>One panel (16 to 64 rows) on a fallback path (4 to 7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DotPanelFallback(int path, ref sbyte panel, nuint panelWidth, ref sbyte xq, nuint groups, float sx, ref float s, ref float y, bool accumulate)
    {
        if (path == DotPathMaddubs512)
        {
            if (panelWidth == PanelRows)
            {
                DotPanelMaddubs512(ref panel, ref xq, groups, sx, ref s, ref y, accumulate);
                return;
            }

            // A narrower last panel: its 16-row strips on the 256-bit path (same bits).
            path = DotPathMaddubs256;
        }

        if (path == DotPathMaddubs256 && panelWidth == PanelRows)
        {
            DotPanelMaddubs256(ref panel, ref xq, groups, sx, ref s, ref y, accumulate);
            return;
        }

        // 16 rows at a time: their 4-column groups lie 4·panelWidth bytes apart.
        for (nuint k = 0; k < panelWidth; k += RowAlign)
        {
            ref sbyte strip = ref Unsafe.Add(ref panel, k * 4);
            ref float sk = ref Unsafe.Add(ref s, k);
            ref float yk = ref Unsafe.Add(ref y, k);
            if (path == DotPathMaddubs256)
            {
                DotStripMaddubs256(ref strip, panelWidth * 4, ref xq, groups, sx, ref sk, ref yk, accumulate);
            }
            else if (path == DotPathMaddubs128)
            {
                DotStripMaddubs128(ref strip, panelWidth * 4, ref xq, groups, sx, ref sk, ref yk, accumulate);
            }
            else
            {
                DotStripWidening(ref strip, panelWidth * 4, ref xq, groups, sx, ref sk, ref yk, accumulate);
            }
        }
    }

    // ---- x86 without AVX-VNNI: vpabsb + vpsignb + vpmaddubsw + vpmaddwd (see the top of this file).

    /// <summary>Per 32-bit lane (one row's group): Σ_{i&lt;4} w_i·x_i, exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot4(Vector256<sbyte> w, Vector256<sbyte> x, Vector256<short> ones) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w), Avx2.Sign(x, w)), ones);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Dot4(Vector128<sbyte> w, Vector128<sbyte> x, Vector128<short> ones) =>
        Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(Ssse3.Abs(w), Ssse3.Sign(x, w)), ones);

    /// <summary>
    /// AVX-512BW has no vpsignb: q_x takes q_w's sign by a blend (vpmovb2m/vpcmpb + vpblendmb) of x and −x, both
    /// broadcast once per group; where q_w = 0, |q_w| = 0 makes the product 0 whichever is picked.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Dot4(Vector512<sbyte> w, Vector512<sbyte> x, Vector512<sbyte> negX, Vector512<short> ones) =>
        Avx512BW.MultiplyAddAdjacent(
            Avx512BW.MultiplyAddAdjacent(Avx512BW.Abs(w), Vector512.ConditionalSelect(Vector512.LessThan(w, Vector512<sbyte>.Zero), negX, x)),
            ones);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DotFinish512(Vector512<int> sum, float sx, ref float s, ref float y, nuint k, bool accumulate)
    {
        Vector512<float> v = Vector512.ConvertToSingle(sum) * (Vector512.LoadUnsafe(ref s, k) * Vector512.Create(sx));
        if (accumulate)
        {
            v = Vector512.LoadUnsafe(ref y, k) + v;
        }

        v.StoreUnsafe(ref y, k);
    }

    // AVX-512BW, a full panel: a group is 4 vectors of 16 rows × 4 columns; 2 groups per iteration (8 chains).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotPanelMaddubs512(ref sbyte w, ref sbyte xq, nuint groups, float sx, ref float s, ref float y, bool accumulate)
    {
        Vector512<short> ones = Vector512<short>.One;
        Vector512<int> a0 = Vector512<int>.Zero, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        nuint g = 0;
        for (; g + 2 <= groups; g += 2)
        {
            ref sbyte c = ref Unsafe.Add(ref w, g * 256);
            int g0 = Group(ref xq, g), g1 = Group(ref xq, g + 1);
            Vector512<sbyte> x0 = Vector512.Create(g0).AsSByte(), n0 = (-Vector512.Create(g0).AsSByte());
            Vector512<sbyte> x1 = Vector512.Create(g1).AsSByte(), n1 = (-Vector512.Create(g1).AsSByte());
            a0 += Dot4(Vector512.LoadUnsafe(ref c, 0), x0, n0, ones);
            a1 += Dot4(Vector512.LoadUnsafe(ref c, 64), x0, n0, ones);
            a2 += Dot4(Vector512.LoadUnsafe(ref c, 128), x0, n0, ones);
            a3 += Dot4(Vector512.LoadUnsafe(ref c, 192), x0, n0, ones);
            b0 += Dot4(Vector512.LoadUnsafe(ref c, 256), x1, n1, ones);
            b1 += Dot4(Vector512.LoadUnsafe(ref c, 320), x1, n1, ones);
            b2 += Dot4(Vector512.LoadUnsafe(ref c, 384), x1, n1, ones);
            b3 += Dot4(Vector512.LoadUnsafe(ref c, 448), x1, n1, ones);
        }

        if (g < groups)
        {
            ref sbyte c = ref Unsafe.Add(ref w, g * 256);
            int g0 = Group(ref xq, g);
            Vector512<sbyte> x0 = Vector512.Create(g0).AsSByte(), n0 = (-Vector512.Create(g0).AsSByte());
            a0 += Dot4(Vector512.LoadUnsafe(ref c, 0), x0, n0, ones);
            a1 += Dot4(Vector512.LoadUnsafe(ref c, 64), x0, n0, ones);
            a2 += Dot4(Vector512.LoadUnsafe(ref c, 128), x0, n0, ones);
            a3 += Dot4(Vector512.LoadUnsafe(ref c, 192), x0, n0, ones);
        }

        DotFinish512(a0 + b0, sx, ref s, ref y, 0, accumulate);
        DotFinish512(a1 + b1, sx, ref s, ref y, 16, accumulate);
        DotFinish512(a2 + b2, sx, ref s, ref y, 32, accumulate);
        DotFinish512(a3 + b3, sx, ref s, ref y, 48, accumulate);
    }

    // A full panel's group is 256 bytes = 8 vectors of 8 rows × 4 columns: 8 chains.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotPanelMaddubs256(ref sbyte w, ref sbyte xq, nuint groups, float sx, ref float s, ref float y, bool accumulate)
    {
        Vector256<short> ones = Vector256<short>.One;
        Vector256<int> a0 = Vector256<int>.Zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (nuint g = 0; g < groups; g++)
        {
            ref sbyte c = ref Unsafe.Add(ref w, g * 256);
            Vector256<sbyte> xg = Vector256.Create(Group(ref xq, g)).AsSByte();
            a0 += Dot4(Vector256.LoadUnsafe(ref c, 0), xg, ones);
            a1 += Dot4(Vector256.LoadUnsafe(ref c, 32), xg, ones);
            a2 += Dot4(Vector256.LoadUnsafe(ref c, 64), xg, ones);
            a3 += Dot4(Vector256.LoadUnsafe(ref c, 96), xg, ones);
            a4 += Dot4(Vector256.LoadUnsafe(ref c, 128), xg, ones);
            a5 += Dot4(Vector256.LoadUnsafe(ref c, 160), xg, ones);
            a6 += Dot4(Vector256.LoadUnsafe(ref c, 192), xg, ones);
            a7 += Dot4(Vector256.LoadUnsafe(ref c, 224), xg, ones);
        }

        DotFinish256(a0, sx, ref s, ref y, 0, accumulate);
        DotFinish256(a1, sx, ref s, ref y, 8, accumulate);
        DotFinish256(a2, sx, ref s, ref y, 16, accumulate);
        DotFinish256(a3, sx, ref s, ref y, 24, accumulate);
        DotFinish256(a4, sx, ref s, ref y, 32, accumulate);
        DotFinish256(a5, sx, ref s, ref y, 40, accumulate);
        DotFinish256(a6, sx, ref s, ref y, 48, accumulate);
        DotFinish256(a7, sx, ref s, ref y, 56, accumulate);
    }

    // 16 rows of a narrower last panel: 2 vectors per group, 2 groups per iteration (4 chains).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotStripMaddubs256(ref sbyte w, nuint stride, ref sbyte xq, nuint groups, float sx, ref float s, ref float y, bool accumulate)
    {
        Vector256<short> ones = Vector256<short>.One;
        Vector256<int> a0 = Vector256<int>.Zero, a1 = a0, b0 = a0, b1 = a0;
        nuint g = 0;
        for (; g + 2 <= groups; g += 2)
        {
            ref sbyte c = ref Unsafe.Add(ref w, g * stride);
            ref sbyte d = ref Unsafe.Add(ref c, stride);
            Vector256<sbyte> x0 = Vector256.Create(Group(ref xq, g)).AsSByte();
            Vector256<sbyte> x1 = Vector256.Create(Group(ref xq, g + 1)).AsSByte();
            a0 += Dot4(Vector256.LoadUnsafe(ref c, 0), x0, ones);
            a1 += Dot4(Vector256.LoadUnsafe(ref c, 32), x0, ones);
            b0 += Dot4(Vector256.LoadUnsafe(ref d, 0), x1, ones);
            b1 += Dot4(Vector256.LoadUnsafe(ref d, 32), x1, ones);
        }

        if (g < groups)
        {
            ref sbyte c = ref Unsafe.Add(ref w, g * stride);
            Vector256<sbyte> x0 = Vector256.Create(Group(ref xq, g)).AsSByte();
            a0 += Dot4(Vector256.LoadUnsafe(ref c, 0), x0, ones);
            a1 += Dot4(Vector256.LoadUnsafe(ref c, 32), x0, ones);
        }

        DotFinish256(a0 + b0, sx, ref s, ref y, 0, accumulate);
        DotFinish256(a1 + b1, sx, ref s, ref y, 8, accumulate);
    }

    // 128 bits: 16 rows are 4 vectors of 4 rows × 4 columns, 4 chains.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotStripMaddubs128(ref sbyte w, nuint stride, ref sbyte xq, nuint groups, float sx, ref float s, ref float y, bool accumulate)
    {
        Vector128<short> ones = Vector128<short>.One;
        Vector128<int> a0 = Vector128<int>.Zero, a1 = a0, a2 = a0, a3 = a0;
        for (nuint g = 0; g < groups; g++)
        {
            ref sbyte c = ref Unsafe.Add(ref w, g * stride);
            Vector128<sbyte> xg = Vector128.Create(Group(ref xq, g)).AsSByte();
            a0 += Dot4(Vector128.LoadUnsafe(ref c, 0), xg, ones);
            a1 += Dot4(Vector128.LoadUnsafe(ref c, 16), xg, ones);
            a2 += Dot4(Vector128.LoadUnsafe(ref c, 32), xg, ones);
            a3 += Dot4(Vector128.LoadUnsafe(ref c, 48), xg, ones);
        }

        DotFinish128(a0, sx, ref s, ref y, 0, accumulate);
        DotFinish128(a1, sx, ref s, ref y, 4, accumulate);
        DotFinish128(a2, sx, ref s, ref y, 8, accumulate);
        DotFinish128(a3, sx, ref s, ref y, 12, accumulate);
    }

    // ---- ARM without dotprod: 16 rows are 4 vectors of 4 rows × 4 columns; each vector has two int32 accumulators,
    // lo (rows 0-1) and hi (rows 2-3), whose lanes hold half a row's group each (see the top of this file).

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotStripWidening(ref sbyte w, nuint stride, ref sbyte xq, nuint groups, float sx, ref float s, ref float y, bool accumulate)
    {
        Vector128<int> l0 = Vector128<int>.Zero, l1 = l0, l2 = l0, l3 = l0, h0 = l0, h1 = l0, h2 = l0, h3 = l0;
        nuint g = 0;
        for (; g + 2 <= groups; g += 2)
        {
            ref sbyte c = ref Unsafe.Add(ref w, g * stride);
            ref sbyte d = ref Unsafe.Add(ref c, stride);
            Vector128<sbyte> x0 = Vector128.Create(Group(ref xq, g)).AsSByte();
            Vector128<sbyte> x1 = Vector128.Create(Group(ref xq, g + 1)).AsSByte();
            Vector128<sbyte> v0 = Vector128.LoadUnsafe(ref c, 0), u0 = Vector128.LoadUnsafe(ref d, 0);
            l0 = AdvSimd.AddPairwiseWideningAndAdd(l0, ProductsLower(v0, x0, u0, x1));
            h0 = AdvSimd.AddPairwiseWideningAndAdd(h0, ProductsUpper(v0, x0, u0, x1));
            Vector128<sbyte> v1 = Vector128.LoadUnsafe(ref c, 16), u1 = Vector128.LoadUnsafe(ref d, 16);
            l1 = AdvSimd.AddPairwiseWideningAndAdd(l1, ProductsLower(v1, x0, u1, x1));
            h1 = AdvSimd.AddPairwiseWideningAndAdd(h1, ProductsUpper(v1, x0, u1, x1));
            Vector128<sbyte> v2 = Vector128.LoadUnsafe(ref c, 32), u2 = Vector128.LoadUnsafe(ref d, 32);
            l2 = AdvSimd.AddPairwiseWideningAndAdd(l2, ProductsLower(v2, x0, u2, x1));
            h2 = AdvSimd.AddPairwiseWideningAndAdd(h2, ProductsUpper(v2, x0, u2, x1));
            Vector128<sbyte> v3 = Vector128.LoadUnsafe(ref c, 48), u3 = Vector128.LoadUnsafe(ref d, 48);
            l3 = AdvSimd.AddPairwiseWideningAndAdd(l3, ProductsLower(v3, x0, u3, x1));
            h3 = AdvSimd.AddPairwiseWideningAndAdd(h3, ProductsUpper(v3, x0, u3, x1));
        }

        if (g < groups)
        {
            ref sbyte c = ref Unsafe.Add(ref w, g * stride);
            Vector128<sbyte> x0 = Vector128.Create(Group(ref xq, g)).AsSByte();
            Vector128<sbyte> v0 = Vector128.LoadUnsafe(ref c, 0);
            l0 = AdvSimd.AddPairwiseWideningAndAdd(l0, AdvSimd.MultiplyWideningLower(v0.GetLower(), x0.GetLower()));
            h0 = AdvSimd.AddPairwiseWideningAndAdd(h0, AdvSimd.MultiplyWideningUpper(v0, x0));
            Vector128<sbyte> v1 = Vector128.LoadUnsafe(ref c, 16);
            l1 = AdvSimd.AddPairwiseWideningAndAdd(l1, AdvSimd.MultiplyWideningLower(v1.GetLower(), x0.GetLower()));
            h1 = AdvSimd.AddPairwiseWideningAndAdd(h1, AdvSimd.MultiplyWideningUpper(v1, x0));
            Vector128<sbyte> v2 = Vector128.LoadUnsafe(ref c, 32);
            l2 = AdvSimd.AddPairwiseWideningAndAdd(l2, AdvSimd.MultiplyWideningLower(v2.GetLower(), x0.GetLower()));
            h2 = AdvSimd.AddPairwiseWideningAndAdd(h2, AdvSimd.MultiplyWideningUpper(v2, x0));
            Vector128<sbyte> v3 = Vector128.LoadUnsafe(ref c, 48);
            l3 = AdvSimd.AddPairwiseWideningAndAdd(l3, AdvSimd.MultiplyWideningLower(v3.GetLower(), x0.GetLower()));
            h3 = AdvSimd.AddPairwiseWideningAndAdd(h3, AdvSimd.MultiplyWideningUpper(v3, x0));
        }

        DotFinish128(AdvSimd.Arm64.AddPairwise(l0, h0), sx, ref s, ref y, 0, accumulate);
        DotFinish128(AdvSimd.Arm64.AddPairwise(l1, h1), sx, ref s, ref y, 4, accumulate);
        DotFinish128(AdvSimd.Arm64.AddPairwise(l2, h2), sx, ref s, ref y, 8, accumulate);
        DotFinish128(AdvSimd.Arm64.AddPairwise(l3, h3), sx, ref s, ref y, 12, accumulate);
    }

    /// <summary>Rows 0-1 of two groups: w0·x0 + w1·x1 per int16 lane (smull + smlal; |sum| ≤ 2·128·127, exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<short> ProductsLower(Vector128<sbyte> w0, Vector128<sbyte> x0, Vector128<sbyte> w1, Vector128<sbyte> x1) =>
        AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLower(w0.GetLower(), x0.GetLower()), w1.GetLower(), x1.GetLower());

    /// <summary>Rows 2-3 of two groups (smull2 + smlal2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<short> ProductsUpper(Vector128<sbyte> w0, Vector128<sbyte> x0, Vector128<sbyte> w1, Vector128<sbyte> x1) =>
        AdvSimd.MultiplyWideningUpperAndAdd(AdvSimd.MultiplyWideningUpper(w0, x0), w1, x1);
}
