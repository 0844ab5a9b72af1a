using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnEmbedded.Runtime.CompilerServices;

// The Vector512 batched product for 9..16 inputs (docs/kernels.md, "Batched float32 tiles"), called by
// PackedGemv.Batch512.cs for each packed column chunk. As there, each panel is walked in blocks of BlockColumns
// columns (64 × 64 floats = 16 KB) and both groups of inputs (8, then 1..8) multiply a block while it sits in L1; a
// narrower last panel, and the second group, go through Group as before. The first group — a full panel's block as two
// tiles of 2 row vectors × 8 inputs, Tile<Lanes2, Lanes8>'s work — also asks for the next block the pass will read
// (later in the panel, else the next panel's first block in pass order), one line per row vector and column, 16 KB
// ahead: a W beyond L2 (H = 512: 3–4 MB) then streams from L3 while the FMAs run. 2048 × 512 and 1536 × 512 with 9–16
// inputs: 0.88–0.95 × the time without (docs/benchmarks.md, "Many inputs over a W beyond L2"). A prefetch changes no
// arithmetic: each input's sum still runs over the columns in order in one FMA chain, carried through y between
// blocks, so results are bit for bit that chain whatever the count (PackedGemvWideBatchTests).
public static partial class PackedGemv
{
    // Pack's layout for 9..16 inputs (group g at packed + g·kc, its input l's column j at [j·L + l]): a group of 8
    // inputs as 8 × 8 transposes of Vector256 rows (24 shuffles per 64 floats instead of 64 scalar moves), a
    // smaller last group through Pack.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WidePack(ref float x, nuint cols, nuint c0, nuint kc, int lanes, ref float packed)
    {
        if (!Avx.IsSupported)
        {
            Pack(ref x, cols, c0, kc, lanes, ref packed);
            return;
        }

        for (int g = 0; g < lanes; g += GroupLanes)
        {
            ref float source = ref Unsafe.Add(ref x, ((nuint)g * cols) + c0);
            ref float destination = ref Unsafe.Add(ref packed, (nuint)g * kc);
            if (lanes - g < GroupLanes)
            {
                Pack(ref source, cols, 0, kc, lanes - g, ref destination);
                break;
            }

            nuint j = 0;
            for (; j + 8 <= kc; j += 8)
            {
                ref float s = ref Unsafe.Add(ref source, j);
                Vector256<float> t0 = Avx.UnpackLow(Vector256.LoadUnsafe(ref s, 0), Vector256.LoadUnsafe(ref s, cols));
                Vector256<float> t1 = Avx.UnpackHigh(Vector256.LoadUnsafe(ref s, 0), Vector256.LoadUnsafe(ref s, cols));
                Vector256<float> t2 = Avx.UnpackLow(Vector256.LoadUnsafe(ref s, 2 * cols), Vector256.LoadUnsafe(ref s, 3 * cols));
                Vector256<float> t3 = Avx.UnpackHigh(Vector256.LoadUnsafe(ref s, 2 * cols), Vector256.LoadUnsafe(ref s, 3 * cols));
                Vector256<float> t4 = Avx.UnpackLow(Vector256.LoadUnsafe(ref s, 4 * cols), Vector256.LoadUnsafe(ref s, 5 * cols));
                Vector256<float> t5 = Avx.UnpackHigh(Vector256.LoadUnsafe(ref s, 4 * cols), Vector256.LoadUnsafe(ref s, 5 * cols));
                Vector256<float> t6 = Avx.UnpackLow(Vector256.LoadUnsafe(ref s, 6 * cols), Vector256.LoadUnsafe(ref s, 7 * cols));
                Vector256<float> t7 = Avx.UnpackHigh(Vector256.LoadUnsafe(ref s, 6 * cols), Vector256.LoadUnsafe(ref s, 7 * cols));
                Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44); // inputs 0..3 of columns 0 | 4
                Vector256<float> u1 = Avx.Shuffle(t0, t2, 0xEE); // columns 1 | 5
                Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44); // columns 2 | 6
                Vector256<float> u3 = Avx.Shuffle(t1, t3, 0xEE); // columns 3 | 7
                Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44); // inputs 4..7, likewise
                Vector256<float> u5 = Avx.Shuffle(t4, t6, 0xEE);
                Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44);
                Vector256<float> u7 = Avx.Shuffle(t5, t7, 0xEE);
                ref float d = ref Unsafe.Add(ref destination, j * GroupLanes);
                Avx.Permute2x128(u0, u4, 0x20).StoreUnsafe(ref d, 0);
                Avx.Permute2x128(u1, u5, 0x20).StoreUnsafe(ref d, 8);
                Avx.Permute2x128(u2, u6, 0x20).StoreUnsafe(ref d, 16);
                Avx.Permute2x128(u3, u7, 0x20).StoreUnsafe(ref d, 24);
                Avx.Permute2x128(u0, u4, 0x31).StoreUnsafe(ref d, 32);
                Avx.Permute2x128(u1, u5, 0x31).StoreUnsafe(ref d, 40);
                Avx.Permute2x128(u2, u6, 0x31).StoreUnsafe(ref d, 48);
                Avx.Permute2x128(u3, u7, 0x31).StoreUnsafe(ref d, 56);
            }

            for (; j < kc; j++)
            {
                for (nuint l = 0; l < GroupLanes; l++)
                {
                    Unsafe.Add(ref destination, (j * GroupLanes) + l) = Unsafe.Add(ref source, (l * cols) + j);
                }
            }
        }
    }

    // One chunk (columns c0..c0+kc, packed at `chunk` by Pack) of a pass for 9..16 inputs; y = input 0's first row.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void WidePanels(
        ref float w, ref float chunk, ref float y, nuint rows, nuint cols, nuint c0, nuint kc, int lanes, bool chunkAccumulate, bool reverse)
    {
        nuint panels = (rows + PanelRows - 1) / PanelRows;
        nuint blocks = (kc + BlockColumns - 1) / BlockColumns; // per panel
        bool prefetchFew = rows * cols > PrefetchFewMinFloats; // as Batch512 passes it to Group (1-2-input groups)
        for (nuint i = 0; i < panels; i++)
        {
            nuint p = (reverse ? panels - 1 - i : i) * PanelRows;
            nuint panelWidth = Math.Min(PanelRows, rows - p);
            ref float panel = ref Unsafe.Add(ref w, (p * cols) + (c0 * panelWidth)); // column c0 of panel p
            for (nuint k = 0; k < blocks; k++)
            {
                nuint j0 = k * BlockColumns;
                nuint kb = Math.Min(BlockColumns, kc - j0);
                bool blockAccumulate = chunkAccumulate || j0 > 0;
                ref float block = ref Unsafe.Add(ref panel, j0 * panelWidth);
                if (panelWidth != PanelRows)
                {
                    for (int g = 0; g < lanes; g += GroupLanes)
                    {
                        int groupLanes = Math.Min(GroupLanes, lanes - g);
                        Group(
                            ref block, panelWidth, ref Unsafe.Add(ref chunk, ((nuint)g * kc) + (j0 * (nuint)groupLanes)),
                            ref Unsafe.Add(ref y, ((nuint)g * rows) + p), rows, kb, groupLanes, blockAccumulate, prefetchFew);
                    }

                    continue;
                }

                // The block after this one in pass order (none after the last): block k + 1 of this panel, else
                // block 0 of the next panel walked (its own width: the last panel may be narrower).
                float* next = null;
                if (k + 1 < blocks)
                {
                    next = (float*)Unsafe.AsPointer(ref Unsafe.Add(ref block, BlockColumns * PanelRows));
                }
                else if (i + 1 < panels)
                {
                    nuint q = (reverse ? panels - 2 - i : i + 1) * PanelRows;
                    next = (float*)Unsafe.AsPointer(ref Unsafe.Add(ref w, (q * cols) + (c0 * Math.Min(PanelRows, rows - q))));
                }

                ref float first = ref Unsafe.Add(ref chunk, j0 * GroupLanes); // the first 8 inputs' block columns
                WideTile(ref block, ref first, ref Unsafe.Add(ref y, p), rows, kb, blockAccumulate, next);
                WideTile(
                    ref Unsafe.Add(ref block, 32), ref first, ref Unsafe.Add(ref y, p + 32), rows, kb, blockAccumulate, next == null ? null : next + 32);
                int rest = lanes - GroupLanes; // the second group: a 4-vector tile up to 6 inputs, else 2 × 2 vectors
                Group(
                    ref block, PanelRows, ref Unsafe.Add(ref chunk, ((nuint)GroupLanes * kc) + (j0 * (nuint)rest)),
                    ref Unsafe.Add(ref y, ((nuint)GroupLanes * rows) + p), rows, kb, rest, blockAccumulate, prefetchFew);
            }
        }
    }

    // 32 rows of a full panel (2 row vectors; columns PanelRows floats apart) × the first 8 inputs over kb columns, as
    // Tile<Lanes2, Lanes8> in PackedGemv.Batch512.cs: one FMA chain per (row vector, input), from y or 0, x packed
    // (input l's column j at xp[j·8 + l]). `next`, if not null: the same 32 rows of the next block, asked for two lines per
    // column (a hint: an address the GC has since moved is harmless; W is read-only weights).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void WideTile(ref float w, ref float xp, ref float y, nuint rows, nuint kb, bool accumulate, float* next)
    {
        ref float y1 = ref Unsafe.Add(ref y, 1 * rows);
        ref float y2 = ref Unsafe.Add(ref y, 2 * rows);
        ref float y3 = ref Unsafe.Add(ref y, 3 * rows);
        ref float y4 = ref Unsafe.Add(ref y, 4 * rows);
        ref float y5 = ref Unsafe.Add(ref y, 5 * rows);
        ref float y6 = ref Unsafe.Add(ref y, 6 * rows);
        ref float y7 = ref Unsafe.Add(ref y, 7 * rows);
        Vector512<float> z = Vector512<float>.Zero;
        Vector512<float> a00 = z, a01 = z, a02 = z, a03 = z, a04 = z, a05 = z, a06 = z, a07 = z;
        Vector512<float> a10 = z, a11 = z, a12 = z, a13 = z, a14 = z, a15 = z, a16 = z, a17 = z;
        if (accumulate)
        {
            a00 = Vector512.LoadUnsafe(ref y, 0);
            a10 = Vector512.LoadUnsafe(ref y, 16);
            a01 = Vector512.LoadUnsafe(ref y1, 0);
            a11 = Vector512.LoadUnsafe(ref y1, 16);
            a02 = Vector512.LoadUnsafe(ref y2, 0);
            a12 = Vector512.LoadUnsafe(ref y2, 16);
            a03 = Vector512.LoadUnsafe(ref y3, 0);
            a13 = Vector512.LoadUnsafe(ref y3, 16);
            a04 = Vector512.LoadUnsafe(ref y4, 0);
            a14 = Vector512.LoadUnsafe(ref y4, 16);
            a05 = Vector512.LoadUnsafe(ref y5, 0);
            a15 = Vector512.LoadUnsafe(ref y5, 16);
            a06 = Vector512.LoadUnsafe(ref y6, 0);
            a16 = Vector512.LoadUnsafe(ref y6, 16);
            a07 = Vector512.LoadUnsafe(ref y7, 0);
            a17 = Vector512.LoadUnsafe(ref y7, 16);
        }

        for (nuint j = 0; j < kb; j++)
        {
            ref float column = ref Unsafe.Add(ref w, j * PanelRows);
            if (next != null && Sse.IsSupported)
            {
                float* ahead = next + (j * PanelRows);
                Sse.Prefetch0(ahead);
                Sse.Prefetch0(ahead + 16);
            }

            ref float xj = ref Unsafe.Add(ref xp, j * GroupLanes);
            Vector512<float> w0 = Vector512.LoadUnsafe(ref column, 0);
            Vector512<float> w1 = Vector512.LoadUnsafe(ref column, 16);
            Vector512<float> v;
            v = Vector512.Create(Unsafe.Add(ref xj, 0));
            a00 = Fma512(w0, v, a00);
            a10 = Fma512(w1, v, a10);
            v = Vector512.Create(Unsafe.Add(ref xj, 1));
            a01 = Fma512(w0, v, a01);
            a11 = Fma512(w1, v, a11);
            v = Vector512.Create(Unsafe.Add(ref xj, 2));
            a02 = Fma512(w0, v, a02);
            a12 = Fma512(w1, v, a12);
            v = Vector512.Create(Unsafe.Add(ref xj, 3));
            a03 = Fma512(w0, v, a03);
            a13 = Fma512(w1, v, a13);
            v = Vector512.Create(Unsafe.Add(ref xj, 4));
            a04 = Fma512(w0, v, a04);
            a14 = Fma512(w1, v, a14);
            v = Vector512.Create(Unsafe.Add(ref xj, 5));
            a05 = Fma512(w0, v, a05);
            a15 = Fma512(w1, v, a15);
            v = Vector512.Create(Unsafe.Add(ref xj, 6));
            a06 = Fma512(w0, v, a06);
            a16 = Fma512(w1, v, a16);
            v = Vector512.Create(Unsafe.Add(ref xj, 7));
            a07 = Fma512(w0, v, a07);
            a17 = Fma512(w1, v, a17);
        }

        a00.StoreUnsafe(ref y, 0);
        a10.StoreUnsafe(ref y, 16);
        a01.StoreUnsafe(ref y1, 0);
        a11.StoreUnsafe(ref y1, 16);
        a02.StoreUnsafe(ref y2, 0);
        a12.StoreUnsafe(ref y2, 16);
        a03.StoreUnsafe(ref y3, 0);
        a13.StoreUnsafe(ref y3, 16);
        a04.StoreUnsafe(ref y4, 0);
        a14.StoreUnsafe(ref y4, 16);
        a05.StoreUnsafe(ref y5, 0);
        a15.StoreUnsafe(ref y5, 16);
        a06.StoreUnsafe(ref y6, 0);
        a16.StoreUnsafe(ref y6, 16);
        a07.StoreUnsafe(ref y7, 0);
        a17.StoreUnsafe(ref y7, 16);
    }
}
