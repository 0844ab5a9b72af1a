using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RnnEmbedded.Runtime.CompilerServices;

// The batched product at Vector512 (which implies AVX-512 and its 32 vector registers): register tiles of 16 FMA
// chains, so both FMA ports stay busy — a whole 64-row panel (4 vectors) × up to 4 inputs, or half a panel
// (2 vectors) × 5..8 inputs — each column of the tile loaded once for all its inputs, whose x[j] are broadcast. The lane count is a type
// argument (Lanes1..Lanes4), so a group of 1, 2 or 3 inputs does exactly its own work instead of repeating the
// last input. Each input's sum runs over the columns in order in one chain, as in the narrower batched kernels.
public static partial class PackedGemv
{
    private interface ILaneCount
    {
        static abstract int Value { get; }
    }

    private struct Lanes1 : ILaneCount
    {
        public static int Value => 1;
    }

    private struct Lanes2 : ILaneCount
    {
        public static int Value => 2;
    }

    private struct Lanes3 : ILaneCount
    {
        public static int Value => 3;
    }

    private struct Lanes4 : ILaneCount
    {
        public static int Value => 4;
    }

    private struct Lanes5 : ILaneCount
    {
        public static int Value => 5;
    }

    private struct Lanes6 : ILaneCount
    {
        public static int Value => 6;
    }

    private struct Lanes7 : ILaneCount
    {
        public static int Value => 7;
    }

    private struct Lanes8 : ILaneCount
    {
        public static int Value => 8;
    }

    // One pass over W for up to MaxLanes inputs, panel by panel. Five to eight inputs share each full panel's loads
    // through two tiles of 32 rows × all the inputs (16 chains, half the weight loads of two 4-input passes); a
    // narrower last panel, and groups of up to 4 inputs, take 64-row (or 16-row) tiles × 4 inputs.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Batch512(ref float w, ref float x, ref float y, nuint rows, nuint cols, int lanes, bool accumulate)
    {
        for (nuint p = 0; p < rows; p += PanelRows)
        {
            nuint panelWidth = Math.Min(PanelRows, rows - p);
            ref float panel = ref Unsafe.Add(ref w, p * cols);
            if (lanes > 4 && panelWidth == PanelRows)
            {
                switch (lanes)
                {
                    case 5:
                        Wide512<Lanes5>(ref panel, ref x, ref Unsafe.Add(ref y, p), rows, cols, accumulate);
                        break;
                    case 6:
                        Wide512<Lanes6>(ref panel, ref x, ref Unsafe.Add(ref y, p), rows, cols, accumulate);
                        break;
                    case 7:
                        Wide512<Lanes7>(ref panel, ref x, ref Unsafe.Add(ref y, p), rows, cols, accumulate);
                        break;
                    default:
                        Wide512<Lanes8>(ref panel, ref x, ref Unsafe.Add(ref y, p), rows, cols, accumulate);
                        break;
                }

                continue;
            }

            for (int first = 0; first < lanes; first += 4)
            {
                ref float xg = ref Unsafe.Add(ref x, (nuint)first * cols);
                ref float yg = ref Unsafe.Add(ref y, ((nuint)first * rows) + p);
                switch (Math.Min(4, lanes - first))
                {
                    case 1:
                        Panel512<Lanes1>(ref panel, panelWidth, ref xg, ref yg, rows, cols, accumulate);
                        break;
                    case 2:
                        Panel512<Lanes2>(ref panel, panelWidth, ref xg, ref yg, rows, cols, accumulate);
                        break;
                    case 3:
                        Panel512<Lanes3>(ref panel, panelWidth, ref xg, ref yg, rows, cols, accumulate);
                        break;
                    default:
                        Panel512<Lanes4>(ref panel, panelWidth, ref xg, ref yg, rows, cols, accumulate);
                        break;
                }
            }
        }
    }

    // A full panel for TL = 5..8 inputs: its two 32-row halves, each a tile of 2 vectors × TL inputs.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Wide512<TL>(ref float panel, ref float x, ref float y, nuint rows, nuint cols, bool accumulate)
        where TL : struct, ILaneCount
    {
        Tile2<TL>(ref panel, ref x, ref y, rows, cols, accumulate);
        Tile2<TL>(ref Unsafe.Add(ref panel, 32), ref x, ref Unsafe.Add(ref y, 32), rows, cols, accumulate);
    }

    // 32 rows of a full panel (2 vectors, column stride 64) × TL = 5..8 inputs: 2·TL FMA chains; each column's two
    // weight vectors are loaded once for all the inputs.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile2<TL>(ref float w, ref float x, ref float y, nuint rows, nuint cols, bool accumulate)
        where TL : struct, ILaneCount
    {
        ref float x1 = ref Unsafe.Add(ref x, cols);
        ref float x2 = ref Unsafe.Add(ref x, 2 * cols);
        ref float x3 = ref Unsafe.Add(ref x, 3 * cols);
        ref float x4 = ref Unsafe.Add(ref x, 4 * cols);
        ref float x5 = ref TL.Value > 5 ? ref Unsafe.Add(ref x, 5 * cols) : ref x;
        ref float x6 = ref TL.Value > 6 ? ref Unsafe.Add(ref x, 6 * cols) : ref x;
        ref float x7 = ref TL.Value > 7 ? ref Unsafe.Add(ref x, 7 * cols) : ref x;
        ref float y1 = ref Unsafe.Add(ref y, rows);
        ref float y2 = ref Unsafe.Add(ref y, 2 * rows);
        ref float y3 = ref Unsafe.Add(ref y, 3 * rows);
        ref float y4 = ref Unsafe.Add(ref y, 4 * rows);
        ref float y5 = ref TL.Value > 5 ? ref Unsafe.Add(ref y, 5 * rows) : ref y;
        ref float y6 = ref TL.Value > 6 ? ref Unsafe.Add(ref y, 6 * rows) : ref y;
        ref float y7 = ref TL.Value > 7 ? ref Unsafe.Add(ref y, 7 * rows) : ref y;
        Vector512<float> z = Vector512<float>.Zero;
        Vector512<float> a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
        Vector512<float> b0 = z, b1 = z, b2 = z, b3 = z, b4 = z, b5 = z, b6 = z, b7 = z;
        if (accumulate)
        {
            a0 = Vector512.LoadUnsafe(ref y, 0);
            b0 = Vector512.LoadUnsafe(ref y, 16);
            a1 = Vector512.LoadUnsafe(ref y1, 0);
            b1 = Vector512.LoadUnsafe(ref y1, 16);
            a2 = Vector512.LoadUnsafe(ref y2, 0);
            b2 = Vector512.LoadUnsafe(ref y2, 16);
            a3 = Vector512.LoadUnsafe(ref y3, 0);
            b3 = Vector512.LoadUnsafe(ref y3, 16);
            a4 = Vector512.LoadUnsafe(ref y4, 0);
            b4 = Vector512.LoadUnsafe(ref y4, 16);
            if (TL.Value > 5)
            {
                a5 = Vector512.LoadUnsafe(ref y5, 0);
                b5 = Vector512.LoadUnsafe(ref y5, 16);
            }

            if (TL.Value > 6)
            {
                a6 = Vector512.LoadUnsafe(ref y6, 0);
                b6 = Vector512.LoadUnsafe(ref y6, 16);
            }

            if (TL.Value > 7)
            {
                a7 = Vector512.LoadUnsafe(ref y7, 0);
                b7 = Vector512.LoadUnsafe(ref y7, 16);
            }
        }

        for (nuint j = 0; j < cols; j++)
        {
            ref float column = ref Unsafe.Add(ref w, j * PanelRows);
            Vector512<float> wa = Vector512.LoadUnsafe(ref column, 0);
            Vector512<float> wb = Vector512.LoadUnsafe(ref column, 16);
            Vector512<float> v = Vector512.Create(Unsafe.Add(ref x, j));
            a0 = Fma512(wa, v, a0);
            b0 = Fma512(wb, v, b0);
            v = Vector512.Create(Unsafe.Add(ref x1, j));
            a1 = Fma512(wa, v, a1);
            b1 = Fma512(wb, v, b1);
            v = Vector512.Create(Unsafe.Add(ref x2, j));
            a2 = Fma512(wa, v, a2);
            b2 = Fma512(wb, v, b2);
            v = Vector512.Create(Unsafe.Add(ref x3, j));
            a3 = Fma512(wa, v, a3);
            b3 = Fma512(wb, v, b3);
            v = Vector512.Create(Unsafe.Add(ref x4, j));
            a4 = Fma512(wa, v, a4);
            b4 = Fma512(wb, v, b4);
            if (TL.Value > 5)
            {
                v = Vector512.Create(Unsafe.Add(ref x5, j));
                a5 = Fma512(wa, v, a5);
                b5 = Fma512(wb, v, b5);
            }

            if (TL.Value > 6)
            {
                v = Vector512.Create(Unsafe.Add(ref x6, j));
                a6 = Fma512(wa, v, a6);
                b6 = Fma512(wb, v, b6);
            }

            if (TL.Value > 7)
            {
                v = Vector512.Create(Unsafe.Add(ref x7, j));
                a7 = Fma512(wa, v, a7);
                b7 = Fma512(wb, v, b7);
            }
        }

        a0.StoreUnsafe(ref y, 0);
        b0.StoreUnsafe(ref y, 16);
        a1.StoreUnsafe(ref y1, 0);
        b1.StoreUnsafe(ref y1, 16);
        a2.StoreUnsafe(ref y2, 0);
        b2.StoreUnsafe(ref y2, 16);
        a3.StoreUnsafe(ref y3, 0);
        b3.StoreUnsafe(ref y3, 16);
        a4.StoreUnsafe(ref y4, 0);
        b4.StoreUnsafe(ref y4, 16);
        if (TL.Value > 5)
        {
            a5.StoreUnsafe(ref y5, 0);
            b5.StoreUnsafe(ref y5, 16);
        }

        if (TL.Value > 6)
        {
            a6.StoreUnsafe(ref y6, 0);
            b6.StoreUnsafe(ref y6, 16);
        }

        if (TL.Value > 7)
        {
            a7.StoreUnsafe(ref y7, 0);
            b7.StoreUnsafe(ref y7, 16);
        }
    }

    // One panel for TL inputs (x_l at x + l·cols, y_l at y + l·rows, y already offset to the panel's first row).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Panel512<TL>(ref float panel, nuint panelWidth, ref float x, ref float y, nuint rows, nuint cols, bool accumulate)
        where TL : struct, ILaneCount
    {
        if (panelWidth == PanelRows)
        {
            Tile4<TL>(ref panel, ref x, ref y, rows, cols, accumulate);
            return;
        }

        for (nuint s = 0; s < panelWidth; s += RowAlign)
        {
            Tile1<TL>(ref Unsafe.Add(ref panel, s), panelWidth, ref x, ref Unsafe.Add(ref y, s), rows, cols, accumulate);
        }
    }

    // A full panel (64 rows = 4 vectors, column stride 64) × TL inputs: 4·TL FMA chains.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile4<TL>(ref float w, ref float x, ref float y, nuint rows, nuint cols, bool accumulate)
        where TL : struct, ILaneCount
    {
        ref float x1 = ref TL.Value > 1 ? ref Unsafe.Add(ref x, cols) : ref x;
        ref float x2 = ref TL.Value > 2 ? ref Unsafe.Add(ref x, 2 * cols) : ref x;
        ref float x3 = ref TL.Value > 3 ? ref Unsafe.Add(ref x, 3 * cols) : ref x;
        ref float y1 = ref TL.Value > 1 ? ref Unsafe.Add(ref y, rows) : ref y;
        ref float y2 = ref TL.Value > 2 ? ref Unsafe.Add(ref y, 2 * rows) : ref y;
        ref float y3 = ref TL.Value > 3 ? ref Unsafe.Add(ref y, 3 * rows) : ref y;
        Vector512<float> z = Vector512<float>.Zero;
        Vector512<float> a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
        Vector512<float> c0 = z, c1 = z, c2 = z, c3 = z, d0 = z, d1 = z, d2 = z, d3 = z;
        if (accumulate)
        {
            a0 = Vector512.LoadUnsafe(ref y, 0);
            a1 = Vector512.LoadUnsafe(ref y, 16);
            a2 = Vector512.LoadUnsafe(ref y, 32);
            a3 = Vector512.LoadUnsafe(ref y, 48);
            if (TL.Value > 1)
            {
                b0 = Vector512.LoadUnsafe(ref y1, 0);
                b1 = Vector512.LoadUnsafe(ref y1, 16);
                b2 = Vector512.LoadUnsafe(ref y1, 32);
                b3 = Vector512.LoadUnsafe(ref y1, 48);
            }

            if (TL.Value > 2)
            {
                c0 = Vector512.LoadUnsafe(ref y2, 0);
                c1 = Vector512.LoadUnsafe(ref y2, 16);
                c2 = Vector512.LoadUnsafe(ref y2, 32);
                c3 = Vector512.LoadUnsafe(ref y2, 48);
            }

            if (TL.Value > 3)
            {
                d0 = Vector512.LoadUnsafe(ref y3, 0);
                d1 = Vector512.LoadUnsafe(ref y3, 16);
                d2 = Vector512.LoadUnsafe(ref y3, 32);
                d3 = Vector512.LoadUnsafe(ref y3, 48);
            }
        }

        for (nuint j = 0; j < cols; j++)
        {
            ref float column = ref Unsafe.Add(ref w, j * PanelRows);
            Vector512<float> w0 = Vector512.LoadUnsafe(ref column, 0);
            Vector512<float> w1 = Vector512.LoadUnsafe(ref column, 16);
            Vector512<float> w2 = Vector512.LoadUnsafe(ref column, 32);
            Vector512<float> w3 = Vector512.LoadUnsafe(ref column, 48);
            Vector512<float> v = Vector512.Create(Unsafe.Add(ref x, j));
            a0 = Fma512(w0, v, a0);
            a1 = Fma512(w1, v, a1);
            a2 = Fma512(w2, v, a2);
            a3 = Fma512(w3, v, a3);
            if (TL.Value > 1)
            {
                v = Vector512.Create(Unsafe.Add(ref x1, j));
                b0 = Fma512(w0, v, b0);
                b1 = Fma512(w1, v, b1);
                b2 = Fma512(w2, v, b2);
                b3 = Fma512(w3, v, b3);
            }

            if (TL.Value > 2)
            {
                v = Vector512.Create(Unsafe.Add(ref x2, j));
                c0 = Fma512(w0, v, c0);
                c1 = Fma512(w1, v, c1);
                c2 = Fma512(w2, v, c2);
                c3 = Fma512(w3, v, c3);
            }

            if (TL.Value > 3)
            {
                v = Vector512.Create(Unsafe.Add(ref x3, j));
                d0 = Fma512(w0, v, d0);
                d1 = Fma512(w1, v, d1);
                d2 = Fma512(w2, v, d2);
                d3 = Fma512(w3, v, d3);
            }
        }

        a0.StoreUnsafe(ref y, 0);
        a1.StoreUnsafe(ref y, 16);
        a2.StoreUnsafe(ref y, 32);
        a3.StoreUnsafe(ref y, 48);
        if (TL.Value > 1)
        {
            b0.StoreUnsafe(ref y1, 0);
            b1.StoreUnsafe(ref y1, 16);
            b2.StoreUnsafe(ref y1, 32);
            b3.StoreUnsafe(ref y1, 48);
        }

        if (TL.Value > 2)
        {
            c0.StoreUnsafe(ref y2, 0);
            c1.StoreUnsafe(ref y2, 16);
            c2.StoreUnsafe(ref y2, 32);
            c3.StoreUnsafe(ref y2, 48);
        }

        if (TL.Value > 3)
        {
            d0.StoreUnsafe(ref y3, 0);
            d1.StoreUnsafe(ref y3, 16);
            d2.StoreUnsafe(ref y3, 32);
            d3.StoreUnsafe(ref y3, 48);
        }
    }

    // 16 rows of a narrower last panel (column stride = the panel width) × TL inputs.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1<TL>(ref float w, nuint stride, ref float x, ref float y, nuint rows, nuint cols, bool accumulate)
        where TL : struct, ILaneCount
    {
        ref float x1 = ref TL.Value > 1 ? ref Unsafe.Add(ref x, cols) : ref x;
        ref float x2 = ref TL.Value > 2 ? ref Unsafe.Add(ref x, 2 * cols) : ref x;
        ref float x3 = ref TL.Value > 3 ? ref Unsafe.Add(ref x, 3 * cols) : ref x;
        ref float y1 = ref TL.Value > 1 ? ref Unsafe.Add(ref y, rows) : ref y;
        ref float y2 = ref TL.Value > 2 ? ref Unsafe.Add(ref y, 2 * rows) : ref y;
        ref float y3 = ref TL.Value > 3 ? ref Unsafe.Add(ref y, 3 * rows) : ref y;
        Vector512<float> z = Vector512<float>.Zero;
        Vector512<float> a = accumulate ? Vector512.LoadUnsafe(ref y) : z;
        Vector512<float> b = TL.Value > 1 && accumulate ? Vector512.LoadUnsafe(ref y1) : z;
        Vector512<float> c = TL.Value > 2 && accumulate ? Vector512.LoadUnsafe(ref y2) : z;
        Vector512<float> d = TL.Value > 3 && accumulate ? Vector512.LoadUnsafe(ref y3) : z;
        for (nuint j = 0; j < cols; j++)
        {
            Vector512<float> wj = Vector512.LoadUnsafe(ref w, j * stride);
            a = Fma512(wj, Vector512.Create(Unsafe.Add(ref x, j)), a);
            if (TL.Value > 1)
            {
                b = Fma512(wj, Vector512.Create(Unsafe.Add(ref x1, j)), b);
            }

            if (TL.Value > 2)
            {
                c = Fma512(wj, Vector512.Create(Unsafe.Add(ref x2, j)), c);
            }

            if (TL.Value > 3)
            {
                d = Fma512(wj, Vector512.Create(Unsafe.Add(ref x3, j)), d);
            }
        }

        a.StoreUnsafe(ref y);
        if (TL.Value > 1)
        {
            b.StoreUnsafe(ref y1);
        }

        if (TL.Value > 2)
        {
            c.StoreUnsafe(ref y2);
        }

        if (TL.Value > 3)
        {
            d.StoreUnsafe(ref y3);
        }
    }
}
