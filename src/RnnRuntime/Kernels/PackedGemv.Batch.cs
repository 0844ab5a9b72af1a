using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnEmbedded.Runtime.CompilerServices;

// The batched products: B inputs against one packed W, each weight read once for up to MaxLanes inputs, so a step
// over B models costs one pass over the weights instead of B (docs/architecture.md, "Batched step").
public static partial class PackedGemv
{
    /// <summary>Inputs one pass over the weights serves; larger batches take one pass per group of this many.</summary>
    public const int MaxLanes = 16;

    /// <summary>
    /// ys (count, PaddedRows) += W (PaddedRows, cols) @ xs (count, cols) for every b &lt; count, W packed: the same
    /// as <paramref name="count"/> calls of <see cref="MultiplyAdd(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, VectorWidth)"/> on <c>xs[b·cols..]</c> and
    /// <c>ys[b·PaddedRows..]</c>, reading each weight once per <see cref="MaxLanes"/> inputs. The summation order
    /// differs from the single product's, so results agree within rounding, not bit for bit.
    /// </summary>
    /// <param name="packed">W in the panel layout: PaddedRows · cols floats.</param>
    /// <param name="xs">count inputs of cols floats, one after another; must not overlap <paramref name="ys"/>.</param>
    /// <param name="ys">count outputs of PaddedRows floats (a multiple of 16), one after another; accumulated into.</param>
    /// <param name="count">The number of inputs; <c>xs.Length</c> and <c>ys.Length</c> are multiples of it.</param>
    /// <param name="width">The widest vector width to use (see <see cref="Simd.Resolve"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAddBatch(ReadOnlySpan<float> packed, ReadOnlySpan<float> xs, Span<float> ys, int count, VectorWidth width) =>
        RunBatch(packed, xs, ys, count, width, accumulate: true);

    /// <summary>
    /// ys (count, PaddedRows) = W (PaddedRows, cols) @ xs (count, cols) for every b &lt; count, W packed; see
    /// <see cref="MultiplyAddBatch(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, VectorWidth)"/>.
    /// </summary>
    /// <param name="packed">W in the panel layout: PaddedRows · cols floats.</param>
    /// <param name="xs">count inputs of cols floats, one after another; must not overlap <paramref name="ys"/>.</param>
    /// <param name="ys">count outputs of PaddedRows floats (a multiple of 16), one after another; overwritten.</param>
    /// <param name="count">The number of inputs; <c>xs.Length</c> and <c>ys.Length</c> are multiples of it.</param>
    /// <param name="width">The widest vector width to use (see <see cref="Simd.Resolve"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyBatch(ReadOnlySpan<float> packed, ReadOnlySpan<float> xs, Span<float> ys, int count, VectorWidth width) =>
        RunBatch(packed, xs, ys, count, width, accumulate: false);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunBatch(ReadOnlySpan<float> packed, ReadOnlySpan<float> xs, Span<float> ys, int count, VectorWidth width, bool accumulate)
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

        int rows = ys.Length / count;
        int cols = xs.Length / count;
        if ((rows & (RowAlign - 1)) != 0)
        {
            ThrowHelper.Length(nameof(ys), $"length {ys.Length} / count {count} = {rows} must be the padded row count, a multiple of {RowAlign}.");
        }

        if ((long)rows * cols != packed.Length)
        {
            ThrowHelper.Length(nameof(packed), $"length {packed.Length} must equal padded rows {rows} × cols {cols}.");
        }

        if (xs.Overlaps(ys))
        {
            ThrowHelper.Overlap(nameof(ys), nameof(xs));
        }

        if (cols == 0)
        {
            if (!accumulate)
            {
                ys.Clear();
            }

            return;
        }

        width = Simd.Resolve(width);
        ref float w = ref MemoryMarshal.GetReference(packed);
        for (int b = 0; b < count; b += MaxLanes)
        {
            int lanes = Math.Min(MaxLanes, count - b);
            ref float x = ref MemoryMarshal.GetReference(xs.Slice(b * cols));
            ref float y = ref MemoryMarshal.GetReference(ys.Slice(b * rows));

            // Each pass starts where the previous pass over W (single or batched) ended, as the single product does
            // (PackedGemv.PassOrder.cs): a W bigger than L2 then finds its last-read part still there.
            bool backward = NextPassBackward(ref w, packed.Length);
            switch (width)
            {
                case VectorWidth.V512:
                    Batch512(ref w, ref x, ref y, (nuint)rows, (nuint)cols, lanes, accumulate, backward);
                    break;
                case VectorWidth.V256:
                    Batch<V256Ops, Vector256<float>>(ref w, ref x, ref y, (nuint)rows, (nuint)cols, lanes, accumulate, backward);
                    break;
                case VectorWidth.V128:
                    Batch<V128Ops, Vector128<float>>(ref w, ref x, ref y, (nuint)rows, (nuint)cols, lanes, accumulate, backward);
                    break;
                default:
                    Batch<ScalarOps, float>(ref w, ref x, ref y, (nuint)rows, (nuint)cols, lanes, accumulate, backward);
                    break;
            }
        }
    }

    // One pass over W for `lanes` (1..8) inputs: each panel is cut into blocks two vectors of rows tall (one for
    // an odd last vector); a block keeps one accumulator per row vector and input (8 FMA chains) and streams its
    // column slices once, front to back; inputs 5..8 take a second pass over the block while it is in L1. Lanes
    // past `lanes` repeat the last input (same loads, same stores of the same values), so blocks have no branches.
    // `backward` walks the panels back to front (each panel is computed the same way: same bits).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Batch<TOps, TV>(
        ref float w, ref float x, ref float y, nuint rows, nuint cols, int lanes, bool accumulate, bool backward)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        nuint last = (nuint)lanes - 1;
        nuint vector = (nuint)TOps.Count;
        nuint panels = (rows + PanelRows - 1) / PanelRows;
        for (nuint i = 0; i < panels; i++)
        {
            nuint p = (backward ? panels - 1 - i : i) * PanelRows;
            nuint panelWidth = Math.Min(PanelRows, rows - p);
            ref float panel = ref Unsafe.Add(ref w, p * cols);
            for (nuint first = 0; first <= last; first += 4)
            {
                nuint l0 = first, l1 = Math.Min(first + 1, last), l2 = Math.Min(first + 2, last), l3 = Math.Min(first + 3, last);
                ref float x0 = ref Unsafe.Add(ref x, l0 * cols);
                ref float x1 = ref Unsafe.Add(ref x, l1 * cols);
                ref float x2 = ref Unsafe.Add(ref x, l2 * cols);
                ref float x3 = ref Unsafe.Add(ref x, l3 * cols);
                nuint s = 0;
                for (; s + (2 * vector) <= panelWidth; s += 2 * vector)
                {
                    ref float y0 = ref Unsafe.Add(ref y, p + s);
                    Block2x4<TOps, TV>(ref Unsafe.Add(ref panel, s), panelWidth, cols, accumulate, ref x0, ref x1, ref x2, ref x3,
                        ref Unsafe.Add(ref y0, l0 * rows), ref Unsafe.Add(ref y0, l1 * rows),
                        ref Unsafe.Add(ref y0, l2 * rows), ref Unsafe.Add(ref y0, l3 * rows));
                }

                if (s < panelWidth)
                {
                    ref float y0 = ref Unsafe.Add(ref y, p + s);
                    Block1x4<TOps, TV>(ref Unsafe.Add(ref panel, s), panelWidth, cols, accumulate, ref x0, ref x1, ref x2, ref x3,
                        ref Unsafe.Add(ref y0, l0 * rows), ref Unsafe.Add(ref y0, l1 * rows),
                        ref Unsafe.Add(ref y0, l2 * rows), ref Unsafe.Add(ref y0, l3 * rows));
                }
            }
        }
    }

    // Two vectors of rows (stride = the panel width between columns) for four inputs: eight FMA chains.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block2x4<TOps, TV>(ref float w, nuint stride, nuint cols, bool accumulate,
        ref float x0, ref float x1, ref float x2, ref float x3, ref float y0, ref float y1, ref float y2, ref float y3)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        nuint v = (nuint)TOps.Count;
        TV zero = TOps.Create(0f);
        TV a0 = accumulate ? TOps.Load(ref y0, 0) : zero, b0 = accumulate ? TOps.Load(ref y0, v) : zero;
        TV a1 = accumulate ? TOps.Load(ref y1, 0) : zero, b1 = accumulate ? TOps.Load(ref y1, v) : zero;
        TV a2 = accumulate ? TOps.Load(ref y2, 0) : zero, b2 = accumulate ? TOps.Load(ref y2, v) : zero;
        TV a3 = accumulate ? TOps.Load(ref y3, 0) : zero, b3 = accumulate ? TOps.Load(ref y3, v) : zero;
        for (nuint j = 0; j < cols; j++)
        {
            TV wa = TOps.Load(ref w, j * stride);
            TV wb = TOps.Load(ref w, (j * stride) + v);
            TV c0 = TOps.Create(Unsafe.Add(ref x0, j));
            TV c1 = TOps.Create(Unsafe.Add(ref x1, j));
            TV c2 = TOps.Create(Unsafe.Add(ref x2, j));
            TV c3 = TOps.Create(Unsafe.Add(ref x3, j));
            a0 = TOps.MultiplyAdd(wa, c0, a0);
            b0 = TOps.MultiplyAdd(wb, c0, b0);
            a1 = TOps.MultiplyAdd(wa, c1, a1);
            b1 = TOps.MultiplyAdd(wb, c1, b1);
            a2 = TOps.MultiplyAdd(wa, c2, a2);
            b2 = TOps.MultiplyAdd(wb, c2, b2);
            a3 = TOps.MultiplyAdd(wa, c3, a3);
            b3 = TOps.MultiplyAdd(wb, c3, b3);
        }

        TOps.Store(a0, ref y0, 0);
        TOps.Store(b0, ref y0, v);
        TOps.Store(a1, ref y1, 0);
        TOps.Store(b1, ref y1, v);
        TOps.Store(a2, ref y2, 0);
        TOps.Store(b2, ref y2, v);
        TOps.Store(a3, ref y3, 0);
        TOps.Store(b3, ref y3, v);
    }

    // One vector of rows (the last of an odd count) for four inputs: four FMA chains.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block1x4<TOps, TV>(ref float w, nuint stride, nuint cols, bool accumulate,
        ref float x0, ref float x1, ref float x2, ref float x3, ref float y0, ref float y1, ref float y2, ref float y3)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        TV zero = TOps.Create(0f);
        TV a0 = accumulate ? TOps.Load(ref y0, 0) : zero;
        TV a1 = accumulate ? TOps.Load(ref y1, 0) : zero;
        TV a2 = accumulate ? TOps.Load(ref y2, 0) : zero;
        TV a3 = accumulate ? TOps.Load(ref y3, 0) : zero;
        for (nuint j = 0; j < cols; j++)
        {
            TV wj = TOps.Load(ref w, j * stride);
            a0 = TOps.MultiplyAdd(wj, TOps.Create(Unsafe.Add(ref x0, j)), a0);
            a1 = TOps.MultiplyAdd(wj, TOps.Create(Unsafe.Add(ref x1, j)), a1);
            a2 = TOps.MultiplyAdd(wj, TOps.Create(Unsafe.Add(ref x2, j)), a2);
            a3 = TOps.MultiplyAdd(wj, TOps.Create(Unsafe.Add(ref x3, j)), a3);
        }

        TOps.Store(a0, ref y0, 0);
        TOps.Store(a1, ref y1, 0);
        TOps.Store(a2, ref y2, 0);
        TOps.Store(a3, ref y3, 0);
    }
}
