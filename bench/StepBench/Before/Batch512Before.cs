using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

// A frozen copy of src/RnnRuntime/Kernels/PackedGemv.Batch512.cs and PackedGemv.Batch512Stream.cs at commit 3a95383
// (before the tile4 branch), for the in-process A/B of StepBench --tiles (docs/benchmarks.md, "Aligned small-batch
// tiles"). Vector512 only; a W of 256 KB or more alternates its panel order call by call, as PackedGemv's pass-order
// table does for one matrix.
namespace Bench.Before;

[SkipLocalsInit]
internal static class Batch512Before
{
    private const int PanelRows = 64;
    private const int MaxLanes = 16;

    /// <summary>ys = W xs for count inputs at Vector512, as PackedGemv.MultiplyBatch did at commit 3a95383.</summary>
    public static void MultiplyBatch(ReadOnlySpan<float> packed, ReadOnlySpan<float> xs, Span<float> ys, int count)
    {
        int rows = ys.Length / count;
        int cols = xs.Length / count;
        ref float w = ref MemoryMarshal.GetReference(packed);
        for (int b = 0; b < count; b += MaxLanes)
        {
            int lanes = Math.Min(MaxLanes, count - b);
            bool backward = packed.Length >= 64 * 1024 && s_backward;
            s_backward = !s_backward;
            Batch512(ref w, ref MemoryMarshal.GetReference(xs.Slice(b * cols)), ref MemoryMarshal.GetReference(ys.Slice(b * rows)),
                (nuint)rows, (nuint)cols, lanes, accumulate: false, backward);
        }
    }

    private static bool s_backward;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fma512(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Avx512F.FusedMultiplyAdd(a, b, c);

    private const int ChunkColumns = 512; // x columns packed at a time for > 8 inputs: 512 × MaxLanes floats = 32 KB
    private const int BlockColumns = 64;  // panel columns per tile pass when more than 8 inputs share a panel
    private const int GroupLanes = 8;     // inputs per register-tile group
    private const int PrefetchColumns = 8; // full-panel tiles ask for the weights 8 columns (2 KB) ahead

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

    // One pass over W for up to MaxLanes inputs (see the file comment for the order).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Batch512(
        ref float w, ref float x, ref float y, nuint rows, nuint cols, int lanes, bool accumulate, bool backward)
    {
        Span<float> packedSpan = stackalloc float[ChunkColumns * MaxLanes];
        ref float packed = ref MemoryMarshal.GetReference(packedSpan);

        // Up to 8 inputs, the packing buffer holds 1024 columns or more; panels go back to front on a backward pass
        // (PackedGemv.PassOrder.cs) when W is one chunk — chunks must follow each other, columns stay in order.
        nuint chunkColumns = lanes > GroupLanes ? ChunkColumns : (nuint)(ChunkColumns * MaxLanes / lanes);
        nuint panels = (rows + PanelRows - 1) / PanelRows;
        bool reverse = backward && cols <= chunkColumns;
        for (nuint c0 = 0; c0 < cols; c0 += chunkColumns)
        {
            nuint kc = Math.Min(chunkColumns, cols - c0);
            if (lanes > 1)
            {
                Pack(ref x, cols, c0, kc, lanes, ref packed);
            }

            ref float chunk = ref lanes > 1 ? ref packed : ref Unsafe.Add(ref x, c0); // one input is already packed
            bool chunkAccumulate = accumulate || c0 > 0;
            nuint block = lanes > GroupLanes ? BlockColumns : kc;
            for (nuint i = 0; i < panels; i++)
            {
                nuint p = (reverse ? panels - 1 - i : i) * PanelRows;
                nuint panelWidth = Math.Min(PanelRows, rows - p);
                ref float panel = ref Unsafe.Add(ref w, (p * cols) + (c0 * panelWidth)); // column c0 of panel p
                for (nuint j0 = 0; j0 < kc; j0 += block)
                {
                    nuint kb = Math.Min(block, kc - j0);
                    bool blockAccumulate = chunkAccumulate || j0 > 0;
                    for (int g = 0; g < lanes; g += GroupLanes)
                    {
                        int groupLanes = Math.Min(GroupLanes, lanes - g);
                        Group(
                            ref Unsafe.Add(ref panel, j0 * panelWidth),
                            panelWidth,
                            ref Unsafe.Add(ref chunk, ((nuint)g * kc) + (j0 * (nuint)groupLanes)),
                            ref Unsafe.Add(ref y, ((nuint)g * rows) + p),
                            rows,
                            kb,
                            groupLanes,
                            blockAccumulate);
                    }
                }
            }
        }
    }

    // Columns c0..c0+kc of every input, group by group (8 inputs each): group g at packed + g·kc, its input l's
    // column j at [j·L + l] with L the group's input count. (A call with a single input uses x as it is.)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pack(ref float x, nuint cols, nuint c0, nuint kc, int lanes, ref float packed)
    {
        for (int g = 0; g < lanes; g += GroupLanes)
        {
            ref float source = ref Unsafe.Add(ref x, ((nuint)g * cols) + c0);
            ref float destination = ref Unsafe.Add(ref packed, (nuint)g * kc);
            switch (Math.Min(GroupLanes, lanes - g))
            {
                case 1: // the last group of 9, 17, ... inputs
                    MemoryMarshal.CreateReadOnlySpan(ref source, (int)kc).CopyTo(MemoryMarshal.CreateSpan(ref destination, (int)kc));
                    break;
                case 2:
                    PackGroup<Lanes2>(ref source, cols, kc, ref destination);
                    break;
                case 3:
                    PackGroup<Lanes3>(ref source, cols, kc, ref destination);
                    break;
                case 4:
                    PackGroup<Lanes4>(ref source, cols, kc, ref destination);
                    break;
                case 5:
                    PackGroup<Lanes5>(ref source, cols, kc, ref destination);
                    break;
                case 6:
                    PackGroup<Lanes6>(ref source, cols, kc, ref destination);
                    break;
                case 7:
                    PackGroup<Lanes7>(ref source, cols, kc, ref destination);
                    break;
                default:
                    PackGroup<Lanes8>(ref source, cols, kc, ref destination);
                    break;
            }
        }
    }

    // TL inputs (rows `cols` apart) interleaved: column j of input l to packed[j·TL + l], written front to back.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackGroup<TL>(ref float x, nuint cols, nuint kc, ref float packed)
        where TL : struct, ILaneCount
    {
        ref float x1 = ref TL.Value > 1 ? ref Unsafe.Add(ref x, 1 * cols) : ref x;
        ref float x2 = ref TL.Value > 2 ? ref Unsafe.Add(ref x, 2 * cols) : ref x;
        ref float x3 = ref TL.Value > 3 ? ref Unsafe.Add(ref x, 3 * cols) : ref x;
        ref float x4 = ref TL.Value > 4 ? ref Unsafe.Add(ref x, 4 * cols) : ref x;
        ref float x5 = ref TL.Value > 5 ? ref Unsafe.Add(ref x, 5 * cols) : ref x;
        ref float x6 = ref TL.Value > 6 ? ref Unsafe.Add(ref x, 6 * cols) : ref x;
        ref float x7 = ref TL.Value > 7 ? ref Unsafe.Add(ref x, 7 * cols) : ref x;
        for (nuint j = 0; j < kc; j++)
        {
            ref float d = ref Unsafe.Add(ref packed, j * (nuint)TL.Value);
            Unsafe.Add(ref d, 0) = Unsafe.Add(ref x, j);
            if (TL.Value > 1)
            {
                Unsafe.Add(ref d, 1) = Unsafe.Add(ref x1, j);
            }

            if (TL.Value > 2)
            {
                Unsafe.Add(ref d, 2) = Unsafe.Add(ref x2, j);
            }

            if (TL.Value > 3)
            {
                Unsafe.Add(ref d, 3) = Unsafe.Add(ref x3, j);
            }

            if (TL.Value > 4)
            {
                Unsafe.Add(ref d, 4) = Unsafe.Add(ref x4, j);
            }

            if (TL.Value > 5)
            {
                Unsafe.Add(ref d, 5) = Unsafe.Add(ref x5, j);
            }

            if (TL.Value > 6)
            {
                Unsafe.Add(ref d, 6) = Unsafe.Add(ref x6, j);
            }

            if (TL.Value > 7)
            {
                Unsafe.Add(ref d, 7) = Unsafe.Add(ref x7, j);
            }
        }
    }

    // One panel's block for one group of 1..8 inputs: a full panel as one tile of 4 row vectors — StreamTile for 1..3
    // inputs when the panel is not 64-byte aligned (PackedGemv.Batch512Stream.cs), else Tile for up to 6 inputs (24 of
    // the 32 registers accumulate) — or 2-vector tiles (7, 8 inputs); a narrower panel (16, 32 or 48 rows, column
    // stride = its width) as one 3-vector tile (48 rows, up to 5 inputs), else 2-vector tiles then a 1-vector one.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Group(ref float w, nuint panelWidth, ref float xp, ref float y, nuint rows, nuint kb, int lanes, bool accumulate)
    {
        nuint s = 0;
        if (panelWidth == PanelRows && lanes <= 3 && !IsAligned64(ref w))
        {
            switch (lanes)
            {
                case 1:
                    StreamTile<Lanes1>(ref w, ref xp, ref y, rows, kb, accumulate);
                    break;
                case 2:
                    StreamTile<Lanes2>(ref w, ref xp, ref y, rows, kb, accumulate);
                    break;
                default:
                    StreamTile<Lanes3>(ref w, ref xp, ref y, rows, kb, accumulate);
                    break;
            }

            return;
        }

        if (panelWidth == PanelRows && lanes <= 6)
        {
            switch (lanes)
            {
                case 1:
                    Tile<Lanes4, Lanes1>(ref w, PanelRows, ref xp, ref y, rows, kb, accumulate);
                    break;
                case 2:
                    Tile<Lanes4, Lanes2>(ref w, PanelRows, ref xp, ref y, rows, kb, accumulate);
                    break;
                case 3:
                    Tile<Lanes4, Lanes3>(ref w, PanelRows, ref xp, ref y, rows, kb, accumulate);
                    break;
                case 4:
                    Tile<Lanes4, Lanes4>(ref w, PanelRows, ref xp, ref y, rows, kb, accumulate);
                    break;
                case 5:
                    Tile<Lanes4, Lanes5>(ref w, PanelRows, ref xp, ref y, rows, kb, accumulate);
                    break;
                default:
                    Tile<Lanes4, Lanes6>(ref w, PanelRows, ref xp, ref y, rows, kb, accumulate);
                    break;
            }

            return;
        }

        if (panelWidth == 48 && lanes <= 5)
        {
            switch (lanes)
            {
                case 1:
                    Tile<Lanes3, Lanes1>(ref w, 48, ref xp, ref y, rows, kb, accumulate);
                    break;
                case 2:
                    Tile<Lanes3, Lanes2>(ref w, 48, ref xp, ref y, rows, kb, accumulate);
                    break;
                case 3:
                    Tile<Lanes3, Lanes3>(ref w, 48, ref xp, ref y, rows, kb, accumulate);
                    break;
                case 4:
                    Tile<Lanes3, Lanes4>(ref w, 48, ref xp, ref y, rows, kb, accumulate);
                    break;
                default:
                    Tile<Lanes3, Lanes5>(ref w, 48, ref xp, ref y, rows, kb, accumulate);
                    break;
            }

            return;
        }

        for (; s + 32 <= panelWidth; s += 32)
        {
            ref float ws = ref Unsafe.Add(ref w, s);
            ref float ys = ref Unsafe.Add(ref y, s);
            switch (lanes)
            {
                case 1:
                    Tile<Lanes2, Lanes1>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 2:
                    Tile<Lanes2, Lanes2>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 3:
                    Tile<Lanes2, Lanes3>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 4:
                    Tile<Lanes2, Lanes4>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 5:
                    Tile<Lanes2, Lanes5>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 6:
                    Tile<Lanes2, Lanes6>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 7:
                    Tile<Lanes2, Lanes7>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                default:
                    Tile<Lanes2, Lanes8>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
            }
        }

        if (s < panelWidth)
        {
            ref float ws = ref Unsafe.Add(ref w, s);
            ref float ys = ref Unsafe.Add(ref y, s);
            switch (lanes)
            {
                case 1:
                    Tile<Lanes1, Lanes1>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 2:
                    Tile<Lanes1, Lanes2>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 3:
                    Tile<Lanes1, Lanes3>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 4:
                    Tile<Lanes1, Lanes4>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 5:
                    Tile<Lanes1, Lanes5>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 6:
                    Tile<Lanes1, Lanes6>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 7:
                    Tile<Lanes1, Lanes7>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                default:
                    Tile<Lanes1, Lanes8>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
            }
        }
    }

    // Whether a weight address is 64-byte aligned: only picks the faster tile, both give the same bits (an address the
    // GC moves meanwhile costs nothing but speed; StreamTile pins and reads its own).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe bool IsAligned64(ref float w) => ((nuint)Unsafe.AsPointer(ref w) & 63) == 0;

    // R vectors of 16 rows (r·16 from w, columns `stride` floats apart) × TL inputs over kb columns: one FMA chain per
    // (row vector, input), at most 24. x is packed: input l's column j at xp[j·TL + l], so every broadcast is one
    // base register plus a constant. Input l's rows go to y + l·rows; accumulate = start from y, else from 0.
    // A full-panel tile (1..6 inputs: a beam's few hypotheses) is bound by streaming W from L2 as much as by its FMAs,
    // so it prefetches each column PrefetchColumns ahead (measured: the 3- and 4-model steps of the shipped caption and
    // KJV models 10-30 % faster, docs/benchmarks.md); 2-vector groups reuse each column enough that it does not pay.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile<TR, TL>(ref float w, nuint stride, ref float xp, ref float y, nuint rows, nuint kb, bool accumulate)
        where TR : struct, ILaneCount
        where TL : struct, ILaneCount
    {
        nuint lanes = (nuint)TL.Value;
        ref float y1 = ref TL.Value > 1 ? ref Unsafe.Add(ref y, 1 * rows) : ref y;
        ref float y2 = ref TL.Value > 2 ? ref Unsafe.Add(ref y, 2 * rows) : ref y;
        ref float y3 = ref TL.Value > 3 ? ref Unsafe.Add(ref y, 3 * rows) : ref y;
        ref float y4 = ref TL.Value > 4 ? ref Unsafe.Add(ref y, 4 * rows) : ref y;
        ref float y5 = ref TL.Value > 5 ? ref Unsafe.Add(ref y, 5 * rows) : ref y;
        ref float y6 = ref TL.Value > 6 ? ref Unsafe.Add(ref y, 6 * rows) : ref y;
        ref float y7 = ref TL.Value > 7 ? ref Unsafe.Add(ref y, 7 * rows) : ref y;
        Vector512<float> z = Vector512<float>.Zero;
        Vector512<float> a00 = z, a01 = z, a02 = z, a03 = z, a04 = z, a05 = z, a06 = z, a07 = z;
        Vector512<float> a10 = z, a11 = z, a12 = z, a13 = z, a14 = z, a15 = z, a16 = z, a17 = z;
        Vector512<float> a20 = z, a21 = z, a22 = z, a23 = z, a24 = z, a25 = z, a26 = z, a27 = z;
        Vector512<float> a30 = z, a31 = z, a32 = z, a33 = z, a34 = z, a35 = z, a36 = z, a37 = z;
        if (accumulate)
        {
            a00 = Vector512.LoadUnsafe(ref y, 0);
            if (TL.Value > 1)
            {
                a01 = Vector512.LoadUnsafe(ref y1, 0);
            }

            if (TL.Value > 2)
            {
                a02 = Vector512.LoadUnsafe(ref y2, 0);
            }

            if (TL.Value > 3)
            {
                a03 = Vector512.LoadUnsafe(ref y3, 0);
            }

            if (TL.Value > 4)
            {
                a04 = Vector512.LoadUnsafe(ref y4, 0);
            }

            if (TL.Value > 5)
            {
                a05 = Vector512.LoadUnsafe(ref y5, 0);
            }

            if (TL.Value > 6)
            {
                a06 = Vector512.LoadUnsafe(ref y6, 0);
            }

            if (TL.Value > 7)
            {
                a07 = Vector512.LoadUnsafe(ref y7, 0);
            }

            if (TR.Value > 1)
            {
                a10 = Vector512.LoadUnsafe(ref y, 16);
            }

            if (TR.Value > 1 && TL.Value > 1)
            {
                a11 = Vector512.LoadUnsafe(ref y1, 16);
            }

            if (TR.Value > 1 && TL.Value > 2)
            {
                a12 = Vector512.LoadUnsafe(ref y2, 16);
            }

            if (TR.Value > 1 && TL.Value > 3)
            {
                a13 = Vector512.LoadUnsafe(ref y3, 16);
            }

            if (TR.Value > 1 && TL.Value > 4)
            {
                a14 = Vector512.LoadUnsafe(ref y4, 16);
            }

            if (TR.Value > 1 && TL.Value > 5)
            {
                a15 = Vector512.LoadUnsafe(ref y5, 16);
            }

            if (TR.Value > 1 && TL.Value > 6)
            {
                a16 = Vector512.LoadUnsafe(ref y6, 16);
            }

            if (TR.Value > 1 && TL.Value > 7)
            {
                a17 = Vector512.LoadUnsafe(ref y7, 16);
            }

            if (TR.Value > 2)
            {
                a20 = Vector512.LoadUnsafe(ref y, 32);
            }

            if (TR.Value > 2 && TL.Value > 1)
            {
                a21 = Vector512.LoadUnsafe(ref y1, 32);
            }

            if (TR.Value > 2 && TL.Value > 2)
            {
                a22 = Vector512.LoadUnsafe(ref y2, 32);
            }

            if (TR.Value > 2 && TL.Value > 3)
            {
                a23 = Vector512.LoadUnsafe(ref y3, 32);
            }

            if (TR.Value > 2 && TL.Value > 4)
            {
                a24 = Vector512.LoadUnsafe(ref y4, 32);
            }

            if (TR.Value > 2 && TL.Value > 5)
            {
                a25 = Vector512.LoadUnsafe(ref y5, 32);
            }

            if (TR.Value > 2 && TL.Value > 6)
            {
                a26 = Vector512.LoadUnsafe(ref y6, 32);
            }

            if (TR.Value > 2 && TL.Value > 7)
            {
                a27 = Vector512.LoadUnsafe(ref y7, 32);
            }

            if (TR.Value > 3)
            {
                a30 = Vector512.LoadUnsafe(ref y, 48);
            }

            if (TR.Value > 3 && TL.Value > 1)
            {
                a31 = Vector512.LoadUnsafe(ref y1, 48);
            }

            if (TR.Value > 3 && TL.Value > 2)
            {
                a32 = Vector512.LoadUnsafe(ref y2, 48);
            }

            if (TR.Value > 3 && TL.Value > 3)
            {
                a33 = Vector512.LoadUnsafe(ref y3, 48);
            }

            if (TR.Value > 3 && TL.Value > 4)
            {
                a34 = Vector512.LoadUnsafe(ref y4, 48);
            }

            if (TR.Value > 3 && TL.Value > 5)
            {
                a35 = Vector512.LoadUnsafe(ref y5, 48);
            }

            if (TR.Value > 3 && TL.Value > 6)
            {
                a36 = Vector512.LoadUnsafe(ref y6, 48);
            }

            if (TR.Value > 3 && TL.Value > 7)
            {
                a37 = Vector512.LoadUnsafe(ref y7, 48);
            }

        }

        for (nuint j = 0; j < kb; j++)
        {
            ref float column = ref Unsafe.Add(ref w, j * stride);
            if (TR.Value == 4 && Sse.IsSupported)
            {
                // A hint only: an address the GC has since moved, or past the end, is harmless.
                ref float ahead = ref Unsafe.Add(ref column, PrefetchColumns * stride);
                Sse.Prefetch0(Unsafe.AsPointer(ref ahead));
                if (TR.Value > 1)
                {
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref ahead, 16)));
                }

                if (TR.Value > 2)
                {
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref ahead, 32)));
                }

                if (TR.Value > 3)
                {
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref ahead, 48)));
                }
            }

            ref float xj = ref Unsafe.Add(ref xp, j * lanes);
            Vector512<float> w0 = Vector512.LoadUnsafe(ref column, 0);
            Vector512<float> w1 = TR.Value > 1 ? Vector512.LoadUnsafe(ref column, 16) : z;
            Vector512<float> w2 = TR.Value > 2 ? Vector512.LoadUnsafe(ref column, 32) : z;
            Vector512<float> w3 = TR.Value > 3 ? Vector512.LoadUnsafe(ref column, 48) : z;
            Vector512<float> v;
            v = Vector512.Create(Unsafe.Add(ref xj, 0));
            a00 = Fma512(w0, v, a00);
            if (TR.Value > 1)
            {
                a10 = Fma512(w1, v, a10);
            }

            if (TR.Value > 2)
            {
                a20 = Fma512(w2, v, a20);
            }

            if (TR.Value > 3)
            {
                a30 = Fma512(w3, v, a30);
            }


            if (TL.Value > 1)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 1));
                a01 = Fma512(w0, v, a01);
                if (TR.Value > 1)
                {
                    a11 = Fma512(w1, v, a11);
                }

                if (TR.Value > 2)
                {
                    a21 = Fma512(w2, v, a21);
                }

                if (TR.Value > 3)
                {
                    a31 = Fma512(w3, v, a31);
                }

            }

            if (TL.Value > 2)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 2));
                a02 = Fma512(w0, v, a02);
                if (TR.Value > 1)
                {
                    a12 = Fma512(w1, v, a12);
                }

                if (TR.Value > 2)
                {
                    a22 = Fma512(w2, v, a22);
                }

                if (TR.Value > 3)
                {
                    a32 = Fma512(w3, v, a32);
                }

            }

            if (TL.Value > 3)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 3));
                a03 = Fma512(w0, v, a03);
                if (TR.Value > 1)
                {
                    a13 = Fma512(w1, v, a13);
                }

                if (TR.Value > 2)
                {
                    a23 = Fma512(w2, v, a23);
                }

                if (TR.Value > 3)
                {
                    a33 = Fma512(w3, v, a33);
                }

            }

            if (TL.Value > 4)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 4));
                a04 = Fma512(w0, v, a04);
                if (TR.Value > 1)
                {
                    a14 = Fma512(w1, v, a14);
                }

                if (TR.Value > 2)
                {
                    a24 = Fma512(w2, v, a24);
                }

                if (TR.Value > 3)
                {
                    a34 = Fma512(w3, v, a34);
                }

            }

            if (TL.Value > 5)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 5));
                a05 = Fma512(w0, v, a05);
                if (TR.Value > 1)
                {
                    a15 = Fma512(w1, v, a15);
                }

                if (TR.Value > 2)
                {
                    a25 = Fma512(w2, v, a25);
                }

                if (TR.Value > 3)
                {
                    a35 = Fma512(w3, v, a35);
                }

            }

            if (TL.Value > 6)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 6));
                a06 = Fma512(w0, v, a06);
                if (TR.Value > 1)
                {
                    a16 = Fma512(w1, v, a16);
                }

                if (TR.Value > 2)
                {
                    a26 = Fma512(w2, v, a26);
                }

                if (TR.Value > 3)
                {
                    a36 = Fma512(w3, v, a36);
                }

            }

            if (TL.Value > 7)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 7));
                a07 = Fma512(w0, v, a07);
                if (TR.Value > 1)
                {
                    a17 = Fma512(w1, v, a17);
                }

                if (TR.Value > 2)
                {
                    a27 = Fma512(w2, v, a27);
                }

                if (TR.Value > 3)
                {
                    a37 = Fma512(w3, v, a37);
                }

            }
        }

        a00.StoreUnsafe(ref y, 0);
        if (TL.Value > 1)
        {
            a01.StoreUnsafe(ref y1, 0);
        }

        if (TL.Value > 2)
        {
            a02.StoreUnsafe(ref y2, 0);
        }

        if (TL.Value > 3)
        {
            a03.StoreUnsafe(ref y3, 0);
        }

        if (TL.Value > 4)
        {
            a04.StoreUnsafe(ref y4, 0);
        }

        if (TL.Value > 5)
        {
            a05.StoreUnsafe(ref y5, 0);
        }

        if (TL.Value > 6)
        {
            a06.StoreUnsafe(ref y6, 0);
        }

        if (TL.Value > 7)
        {
            a07.StoreUnsafe(ref y7, 0);
        }

        if (TR.Value > 1)
        {
            a10.StoreUnsafe(ref y, 16);
        }

        if (TR.Value > 1 && TL.Value > 1)
        {
            a11.StoreUnsafe(ref y1, 16);
        }

        if (TR.Value > 1 && TL.Value > 2)
        {
            a12.StoreUnsafe(ref y2, 16);
        }

        if (TR.Value > 1 && TL.Value > 3)
        {
            a13.StoreUnsafe(ref y3, 16);
        }

        if (TR.Value > 1 && TL.Value > 4)
        {
            a14.StoreUnsafe(ref y4, 16);
        }

        if (TR.Value > 1 && TL.Value > 5)
        {
            a15.StoreUnsafe(ref y5, 16);
        }

        if (TR.Value > 1 && TL.Value > 6)
        {
            a16.StoreUnsafe(ref y6, 16);
        }

        if (TR.Value > 1 && TL.Value > 7)
        {
            a17.StoreUnsafe(ref y7, 16);
        }

        if (TR.Value > 2)
        {
            a20.StoreUnsafe(ref y, 32);
        }

        if (TR.Value > 2 && TL.Value > 1)
        {
            a21.StoreUnsafe(ref y1, 32);
        }

        if (TR.Value > 2 && TL.Value > 2)
        {
            a22.StoreUnsafe(ref y2, 32);
        }

        if (TR.Value > 2 && TL.Value > 3)
        {
            a23.StoreUnsafe(ref y3, 32);
        }

        if (TR.Value > 2 && TL.Value > 4)
        {
            a24.StoreUnsafe(ref y4, 32);
        }

        if (TR.Value > 2 && TL.Value > 5)
        {
            a25.StoreUnsafe(ref y5, 32);
        }

        if (TR.Value > 2 && TL.Value > 6)
        {
            a26.StoreUnsafe(ref y6, 32);
        }

        if (TR.Value > 2 && TL.Value > 7)
        {
            a27.StoreUnsafe(ref y7, 32);
        }

        if (TR.Value > 3)
        {
            a30.StoreUnsafe(ref y, 48);
        }

        if (TR.Value > 3 && TL.Value > 1)
        {
            a31.StoreUnsafe(ref y1, 48);
        }

        if (TR.Value > 3 && TL.Value > 2)
        {
            a32.StoreUnsafe(ref y2, 48);
        }

        if (TR.Value > 3 && TL.Value > 3)
        {
            a33.StoreUnsafe(ref y3, 48);
        }

        if (TR.Value > 3 && TL.Value > 4)
        {
            a34.StoreUnsafe(ref y4, 48);
        }

        if (TR.Value > 3 && TL.Value > 5)
        {
            a35.StoreUnsafe(ref y5, 48);
        }

        if (TR.Value > 3 && TL.Value > 6)
        {
            a36.StoreUnsafe(ref y6, 48);
        }

        if (TR.Value > 3 && TL.Value > 7)
        {
            a37.StoreUnsafe(ref y7, 48);
        }

    }

    // A full-panel tile over kb columns for TL (1..3) inputs: w = column 0 of the panel (64 floats per column),
    // x = the inputs packed as for Tile (input l's column j at x[j·TL + l]), y = the panel's first row of input 0.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void StreamTile<TL>(
        ref float w, ref float x, ref float y, nuint rows, nuint kb, bool accumulate)
        where TL : struct, ILaneCount
    {
        fixed (float* panel = &w)
        fixed (float* xp = &x)
        {
            StreamTileCore<TL>(panel, xp, ref y, rows, kb, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void StreamTileCore<TL>(
        float* panel, float* xp, ref float y, nuint rows, nuint kb, bool accumulate)
        where TL : struct, ILaneCount
    {
        nuint lanes = (nuint)TL.Value;
        int delta = (int)((nuint)panel & 63) / sizeof(float);
        float* a = panel - delta; // 64-byte aligned; block k = a[16k..16k+16)
        Vector512<int> iota = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        Vector512<float> early = Vector512.LessThan(iota, Vector512.Create(delta)).AsSingle(); // lanes t < delta
        ref float y1 = ref TL.Value > 1 ? ref Unsafe.Add(ref y, 1 * rows) : ref y;
        ref float y2 = ref TL.Value > 2 ? ref Unsafe.Add(ref y, 2 * rows) : ref y;
        Vector512<float> z = Vector512<float>.Zero;
        Vector512<float> a00 = z, a01 = z, a02 = z;
        Vector512<float> a10 = z, a11 = z, a12 = z;
        Vector512<float> a20 = z, a21 = z, a22 = z;
        Vector512<float> a30 = z, a31 = z, a32 = z;
        if (accumulate)
        {
            Vector512<int> into = iota + Vector512.Create(16 - delta);
            Vector512<float> r00 = Vector512.LoadUnsafe(ref y, 0), r10 = Vector512.LoadUnsafe(ref y, 16);
            Vector512<float> r20 = Vector512.LoadUnsafe(ref y, 32), r30 = Vector512.LoadUnsafe(ref y, 48);
            a00 = Avx512F.PermuteVar16x32x2(r30, into, r00);
            a10 = Avx512F.PermuteVar16x32x2(r00, into, r10);
            a20 = Avx512F.PermuteVar16x32x2(r10, into, r20);
            a30 = Avx512F.PermuteVar16x32x2(r20, into, r30);
            if (TL.Value > 1)
            {
                Vector512<float> r01 = Vector512.LoadUnsafe(ref y1, 0), r11 = Vector512.LoadUnsafe(ref y1, 16);
                Vector512<float> r21 = Vector512.LoadUnsafe(ref y1, 32), r31 = Vector512.LoadUnsafe(ref y1, 48);
                a01 = Avx512F.PermuteVar16x32x2(r31, into, r01);
                a11 = Avx512F.PermuteVar16x32x2(r01, into, r11);
                a21 = Avx512F.PermuteVar16x32x2(r11, into, r21);
                a31 = Avx512F.PermuteVar16x32x2(r21, into, r31);
            }

            if (TL.Value > 2)
            {
                Vector512<float> r02 = Vector512.LoadUnsafe(ref y2, 0), r12 = Vector512.LoadUnsafe(ref y2, 16);
                Vector512<float> r22 = Vector512.LoadUnsafe(ref y2, 32), r32 = Vector512.LoadUnsafe(ref y2, 48);
                a02 = Avx512F.PermuteVar16x32x2(r32, into, r02);
                a12 = Avx512F.PermuteVar16x32x2(r02, into, r12);
                a22 = Avx512F.PermuteVar16x32x2(r12, into, r22);
                a32 = Avx512F.PermuteVar16x32x2(r22, into, r32);
            }
        }

        Vector512<float> p0 = z, p1 = z, p2 = z;
        {
            float* c = a;
            float* xj = xp;
            Vector512<float> b0 = Vector512.LoadAligned(c), b1 = Vector512.LoadAligned(c + 16);
            Vector512<float> b2 = Vector512.LoadAligned(c + 32), b3 = Vector512.LoadAligned(c + 48);
            Vector512<float> v0 = Vector512.Create(xj[0]);
            a00 = Vector512.ConditionalSelect(early, a00, Fma512(b0, v0, a00));
            a10 = Fma512(b1, v0, a10);
            a20 = Fma512(b2, v0, a20);
            a30 = Fma512(b3, v0, a30);
            p0 = v0;
            if (TL.Value > 1)
            {
                Vector512<float> v1 = Vector512.Create(xj[1]);
                a01 = Vector512.ConditionalSelect(early, a01, Fma512(b0, v1, a01));
                a11 = Fma512(b1, v1, a11);
                a21 = Fma512(b2, v1, a21);
                a31 = Fma512(b3, v1, a31);
                p1 = v1;
            }

            if (TL.Value > 2)
            {
                Vector512<float> v2 = Vector512.Create(xj[2]);
                a02 = Vector512.ConditionalSelect(early, a02, Fma512(b0, v2, a02));
                a12 = Fma512(b1, v2, a12);
                a22 = Fma512(b2, v2, a22);
                a32 = Fma512(b3, v2, a32);
                p2 = v2;
            }
        }

        float* end = a + (kb * PanelRows);
        float* xk = xp + (lanes * 1);
        for (float* c = a + PanelRows; c < end; c += PanelRows, xk += lanes * 1)
        {
            float* xj = xk;
            Vector512<float> b0 = Vector512.LoadAligned(c), b1 = Vector512.LoadAligned(c + 16);
            Vector512<float> b2 = Vector512.LoadAligned(c + 32), b3 = Vector512.LoadAligned(c + 48);
            Vector512<float> v0 = Vector512.Create(xj[0]);
            a00 = Fma512(b0, Vector512.ConditionalSelect(early, p0, v0), a00);
            a10 = Fma512(b1, v0, a10);
            a20 = Fma512(b2, v0, a20);
            a30 = Fma512(b3, v0, a30);
            p0 = v0;
            if (TL.Value > 1)
            {
                Vector512<float> v1 = Vector512.Create(xj[1]);
                a01 = Fma512(b0, Vector512.ConditionalSelect(early, p1, v1), a01);
                a11 = Fma512(b1, v1, a11);
                a21 = Fma512(b2, v1, a21);
                a31 = Fma512(b3, v1, a31);
                p1 = v1;
            }

            if (TL.Value > 2)
            {
                Vector512<float> v2 = Vector512.Create(xj[2]);
                a02 = Fma512(b0, Vector512.ConditionalSelect(early, p2, v2), a02);
                a12 = Fma512(b1, v2, a12);
                a22 = Fma512(b2, v2, a22);
                a32 = Fma512(b3, v2, a32);
                p2 = v2;
            }
        }

        // The last column's last delta rows: the low lanes of block 4·kb (none when the panel is aligned).
        Vector512<float> tail = delta != 0 ? Vector512.LoadAligned(end) : z;
        a00 = Vector512.ConditionalSelect(early, Fma512(tail, p0, a00), a00);
        if (TL.Value > 1)
        {
            a01 = Vector512.ConditionalSelect(early, Fma512(tail, p1, a01), a01);
        }

        if (TL.Value > 2)
        {
            a02 = Vector512.ConditionalSelect(early, Fma512(tail, p2, a02), a02);
        }


        Vector512<int> back = iota + Vector512.Create(delta);
        Avx512F.PermuteVar16x32x2(a00, back, a10).StoreUnsafe(ref y, 0);
        Avx512F.PermuteVar16x32x2(a10, back, a20).StoreUnsafe(ref y, 16);
        Avx512F.PermuteVar16x32x2(a20, back, a30).StoreUnsafe(ref y, 32);
        Avx512F.PermuteVar16x32x2(a30, back, a00).StoreUnsafe(ref y, 48);
        if (TL.Value > 1)
        {
            Avx512F.PermuteVar16x32x2(a01, back, a11).StoreUnsafe(ref y1, 0);
            Avx512F.PermuteVar16x32x2(a11, back, a21).StoreUnsafe(ref y1, 16);
            Avx512F.PermuteVar16x32x2(a21, back, a31).StoreUnsafe(ref y1, 32);
            Avx512F.PermuteVar16x32x2(a31, back, a01).StoreUnsafe(ref y1, 48);
        }

        if (TL.Value > 2)
        {
            Avx512F.PermuteVar16x32x2(a02, back, a12).StoreUnsafe(ref y2, 0);
            Avx512F.PermuteVar16x32x2(a12, back, a22).StoreUnsafe(ref y2, 16);
            Avx512F.PermuteVar16x32x2(a22, back, a32).StoreUnsafe(ref y2, 32);
            Avx512F.PermuteVar16x32x2(a32, back, a02).StoreUnsafe(ref y2, 48);
        }
    }
}
