using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnEmbedded.Runtime.CompilerServices;

// The batched products: B inputs against one packed W, each weight read once for up to MaxLanes inputs, so a step
// over B models costs one pass over the weights instead of B (docs/architecture.md, "Batched step").
public static partial class PackedGemv
{
    /// <summary>Inputs one pass over the weights serves; larger batches take one pass per group of this many.</summary>
    public const int MaxLanes = 8;

    /// <summary>
    /// ys (count, PaddedRows) += W (PaddedRows, cols) @ xs (count, cols) for every b &lt; count, W packed: the same
    /// as <paramref name="count"/> calls of <see cref="MultiplyAdd"/> on <c>xs[b·cols..]</c> and
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
    /// <see cref="MultiplyAddBatch"/>.
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
            switch (width)
            {
                case VectorWidth.V512:
                    Batch<V512Ops, Vector512<float>>(ref w, ref x, ref y, (nuint)rows, (nuint)cols, lanes, accumulate);
                    break;
                case VectorWidth.V256:
                    Batch<V256Ops, Vector256<float>>(ref w, ref x, ref y, (nuint)rows, (nuint)cols, lanes, accumulate);
                    break;
                case VectorWidth.V128:
                    Batch<V128Ops, Vector128<float>>(ref w, ref x, ref y, (nuint)rows, (nuint)cols, lanes, accumulate);
                    break;
                default:
                    Batch<ScalarOps, float>(ref w, ref x, ref y, (nuint)rows, (nuint)cols, lanes, accumulate);
                    break;
            }
        }
    }

    // One pass over W for `lanes` (1..8) inputs: each panel is cut into blocks one vector of rows tall; a block
    // keeps one accumulator per input and streams its column slices once, front to back. Lanes past `lanes`
    // repeat the last input (same loads, same stores of the same values), so the block code has no branches.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Batch<TOps, TV>(ref float w, ref float x, ref float y, nuint rows, nuint cols, int lanes, bool accumulate)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        nuint last = (nuint)lanes - 1;
        nuint l1 = Math.Min(1, last), l2 = Math.Min(2, last), l3 = Math.Min(3, last);
        nuint l4 = Math.Min(4, last), l5 = Math.Min(5, last), l6 = Math.Min(6, last), l7 = Math.Min(7, last);
        for (nuint p = 0; p < rows; p += PanelRows)
        {
            nuint panelWidth = Math.Min(PanelRows, rows - p);
            ref float panel = ref Unsafe.Add(ref w, p * cols);
            for (nuint s = 0; s < panelWidth; s += (nuint)TOps.Count)
            {
                ref float block = ref Unsafe.Add(ref panel, s);
                ref float y0 = ref Unsafe.Add(ref y, p + s);
                if (lanes <= 4)
                {
                    Block4<TOps, TV>(ref block, panelWidth, cols, accumulate,
                        ref x, ref Unsafe.Add(ref x, l1 * cols), ref Unsafe.Add(ref x, l2 * cols), ref Unsafe.Add(ref x, l3 * cols),
                        ref y0, ref Unsafe.Add(ref y0, l1 * rows), ref Unsafe.Add(ref y0, l2 * rows), ref Unsafe.Add(ref y0, l3 * rows));
                }
                else
                {
                    Block4<TOps, TV>(ref block, panelWidth, cols, accumulate,
                        ref x, ref Unsafe.Add(ref x, l1 * cols), ref Unsafe.Add(ref x, l2 * cols), ref Unsafe.Add(ref x, l3 * cols),
                        ref y0, ref Unsafe.Add(ref y0, l1 * rows), ref Unsafe.Add(ref y0, l2 * rows), ref Unsafe.Add(ref y0, l3 * rows));
                    Block4<TOps, TV>(ref block, panelWidth, cols, accumulate,
                        ref Unsafe.Add(ref x, l4 * cols), ref Unsafe.Add(ref x, l5 * cols),
                        ref Unsafe.Add(ref x, l6 * cols), ref Unsafe.Add(ref x, l7 * cols),
                        ref Unsafe.Add(ref y0, l4 * rows), ref Unsafe.Add(ref y0, l5 * rows),
                        ref Unsafe.Add(ref y0, l6 * rows), ref Unsafe.Add(ref y0, l7 * rows));
                }
            }
        }
    }

    // One vector of rows (stride = the panel width between columns) for four inputs: four FMA chains.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4<TOps, TV>(ref float w, nuint stride, nuint cols, bool accumulate,
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
