using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnEmbedded.Runtime.CompilerServices;

// The quantized products (docs/kernels.md, "Quantized weights"): the same panel layout and shapes as the float32
// kernels, with bfloat16 or int8 elements. The kernels widen each loaded column slice to float32 in registers and
// multiply it by x in float32 (weight-only quantization: activations stay float32), so the narrow matrix is streamed
// once and never converted first. int8 accumulates Σ_j q[r, j]·x[j] per row and applies the row's scale once at the
// end: y[r] (+)= s[r] · acc[r].
public static partial class PackedGemv
{
    /// <summary>y (PaddedRows,) += W (PaddedRows, cols) @ x (cols,), W bfloat16 in the panel layout.</summary>
    /// <param name="packed">W as bfloat16 bit patterns (the upper halves of float32s): <c>y.Length · x.Length</c> values.</param>
    /// <param name="x">The input vector (cols,); must not overlap <paramref name="y"/>.</param>
    /// <param name="y">The output (PaddedRows,), accumulated into; its length must be a multiple of 16.</param>
    /// <param name="width">The widest vector width to use (see <see cref="Simd.Resolve"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd(ReadOnlySpan<ushort> packed, ReadOnlySpan<float> x, Span<float> y, VectorWidth width) =>
        RunWidened<ushort, BFloat16Widening>(packed, default, scaled: false, x, y, width, accumulate: true);

    /// <summary>y (PaddedRows,) = W (PaddedRows, cols) @ x (cols,), W bfloat16 in the panel layout.</summary>
    /// <param name="packed">W as bfloat16 bit patterns: <c>y.Length · x.Length</c> values.</param>
    /// <param name="x">The input vector (cols,); must not overlap <paramref name="y"/>.</param>
    /// <param name="y">The output (PaddedRows,), overwritten; its length must be a multiple of 16.</param>
    /// <param name="width">The widest vector width to use (see <see cref="Simd.Resolve"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ReadOnlySpan<ushort> packed, ReadOnlySpan<float> x, Span<float> y, VectorWidth width) =>
        RunWidened<ushort, BFloat16Widening>(packed, default, scaled: false, x, y, width, accumulate: false);

    /// <summary>y (PaddedRows,) += W (PaddedRows, cols) @ x (cols,), W int8 with per-row scales, panel layout.</summary>
    /// <param name="packed">W: <c>y.Length · x.Length</c> int8 values and <c>y.Length</c> row scales.</param>
    /// <param name="x">The input vector (cols,); must not overlap <paramref name="y"/>.</param>
    /// <param name="y">The output (PaddedRows,), accumulated into; its length must be a multiple of 16.</param>
    /// <param name="width">The widest vector width to use (see <see cref="Simd.Resolve"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd(PackedInt8Matrix packed, ReadOnlySpan<float> x, Span<float> y, VectorWidth width) =>
        RunWidened<sbyte, Int8Widening>(packed.Weights, packed.RowScales, scaled: true, x, y, width, accumulate: true);

    /// <summary>y (PaddedRows,) = W (PaddedRows, cols) @ x (cols,), W int8 with per-row scales, panel layout.</summary>
    /// <param name="packed">W: <c>y.Length · x.Length</c> int8 values and <c>y.Length</c> row scales.</param>
    /// <param name="x">The input vector (cols,); must not overlap <paramref name="y"/>.</param>
    /// <param name="y">The output (PaddedRows,), overwritten; its length must be a multiple of 16.</param>
    /// <param name="width">The widest vector width to use (see <see cref="Simd.Resolve"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(PackedInt8Matrix packed, ReadOnlySpan<float> x, Span<float> y, VectorWidth width) =>
        RunWidened<sbyte, Int8Widening>(packed.Weights, packed.RowScales, scaled: true, x, y, width, accumulate: false);

    /// <summary>
    /// ys (count, PaddedRows) += W @ xs (count, cols), W bfloat16: <paramref name="count"/> products, each weight read
    /// and widened once per <see cref="MaxLanes"/> inputs, each input's result equal to its single product (see <see cref="MultiplyAddBatch(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, VectorWidth)"/>
    /// for the shapes).
    /// </summary>
    /// <param name="packed">W as bfloat16 bit patterns in the panel layout.</param>
    /// <param name="xs">count inputs of cols floats; must not overlap <paramref name="ys"/>.</param>
    /// <param name="ys">count outputs of PaddedRows floats; accumulated into.</param>
    /// <param name="count">The number of inputs.</param>
    /// <param name="width">The widest vector width to use.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAddBatch(ReadOnlySpan<ushort> packed, ReadOnlySpan<float> xs, Span<float> ys, int count, VectorWidth width) =>
        RunWidenedBatch<ushort, BFloat16Widening>(packed, default, scaled: false, xs, ys, count, width, accumulate: true);

    /// <summary>ys (count, PaddedRows) = W @ xs (count, cols), W bfloat16; see the MultiplyAddBatch overload.</summary>
    /// <param name="packed">W as bfloat16 bit patterns in the panel layout.</param>
    /// <param name="xs">count inputs of cols floats; must not overlap <paramref name="ys"/>.</param>
    /// <param name="ys">count outputs of PaddedRows floats; overwritten.</param>
    /// <param name="count">The number of inputs.</param>
    /// <param name="width">The widest vector width to use.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyBatch(ReadOnlySpan<ushort> packed, ReadOnlySpan<float> xs, Span<float> ys, int count, VectorWidth width) =>
        RunWidenedBatch<ushort, BFloat16Widening>(packed, default, scaled: false, xs, ys, count, width, accumulate: false);

    /// <summary>ys (count, PaddedRows) += W @ xs (count, cols), W int8 with row scales; one pass per MaxLanes inputs.</summary>
    /// <param name="packed">W: int8 values in the panel layout and PaddedRows row scales.</param>
    /// <param name="xs">count inputs of cols floats; must not overlap <paramref name="ys"/>.</param>
    /// <param name="ys">count outputs of PaddedRows floats; accumulated into.</param>
    /// <param name="count">The number of inputs.</param>
    /// <param name="width">The widest vector width to use.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAddBatch(PackedInt8Matrix packed, ReadOnlySpan<float> xs, Span<float> ys, int count, VectorWidth width) =>
        RunWidenedBatch<sbyte, Int8Widening>(packed.Weights, packed.RowScales, scaled: true, xs, ys, count, width, accumulate: true);

    /// <summary>ys (count, PaddedRows) = W @ xs (count, cols), W int8 with row scales; one pass per MaxLanes inputs.</summary>
    /// <param name="packed">W: int8 values in the panel layout and PaddedRows row scales.</param>
    /// <param name="xs">count inputs of cols floats; must not overlap <paramref name="ys"/>.</param>
    /// <param name="ys">count outputs of PaddedRows floats; overwritten.</param>
    /// <param name="count">The number of inputs.</param>
    /// <param name="width">The widest vector width to use.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyBatch(PackedInt8Matrix packed, ReadOnlySpan<float> xs, Span<float> ys, int count, VectorWidth width) =>
        RunWidenedBatch<sbyte, Int8Widening>(packed.Weights, packed.RowScales, scaled: true, xs, ys, count, width, accumulate: false);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunWidenedBatch<TW, TL>(
        ReadOnlySpan<TW> packed, ReadOnlySpan<float> scales, bool scaled, ReadOnlySpan<float> xs, Span<float> ys, int count, VectorWidth width, bool accumulate)
        where TW : unmanaged
        where TL : struct, IWeightWidening<TW>
    {
        if (count <= 0)
        {
            if (count < 0 || xs.Length != 0 || ys.Length != 0)
            {
                ThrowHelper.Length(nameof(count), $"{count} must be > 0, or 0 with empty xs and ys.");
            }

            return;
        }

        if (xs.Length % count != 0 || ys.Length % count != 0)
        {
            ThrowHelper.Length(nameof(count), $"xs.Length {xs.Length} and ys.Length {ys.Length} must be multiples of count {count}.");
        }

        if (xs.Overlaps(ys))
        {
            ThrowHelper.Overlap(nameof(ys), nameof(xs));
        }

        WidenedBatch<TW, TL>(packed, scales, scaled, xs, ys, count, width, accumulate); // PackedGemv.WidenedBatch.cs
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunWidened<TW, TL>(
        ReadOnlySpan<TW> packed, ReadOnlySpan<float> scales, bool scaled, ReadOnlySpan<float> x, Span<float> y, VectorWidth width, bool accumulate)
        where TW : unmanaged
        where TL : struct, IWeightWidening<TW>
    {
        CheckShapes(packed.Length, x, y);
        if (scaled && scales.Length != y.Length)
        {
            ThrowHelper.Length(nameof(packed), $"has {scales.Length} row scales; it needs one per padded row, y.Length {y.Length}.");
        }

        width = Simd.Resolve(width);
        nuint rows = (nuint)y.Length;
        nuint cols = (nuint)x.Length;
        if (cols == 0)
        {
            if (!accumulate)
            {
                y.Clear();
            }

            return;
        }

        ref TW w = ref MemoryMarshal.GetReference(packed);
        ref float s = ref MemoryMarshal.GetReference(scales);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        for (nuint p = 0; p < rows; p += PanelRows)
        {
            nuint panelWidth = Math.Min(PanelRows, rows - p);
            ref TW panel = ref Unsafe.Add(ref w, p * cols);
            ref float sp = ref scaled ? ref Unsafe.Add(ref s, p) : ref s;
            ref float yp = ref Unsafe.Add(ref yr, p);
            switch (width)
            {
                case VectorWidth.V512 when panelWidth == PanelRows:
                    WidePanel512<TW, TL>(ref panel, ref xr, ref yp, ref sp, cols, scaled, accumulate);
                    break;
                case VectorWidth.V256 when panelWidth == PanelRows:
                    WidePanel256<TW, TL>(ref panel, ref xr, ref yp, ref sp, cols, scaled, accumulate);
                    break;
                case VectorWidth.V128 when panelWidth == PanelRows:
                    WidePanel128<TW, TL>(ref panel, ref xr, ref yp, ref sp, cols, scaled, accumulate);
                    break;
                case VectorWidth.V512 or VectorWidth.V256 or VectorWidth.V128:
                    for (nuint k = 0; k < panelWidth; k += RowAlign)
                    {
                        ref float sk = ref scaled ? ref Unsafe.Add(ref sp, k) : ref sp;
                        ref TW strip = ref Unsafe.Add(ref panel, k);
                        ref float yk = ref Unsafe.Add(ref yp, k);
                        if (width == VectorWidth.V512)
                        {
                            WideStrip512<TW, TL>(ref strip, panelWidth, ref xr, ref yk, ref sk, cols, scaled, accumulate);
                        }
                        else if (width == VectorWidth.V256)
                        {
                            WideStrip256<TW, TL>(ref strip, panelWidth, ref xr, ref yk, ref sk, cols, scaled, accumulate);
                        }
                        else
                        {
                            WideStrip128<TW, TL>(ref strip, panelWidth, ref xr, ref yk, ref sk, cols, scaled, accumulate);
                        }
                    }

                    break;
                default:
                    WidePanelScalar<TW, TL>(ref panel, panelWidth, ref xr, ref yp, ref sp, cols, scaled, accumulate);
                    break;
            }
        }
    }

    // ---- finishing 16·k rows: y (+)= acc, or y (+)= s ⊙ acc for int8.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish512(Vector512<float> acc, ref float y, ref float s, nuint k, bool scaled, bool accumulate)
    {
        if (scaled)
        {
            Vector512<float> sv = Vector512.LoadUnsafe(ref s, k);
            acc = accumulate ? Fma512(acc, sv, Vector512.LoadUnsafe(ref y, k)) : acc * sv;
        }
        else if (accumulate)
        {
            acc += Vector512.LoadUnsafe(ref y, k);
        }

        acc.StoreUnsafe(ref y, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish256(Vector256<float> acc, ref float y, ref float s, nuint k, bool scaled, bool accumulate)
    {
        if (scaled)
        {
            Vector256<float> sv = Vector256.LoadUnsafe(ref s, k);
            acc = accumulate ? Fma256(acc, sv, Vector256.LoadUnsafe(ref y, k)) : acc * sv;
        }
        else if (accumulate)
        {
            acc += Vector256.LoadUnsafe(ref y, k);
        }

        acc.StoreUnsafe(ref y, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish128(Vector128<float> acc, ref float y, ref float s, nuint k, bool scaled, bool accumulate)
    {
        if (scaled)
        {
            Vector128<float> sv = Vector128.LoadUnsafe(ref s, k);
            acc = accumulate ? Fma128(acc, sv, Vector128.LoadUnsafe(ref y, k)) : acc * sv;
        }
        else if (accumulate)
        {
            acc += Vector128.LoadUnsafe(ref y, k);
        }

        acc.StoreUnsafe(ref y, k);
    }

    // ---- Vector512: a full panel column is 4 widened vectors, 4 FMA chains (the widening hides their latency).

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WidePanel512<TW, TL>(ref TW w, ref float x, ref float y, ref float s, nuint cols, bool scaled, bool accumulate)
        where TW : unmanaged
        where TL : struct, IWeightWidening<TW>
    {
        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        for (nuint j = 0; j < cols; j++)
        {
            ref TW c = ref Unsafe.Add(ref w, j * PanelRows);
            Vector512<float> xj = Vector512.Create(Unsafe.Add(ref x, j));
            a0 = Fma512(TL.Load16(ref c), xj, a0);
            a1 = Fma512(TL.Load16(ref Unsafe.Add(ref c, 16)), xj, a1);
            a2 = Fma512(TL.Load16(ref Unsafe.Add(ref c, 32)), xj, a2);
            a3 = Fma512(TL.Load16(ref Unsafe.Add(ref c, 48)), xj, a3);
        }

        Finish512(a0, ref y, ref s, 0, scaled, accumulate);
        Finish512(a1, ref y, ref s, 16, scaled, accumulate);
        Finish512(a2, ref y, ref s, 32, scaled, accumulate);
        Finish512(a3, ref y, ref s, 48, scaled, accumulate);
    }

    // 16 rows of a narrower last panel (column stride = panel width): 2 columns per iteration, 2 chains.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WideStrip512<TW, TL>(ref TW w, nuint stride, ref float x, ref float y, ref float s, nuint cols, bool scaled, bool accumulate)
        where TW : unmanaged
        where TL : struct, IWeightWidening<TW>
    {
        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0;
        nuint j = 0;
        for (; j + 2 <= cols; j += 2)
        {
            ref TW c = ref Unsafe.Add(ref w, j * stride);
            a0 = Fma512(TL.Load16(ref c), Vector512.Create(Unsafe.Add(ref x, j)), a0);
            a1 = Fma512(TL.Load16(ref Unsafe.Add(ref c, stride)), Vector512.Create(Unsafe.Add(ref x, j + 1)), a1);
        }

        if (j < cols)
        {
            a0 = Fma512(TL.Load16(ref Unsafe.Add(ref w, j * stride)), Vector512.Create(Unsafe.Add(ref x, j)), a0);
        }

        Finish512(a0 + a1, ref y, ref s, 0, scaled, accumulate);
    }

    // ---- Vector256: a full panel column is 8 widened vectors, 8 chains.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WidePanel256<TW, TL>(ref TW w, ref float x, ref float y, ref float s, nuint cols, bool scaled, bool accumulate)
        where TW : unmanaged
        where TL : struct, IWeightWidening<TW>
    {
        Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (nuint j = 0; j < cols; j++)
        {
            ref TW c = ref Unsafe.Add(ref w, j * PanelRows);
            Vector256<float> xj = Vector256.Create(Unsafe.Add(ref x, j));
            a0 = Fma256(TL.Load8(ref c), xj, a0);
            a1 = Fma256(TL.Load8(ref Unsafe.Add(ref c, 8)), xj, a1);
            a2 = Fma256(TL.Load8(ref Unsafe.Add(ref c, 16)), xj, a2);
            a3 = Fma256(TL.Load8(ref Unsafe.Add(ref c, 24)), xj, a3);
            a4 = Fma256(TL.Load8(ref Unsafe.Add(ref c, 32)), xj, a4);
            a5 = Fma256(TL.Load8(ref Unsafe.Add(ref c, 40)), xj, a5);
            a6 = Fma256(TL.Load8(ref Unsafe.Add(ref c, 48)), xj, a6);
            a7 = Fma256(TL.Load8(ref Unsafe.Add(ref c, 56)), xj, a7);
        }

        Finish256(a0, ref y, ref s, 0, scaled, accumulate);
        Finish256(a1, ref y, ref s, 8, scaled, accumulate);
        Finish256(a2, ref y, ref s, 16, scaled, accumulate);
        Finish256(a3, ref y, ref s, 24, scaled, accumulate);
        Finish256(a4, ref y, ref s, 32, scaled, accumulate);
        Finish256(a5, ref y, ref s, 40, scaled, accumulate);
        Finish256(a6, ref y, ref s, 48, scaled, accumulate);
        Finish256(a7, ref y, ref s, 56, scaled, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WideStrip256<TW, TL>(ref TW w, nuint stride, ref float x, ref float y, ref float s, nuint cols, bool scaled, bool accumulate)
        where TW : unmanaged
        where TL : struct, IWeightWidening<TW>
    {
        Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, b0 = a0, b1 = a0;
        nuint j = 0;
        for (; j + 2 <= cols; j += 2)
        {
            ref TW c = ref Unsafe.Add(ref w, j * stride);
            ref TW d = ref Unsafe.Add(ref c, stride);
            Vector256<float> x0 = Vector256.Create(Unsafe.Add(ref x, j));
            Vector256<float> x1 = Vector256.Create(Unsafe.Add(ref x, j + 1));
            a0 = Fma256(TL.Load8(ref c), x0, a0);
            a1 = Fma256(TL.Load8(ref Unsafe.Add(ref c, 8)), x0, a1);
            b0 = Fma256(TL.Load8(ref d), x1, b0);
            b1 = Fma256(TL.Load8(ref Unsafe.Add(ref d, 8)), x1, b1);
        }

        if (j < cols)
        {
            ref TW c = ref Unsafe.Add(ref w, j * stride);
            Vector256<float> x0 = Vector256.Create(Unsafe.Add(ref x, j));
            a0 = Fma256(TL.Load8(ref c), x0, a0);
            a1 = Fma256(TL.Load8(ref Unsafe.Add(ref c, 8)), x0, a1);
        }

        Finish256(a0 + b0, ref y, ref s, 0, scaled, accumulate);
        Finish256(a1 + b1, ref y, ref s, 8, scaled, accumulate);
    }

    // ---- Vector128 (the ARM NEON path): a full panel column is 16 widened vectors, 16 chains.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WidePanel128<TW, TL>(ref TW w, ref float x, ref float y, ref float s, nuint cols, bool scaled, bool accumulate)
        where TW : unmanaged
        where TL : struct, IWeightWidening<TW>
    {
        Vector128<float> a0 = Vector128<float>.Zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        Vector128<float> a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
        for (nuint j = 0; j < cols; j++)
        {
            ref TW c = ref Unsafe.Add(ref w, j * PanelRows);
            Vector128<float> xj = Vector128.Create(Unsafe.Add(ref x, j));
            a0 = Fma128(TL.Load4(ref c), xj, a0);
            a1 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 4)), xj, a1);
            a2 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 8)), xj, a2);
            a3 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 12)), xj, a3);
            a4 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 16)), xj, a4);
            a5 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 20)), xj, a5);
            a6 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 24)), xj, a6);
            a7 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 28)), xj, a7);
            a8 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 32)), xj, a8);
            a9 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 36)), xj, a9);
            a10 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 40)), xj, a10);
            a11 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 44)), xj, a11);
            a12 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 48)), xj, a12);
            a13 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 52)), xj, a13);
            a14 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 56)), xj, a14);
            a15 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 60)), xj, a15);
        }

        Finish128(a0, ref y, ref s, 0, scaled, accumulate);
        Finish128(a1, ref y, ref s, 4, scaled, accumulate);
        Finish128(a2, ref y, ref s, 8, scaled, accumulate);
        Finish128(a3, ref y, ref s, 12, scaled, accumulate);
        Finish128(a4, ref y, ref s, 16, scaled, accumulate);
        Finish128(a5, ref y, ref s, 20, scaled, accumulate);
        Finish128(a6, ref y, ref s, 24, scaled, accumulate);
        Finish128(a7, ref y, ref s, 28, scaled, accumulate);
        Finish128(a8, ref y, ref s, 32, scaled, accumulate);
        Finish128(a9, ref y, ref s, 36, scaled, accumulate);
        Finish128(a10, ref y, ref s, 40, scaled, accumulate);
        Finish128(a11, ref y, ref s, 44, scaled, accumulate);
        Finish128(a12, ref y, ref s, 48, scaled, accumulate);
        Finish128(a13, ref y, ref s, 52, scaled, accumulate);
        Finish128(a14, ref y, ref s, 56, scaled, accumulate);
        Finish128(a15, ref y, ref s, 60, scaled, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WideStrip128<TW, TL>(ref TW w, nuint stride, ref float x, ref float y, ref float s, nuint cols, bool scaled, bool accumulate)
        where TW : unmanaged
        where TL : struct, IWeightWidening<TW>
    {
        Vector128<float> a0 = Vector128<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        for (nuint j = 0; j < cols; j++)
        {
            ref TW c = ref Unsafe.Add(ref w, j * stride);
            Vector128<float> xj = Vector128.Create(Unsafe.Add(ref x, j));
            a0 = Fma128(TL.Load4(ref c), xj, a0);
            a1 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 4)), xj, a1);
            a2 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 8)), xj, a2);
            a3 = Fma128(TL.Load4(ref Unsafe.Add(ref c, 12)), xj, a3);
        }

        Finish128(a0, ref y, ref s, 0, scaled, accumulate);
        Finish128(a1, ref y, ref s, 4, scaled, accumulate);
        Finish128(a2, ref y, ref s, 8, scaled, accumulate);
        Finish128(a3, ref y, ref s, 12, scaled, accumulate);
    }

    // ---- scalar: column-outer over one panel into 64 float accumulators, then the scales.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WidePanelScalar<TW, TL>(
        ref TW w, nuint panelWidth, ref float x, ref float y, ref float s, nuint cols, bool scaled, bool accumulate)
        where TW : unmanaged
        where TL : struct, IWeightWidening<TW>
    {
        Span<float> acc = stackalloc float[PanelRows];
        acc.Clear();
        ref float a = ref MemoryMarshal.GetReference(acc);
        for (nuint j = 0; j < cols; j++)
        {
            float xj = Unsafe.Add(ref x, j);
            ref TW c = ref Unsafe.Add(ref w, j * panelWidth);
            for (nuint r = 0; r < panelWidth; r++)
            {
                Unsafe.Add(ref a, r) = ScalarOps.MultiplyAdd(TL.Load1(Unsafe.Add(ref c, r)), xj, Unsafe.Add(ref a, r));
            }
        }

        for (nuint r = 0; r < panelWidth; r++)
        {
            float v = Unsafe.Add(ref a, r);
            ref float yr = ref Unsafe.Add(ref y, r);
            if (scaled)
            {
                yr = accumulate ? ScalarOps.MultiplyAdd(v, Unsafe.Add(ref s, r), yr) : v * Unsafe.Add(ref s, r);
            }
            else
            {
                yr = accumulate ? yr + v : v;
            }
        }
    }
}
