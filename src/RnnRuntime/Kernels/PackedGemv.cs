using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnEmbedded.Runtime.CompilerServices;

/// <summary>
/// Matrix-vector product over the panel layout of docs/architecture.md ("Packed weights"), the hot path of
/// every step. A matrix W (rows, cols) is stored with rows zero-padded to a multiple of 16, cut into panels of
/// 64 rows (the last one 16, 32, 48 or 64 wide), column-major inside a panel: element (r, j) of panel p (width
/// w_p) is at <c>64p·cols + j·w_p + (r − 64p)</c>. The kernel streams the weights once, panel by panel,
/// broadcasting x[j] and accumulating whole columns of a panel in registers: no horizontal reductions. A matrix too
/// big for L2 is walked front to back and back to front on alternate calls (PackedGemv.PassOrder.cs).
/// Shapes come from the spans: <c>y.Length</c> is the padded row count, <c>x.Length</c> is cols and
/// <c>packed.Length == y.Length · x.Length</c>. The padded outputs receive 0·x (callers size y to the padded row
/// count and ignore the tail). The layout is defined once, in src/Shared/PanelPacking.cs, which the generator
/// uses to pack weights at build time.
/// </summary>
[SkipLocalsInit]
[EditorBrowsable(EditorBrowsableState.Never)]
public static partial class PackedGemv
{
    private const int PanelRows = PanelPacking.PanelRows;
    private const int RowAlign = PanelPacking.RowAlign;

    /// <summary>y (PaddedRows,) += W (PaddedRows, cols) @ x (cols,), W packed.</summary>
    /// <param name="packed">W in the panel layout: <c>y.Length · x.Length</c> floats.</param>
    /// <param name="x">The input vector (cols,); must not overlap <paramref name="y"/>.</param>
    /// <param name="y">The output (PaddedRows,), accumulated into; its length must be a multiple of 16.</param>
    /// <param name="width">The widest vector width to use (see <see cref="Simd.Resolve"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd(ReadOnlySpan<float> packed, ReadOnlySpan<float> x, Span<float> y, VectorWidth width) =>
        Run(packed, x, y, width, accumulate: true);

    /// <summary>y (PaddedRows,) = W (PaddedRows, cols) @ x (cols,), W packed.</summary>
    /// <param name="packed">W in the panel layout: <c>y.Length · x.Length</c> floats.</param>
    /// <param name="x">The input vector (cols,); must not overlap <paramref name="y"/>.</param>
    /// <param name="y">The output (PaddedRows,), overwritten; its length must be a multiple of 16.</param>
    /// <param name="width">The widest vector width to use (see <see cref="Simd.Resolve"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ReadOnlySpan<float> packed, ReadOnlySpan<float> x, Span<float> y, VectorWidth width) =>
        Run(packed, x, y, width, accumulate: false);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run(ReadOnlySpan<float> packed, ReadOnlySpan<float> x, Span<float> y, VectorWidth width, bool accumulate)
    {
        CheckShapes(packed.Length, x, y);
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

        ref float w = ref MemoryMarshal.GetReference(packed);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        bool backward = NextPassBackward(ref w, packed.Length); // PackedGemv.PassOrder.cs
        switch (width)
        {
            case VectorWidth.V512:
                Run512(ref w, ref xr, ref yr, rows, cols, accumulate, backward);
                break;
            case VectorWidth.V256:
                Run256(ref w, ref xr, ref yr, rows, cols, accumulate, backward);
                break;
            case VectorWidth.V128:
                Run128(ref w, ref xr, ref yr, rows, cols, accumulate, backward);
                break;
            default:
                RunScalar(ref w, ref xr, ref yr, rows, cols, accumulate, backward);
                break;
        }
    }

    // The argument rules of one matrix-vector product, whatever the weights' storage type (float32 here, bfloat16
    // and int8 in PackedGemv.Quantized.cs): y is whole 16-row strips, the packed matrix is y × x, x and y apart.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckShapes(int packedLength, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        if ((y.Length & (RowAlign - 1)) != 0)
        {
            ThrowHelper.Length(nameof(y), $"length {y.Length} must be the padded row count, a multiple of {RowAlign}.");
        }

        if ((long)y.Length * x.Length != packedLength)
        {
            ThrowHelper.Length("packed", $"length {packedLength} must equal y.Length {y.Length} (padded rows) × x.Length {x.Length} (cols).");
        }

        if (x.Overlaps(y))
        {
            ThrowHelper.Overlap(nameof(y), nameof(x));
        }
    }

    // ---- Vector512: a full panel is 4 vectors; two columns per iteration into two accumulator sets (8 FMA chains).

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run512(ref float w, ref float x, ref float y, nuint rows, nuint cols, bool accumulate, bool backward)
    {
        nuint panels = (rows + (PanelRows - 1)) / PanelRows;
        for (nuint i = 0; i < panels; i++)
        {
            nuint p = (backward ? panels - 1 - i : i) * PanelRows;
            nuint panelWidth = Math.Min(PanelRows, rows - p);
            ref float panel = ref Unsafe.Add(ref w, p * cols);
            if (panelWidth == PanelRows)
            {
                Panel512(ref panel, ref x, ref Unsafe.Add(ref y, p), cols, accumulate);
            }
            else
            {
                for (nuint s = 0; s < panelWidth; s += RowAlign)
                {
                    Strip512(ref Unsafe.Add(ref panel, s), panelWidth, ref x, ref Unsafe.Add(ref y, p + s), cols, accumulate);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fma512(Vector512<float> a, Vector512<float> b, Vector512<float> c) => V512Ops.MultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Panel512(ref float w, ref float x, ref float y, nuint cols, bool accumulate)
    {
        Vector512<float> a0, a1, a2, a3;
        if (accumulate)
        {
            a0 = Vector512.LoadUnsafe(ref y, 0);
            a1 = Vector512.LoadUnsafe(ref y, 16);
            a2 = Vector512.LoadUnsafe(ref y, 32);
            a3 = Vector512.LoadUnsafe(ref y, 48);
        }
        else
        {
            a0 = a1 = a2 = a3 = Vector512<float>.Zero;
        }

        Vector512<float> b0 = Vector512<float>.Zero, b1 = b0, b2 = b0, b3 = b0;
        nuint j = 0;
        for (; j + 2 <= cols; j += 2)
        {
            ref float c = ref Unsafe.Add(ref w, j * PanelRows);
            Vector512<float> x0 = Vector512.Create(Unsafe.Add(ref x, j));
            Vector512<float> x1 = Vector512.Create(Unsafe.Add(ref x, j + 1));
            a0 = Fma512(Vector512.LoadUnsafe(ref c, 0), x0, a0);
            a1 = Fma512(Vector512.LoadUnsafe(ref c, 16), x0, a1);
            a2 = Fma512(Vector512.LoadUnsafe(ref c, 32), x0, a2);
            a3 = Fma512(Vector512.LoadUnsafe(ref c, 48), x0, a3);
            b0 = Fma512(Vector512.LoadUnsafe(ref c, 64), x1, b0);
            b1 = Fma512(Vector512.LoadUnsafe(ref c, 80), x1, b1);
            b2 = Fma512(Vector512.LoadUnsafe(ref c, 96), x1, b2);
            b3 = Fma512(Vector512.LoadUnsafe(ref c, 112), x1, b3);
        }

        if (j < cols)
        {
            ref float c = ref Unsafe.Add(ref w, j * PanelRows);
            Vector512<float> x0 = Vector512.Create(Unsafe.Add(ref x, j));
            a0 = Fma512(Vector512.LoadUnsafe(ref c, 0), x0, a0);
            a1 = Fma512(Vector512.LoadUnsafe(ref c, 16), x0, a1);
            a2 = Fma512(Vector512.LoadUnsafe(ref c, 32), x0, a2);
            a3 = Fma512(Vector512.LoadUnsafe(ref c, 48), x0, a3);
        }

        (a0 + b0).StoreUnsafe(ref y, 0);
        (a1 + b1).StoreUnsafe(ref y, 16);
        (a2 + b2).StoreUnsafe(ref y, 32);
        (a3 + b3).StoreUnsafe(ref y, 48);
    }

    // 16 rows of a narrower last panel (column stride = panel width): 4 columns per iteration, 4 chains.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Strip512(ref float w, nuint stride, ref float x, ref float y, nuint cols, bool accumulate)
    {
        Vector512<float> a0 = accumulate ? Vector512.LoadUnsafe(ref y) : Vector512<float>.Zero;
        Vector512<float> a1 = Vector512<float>.Zero, a2 = a1, a3 = a1;
        nuint j = 0;
        for (; j + 4 <= cols; j += 4)
        {
            ref float c = ref Unsafe.Add(ref w, j * stride);
            a0 = Fma512(Vector512.LoadUnsafe(ref c, 0), Vector512.Create(Unsafe.Add(ref x, j)), a0);
            a1 = Fma512(Vector512.LoadUnsafe(ref c, stride), Vector512.Create(Unsafe.Add(ref x, j + 1)), a1);
            a2 = Fma512(Vector512.LoadUnsafe(ref c, 2 * stride), Vector512.Create(Unsafe.Add(ref x, j + 2)), a2);
            a3 = Fma512(Vector512.LoadUnsafe(ref c, 3 * stride), Vector512.Create(Unsafe.Add(ref x, j + 3)), a3);
        }

        for (; j < cols; j++)
        {
            a0 = Fma512(Vector512.LoadUnsafe(ref w, j * stride), Vector512.Create(Unsafe.Add(ref x, j)), a0);
        }

        ((a0 + a1) + (a2 + a3)).StoreUnsafe(ref y);
    }

    // ---- Vector256: a full panel is 8 vectors (8 FMA chains), one column per iteration.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run256(ref float w, ref float x, ref float y, nuint rows, nuint cols, bool accumulate, bool backward)
    {
        nuint panels = (rows + (PanelRows - 1)) / PanelRows;
        for (nuint i = 0; i < panels; i++)
        {
            nuint p = (backward ? panels - 1 - i : i) * PanelRows;
            nuint panelWidth = Math.Min(PanelRows, rows - p);
            ref float panel = ref Unsafe.Add(ref w, p * cols);
            if (panelWidth == PanelRows)
            {
                Panel256(ref panel, ref x, ref Unsafe.Add(ref y, p), cols, accumulate);
            }
            else
            {
                for (nuint s = 0; s < panelWidth; s += RowAlign)
                {
                    Strip256(ref Unsafe.Add(ref panel, s), panelWidth, ref x, ref Unsafe.Add(ref y, p + s), cols, accumulate);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fma256(Vector256<float> a, Vector256<float> b, Vector256<float> c) => V256Ops.MultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Panel256(ref float w, ref float x, ref float y, nuint cols, bool accumulate)
    {
        Vector256<float> a0, a1, a2, a3, a4, a5, a6, a7;
        if (accumulate)
        {
            a0 = Vector256.LoadUnsafe(ref y, 0);
            a1 = Vector256.LoadUnsafe(ref y, 8);
            a2 = Vector256.LoadUnsafe(ref y, 16);
            a3 = Vector256.LoadUnsafe(ref y, 24);
            a4 = Vector256.LoadUnsafe(ref y, 32);
            a5 = Vector256.LoadUnsafe(ref y, 40);
            a6 = Vector256.LoadUnsafe(ref y, 48);
            a7 = Vector256.LoadUnsafe(ref y, 56);
        }
        else
        {
            a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = Vector256<float>.Zero;
        }

        for (nuint j = 0; j < cols; j++)
        {
            ref float c = ref Unsafe.Add(ref w, j * PanelRows);
            Vector256<float> xj = Vector256.Create(Unsafe.Add(ref x, j));
            a0 = Fma256(Vector256.LoadUnsafe(ref c, 0), xj, a0);
            a1 = Fma256(Vector256.LoadUnsafe(ref c, 8), xj, a1);
            a2 = Fma256(Vector256.LoadUnsafe(ref c, 16), xj, a2);
            a3 = Fma256(Vector256.LoadUnsafe(ref c, 24), xj, a3);
            a4 = Fma256(Vector256.LoadUnsafe(ref c, 32), xj, a4);
            a5 = Fma256(Vector256.LoadUnsafe(ref c, 40), xj, a5);
            a6 = Fma256(Vector256.LoadUnsafe(ref c, 48), xj, a6);
            a7 = Fma256(Vector256.LoadUnsafe(ref c, 56), xj, a7);
        }

        a0.StoreUnsafe(ref y, 0);
        a1.StoreUnsafe(ref y, 8);
        a2.StoreUnsafe(ref y, 16);
        a3.StoreUnsafe(ref y, 24);
        a4.StoreUnsafe(ref y, 32);
        a5.StoreUnsafe(ref y, 40);
        a6.StoreUnsafe(ref y, 48);
        a7.StoreUnsafe(ref y, 56);
    }

    // 16 rows (2 vectors) of a narrower last panel: 2 columns per iteration, 4 chains.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Strip256(ref float w, nuint stride, ref float x, ref float y, nuint cols, bool accumulate)
    {
        Vector256<float> a0, a1;
        if (accumulate)
        {
            a0 = Vector256.LoadUnsafe(ref y, 0);
            a1 = Vector256.LoadUnsafe(ref y, 8);
        }
        else
        {
            a0 = a1 = Vector256<float>.Zero;
        }

        Vector256<float> b0 = Vector256<float>.Zero, b1 = b0;
        nuint j = 0;
        for (; j + 2 <= cols; j += 2)
        {
            ref float c = ref Unsafe.Add(ref w, j * stride);
            Vector256<float> x0 = Vector256.Create(Unsafe.Add(ref x, j));
            Vector256<float> x1 = Vector256.Create(Unsafe.Add(ref x, j + 1));
            a0 = Fma256(Vector256.LoadUnsafe(ref c, 0), x0, a0);
            a1 = Fma256(Vector256.LoadUnsafe(ref c, 8), x0, a1);
            b0 = Fma256(Vector256.LoadUnsafe(ref c, stride), x1, b0);
            b1 = Fma256(Vector256.LoadUnsafe(ref c, stride + 8), x1, b1);
        }

        if (j < cols)
        {
            ref float c = ref Unsafe.Add(ref w, j * stride);
            Vector256<float> x0 = Vector256.Create(Unsafe.Add(ref x, j));
            a0 = Fma256(Vector256.LoadUnsafe(ref c, 0), x0, a0);
            a1 = Fma256(Vector256.LoadUnsafe(ref c, 8), x0, a1);
        }

        (a0 + b0).StoreUnsafe(ref y, 0);
        (a1 + b1).StoreUnsafe(ref y, 8);
    }

    // ---- Vector128 (the ARM NEON path): a full panel is 16 vectors, one column per iteration.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run128(ref float w, ref float x, ref float y, nuint rows, nuint cols, bool accumulate, bool backward)
    {
        nuint panels = (rows + (PanelRows - 1)) / PanelRows;
        for (nuint i = 0; i < panels; i++)
        {
            nuint p = (backward ? panels - 1 - i : i) * PanelRows;
            nuint panelWidth = Math.Min(PanelRows, rows - p);
            ref float panel = ref Unsafe.Add(ref w, p * cols);
            if (panelWidth == PanelRows)
            {
                Panel128(ref panel, ref x, ref Unsafe.Add(ref y, p), cols, accumulate);
            }
            else
            {
                for (nuint s = 0; s < panelWidth; s += RowAlign)
                {
                    Strip128(ref Unsafe.Add(ref panel, s), panelWidth, ref x, ref Unsafe.Add(ref y, p + s), cols, accumulate);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Fma128(Vector128<float> a, Vector128<float> b, Vector128<float> c) => V128Ops.MultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Panel128(ref float w, ref float x, ref float y, nuint cols, bool accumulate)
    {
        Vector128<float> a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15;
        if (accumulate)
        {
            a0 = Vector128.LoadUnsafe(ref y, 0);
            a1 = Vector128.LoadUnsafe(ref y, 4);
            a2 = Vector128.LoadUnsafe(ref y, 8);
            a3 = Vector128.LoadUnsafe(ref y, 12);
            a4 = Vector128.LoadUnsafe(ref y, 16);
            a5 = Vector128.LoadUnsafe(ref y, 20);
            a6 = Vector128.LoadUnsafe(ref y, 24);
            a7 = Vector128.LoadUnsafe(ref y, 28);
            a8 = Vector128.LoadUnsafe(ref y, 32);
            a9 = Vector128.LoadUnsafe(ref y, 36);
            a10 = Vector128.LoadUnsafe(ref y, 40);
            a11 = Vector128.LoadUnsafe(ref y, 44);
            a12 = Vector128.LoadUnsafe(ref y, 48);
            a13 = Vector128.LoadUnsafe(ref y, 52);
            a14 = Vector128.LoadUnsafe(ref y, 56);
            a15 = Vector128.LoadUnsafe(ref y, 60);
        }
        else
        {
            a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = a9 = a10 = a11 = a12 = a13 = a14 = a15 = Vector128<float>.Zero;
        }

        for (nuint j = 0; j < cols; j++)
        {
            ref float c = ref Unsafe.Add(ref w, j * PanelRows);
            Vector128<float> xj = Vector128.Create(Unsafe.Add(ref x, j));
            a0 = Fma128(Vector128.LoadUnsafe(ref c, 0), xj, a0);
            a1 = Fma128(Vector128.LoadUnsafe(ref c, 4), xj, a1);
            a2 = Fma128(Vector128.LoadUnsafe(ref c, 8), xj, a2);
            a3 = Fma128(Vector128.LoadUnsafe(ref c, 12), xj, a3);
            a4 = Fma128(Vector128.LoadUnsafe(ref c, 16), xj, a4);
            a5 = Fma128(Vector128.LoadUnsafe(ref c, 20), xj, a5);
            a6 = Fma128(Vector128.LoadUnsafe(ref c, 24), xj, a6);
            a7 = Fma128(Vector128.LoadUnsafe(ref c, 28), xj, a7);
            a8 = Fma128(Vector128.LoadUnsafe(ref c, 32), xj, a8);
            a9 = Fma128(Vector128.LoadUnsafe(ref c, 36), xj, a9);
            a10 = Fma128(Vector128.LoadUnsafe(ref c, 40), xj, a10);
            a11 = Fma128(Vector128.LoadUnsafe(ref c, 44), xj, a11);
            a12 = Fma128(Vector128.LoadUnsafe(ref c, 48), xj, a12);
            a13 = Fma128(Vector128.LoadUnsafe(ref c, 52), xj, a13);
            a14 = Fma128(Vector128.LoadUnsafe(ref c, 56), xj, a14);
            a15 = Fma128(Vector128.LoadUnsafe(ref c, 60), xj, a15);
        }

        a0.StoreUnsafe(ref y, 0);
        a1.StoreUnsafe(ref y, 4);
        a2.StoreUnsafe(ref y, 8);
        a3.StoreUnsafe(ref y, 12);
        a4.StoreUnsafe(ref y, 16);
        a5.StoreUnsafe(ref y, 20);
        a6.StoreUnsafe(ref y, 24);
        a7.StoreUnsafe(ref y, 28);
        a8.StoreUnsafe(ref y, 32);
        a9.StoreUnsafe(ref y, 36);
        a10.StoreUnsafe(ref y, 40);
        a11.StoreUnsafe(ref y, 44);
        a12.StoreUnsafe(ref y, 48);
        a13.StoreUnsafe(ref y, 52);
        a14.StoreUnsafe(ref y, 56);
        a15.StoreUnsafe(ref y, 60);
    }

    // 16 rows (4 vectors) of a narrower last panel: one column per iteration, 4 chains.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Strip128(ref float w, nuint stride, ref float x, ref float y, nuint cols, bool accumulate)
    {
        Vector128<float> a0, a1, a2, a3;
        if (accumulate)
        {
            a0 = Vector128.LoadUnsafe(ref y, 0);
            a1 = Vector128.LoadUnsafe(ref y, 4);
            a2 = Vector128.LoadUnsafe(ref y, 8);
            a3 = Vector128.LoadUnsafe(ref y, 12);
        }
        else
        {
            a0 = a1 = a2 = a3 = Vector128<float>.Zero;
        }

        for (nuint j = 0; j < cols; j++)
        {
            ref float c = ref Unsafe.Add(ref w, j * stride);
            Vector128<float> xj = Vector128.Create(Unsafe.Add(ref x, j));
            a0 = Fma128(Vector128.LoadUnsafe(ref c, 0), xj, a0);
            a1 = Fma128(Vector128.LoadUnsafe(ref c, 4), xj, a1);
            a2 = Fma128(Vector128.LoadUnsafe(ref c, 8), xj, a2);
            a3 = Fma128(Vector128.LoadUnsafe(ref c, 12), xj, a3);
        }

        a0.StoreUnsafe(ref y, 0);
        a1.StoreUnsafe(ref y, 4);
        a2.StoreUnsafe(ref y, 8);
        a3.StoreUnsafe(ref y, 12);
    }

    // ---- scalar: column-outer over each panel, y stays in L1.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunScalar(ref float w, ref float x, ref float y, nuint rows, nuint cols, bool accumulate, bool backward)
    {
        if (!accumulate)
        {
            MemoryMarshal.CreateSpan(ref y, (int)rows).Clear();
        }

        nuint panels = (rows + (PanelRows - 1)) / PanelRows;
        for (nuint i = 0; i < panels; i++)
        {
            nuint p = (backward ? panels - 1 - i : i) * PanelRows;
            nuint panelWidth = Math.Min(PanelRows, rows - p);
            ref float panel = ref Unsafe.Add(ref w, p * cols);
            ref float yp = ref Unsafe.Add(ref y, p);
            for (nuint j = 0; j < cols; j++)
            {
                float xj = Unsafe.Add(ref x, j);
                ref float c = ref Unsafe.Add(ref panel, j * panelWidth);
                for (nuint r = 0; r < panelWidth; r++)
                {
                    Unsafe.Add(ref yp, r) = ScalarOps.MultiplyAdd(Unsafe.Add(ref c, r), xj, Unsafe.Add(ref yp, r));
                }
            }
        }
    }
}
