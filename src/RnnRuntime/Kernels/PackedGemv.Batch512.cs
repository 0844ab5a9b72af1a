using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnEmbedded.Runtime.CompilerServices;

// The batched product at Vector512 (which implies AVX-512 and its 32 vector registers), for up to MaxLanes = 16
// inputs in one pass over W. The inputs are first packed column-interleaved on the stack (a chunk of 512 columns at a
// time for 9..16 inputs, 8192 / L columns for L <= 8; a single input is used as it is), so a tile's broadcasts of x[j]
// all come from one base register plus constants instead of one pointer per input (which spilled). Then panel by
// panel — back to front on every other pass when W is one chunk (PackedGemv.PassOrder.cs), in blocks of 64 columns
// when two groups of 8 inputs share the pass (64 × 64 floats = 16 KB, which stay in L1 for the second group, while
// the next block is prefetched: PackedGemv.Batch512Wide.cs) —
// register tiles of at most 24 FMA chains: a 64-row panel (4 vectors) × up to 6 inputs (1..3 inputs of a panel that
// is not 64-byte aligned in the aligned-block stream tile, PackedGemv.Batch512Stream.cs), 32 rows (2 vectors) × 7..8
// inputs, a 48-row last panel (3 vectors) × up to 5 inputs, or 16 rows × up to 8 (docs/kernels.md, "Batched float32
// tiles"). Row and input counts are type arguments (Lanes1..Lanes8), so a group does exactly its own work. Each
// input's sum runs over the columns in order in one chain (carried through y between blocks and chunks, which rounds
// nothing), so an input's result does not depend on how many inputs share the call or where it sits among them
// (PackedGemvBatchTests and PackedGemvBatchBitsTests check it bit for bit).
public static partial class PackedGemv
{
    private const int ChunkColumns = 512; // x columns packed at a time for > 8 inputs: 512 × MaxLanes floats = 32 KB
    private const int BlockColumns = 64;  // panel columns per tile pass when more than 8 inputs share a panel
    private const int GroupLanes = 8;     // inputs per register-tile group
    private const int PrefetchColumns = 8; // full-panel tiles ask for the weights 8 columns (2 KB) ahead

    // The full-panel tile of 1 or 2 inputs prefetches only a W bigger than this (1.5 MB: it does not stay in a 2 MB
    // L2 beside the rest of a step). An L2-resident W streams faster without: those tiles do 4 or 8 FMAs per column,
    // and the 4 prefetches per column (8 instructions as the JIT emits them) took issue slots they needed; 3 inputs
    // and more do 12+ FMAs per column and gain from the prefetch (docs/benchmarks.md, "Aligned small-batch tiles").
    private const nuint PrefetchFewMinFloats = 3 * 128 * 1024;

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

    // Whether a tile prefetches W PrefetchColumns ahead (a type argument, so each tile's loop is compiled without the test).
    private interface IPrefetch
    {
        static abstract bool Enabled { get; }
    }

    private struct Ahead : IPrefetch
    {
        public static bool Enabled => true;
    }

    private struct NoPrefetch : IPrefetch
    {
        public static bool Enabled => false;
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
        bool prefetchFew = rows * cols > PrefetchFewMinFloats; // 1-2 inputs: prefetch only a W that L2 does not hold
        for (nuint c0 = 0; c0 < cols; c0 += chunkColumns)
        {
            nuint kc = Math.Min(chunkColumns, cols - c0);
            if (lanes > GroupLanes)
            {
                WidePack(ref x, cols, c0, kc, lanes, ref packed); // Batch512Wide.cs
            }
            else if (lanes > 1)
            {
                Pack(ref x, cols, c0, kc, lanes, ref packed);
            }

            ref float chunk = ref lanes > 1 ? ref packed : ref Unsafe.Add(ref x, c0); // one input is already packed
            bool chunkAccumulate = accumulate || c0 > 0;
            if (lanes > GroupLanes)
            {
                WidePanels(ref w, ref chunk, ref y, rows, cols, c0, kc, lanes, chunkAccumulate, reverse); // Batch512Wide.cs
                continue;
            }

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
                            blockAccumulate,
                            prefetchFew);
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
    private static void Group(
        ref float w, nuint panelWidth, ref float xp, ref float y, nuint rows, nuint kb, int lanes, bool accumulate, bool prefetchFew)
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
                case 1 when !prefetchFew:
                    Tile<Lanes4, Lanes1, NoPrefetch>(ref w, PanelRows, ref xp, ref y, rows, kb, accumulate);
                    break;
                case 1:
                    Tile<Lanes4, Lanes1, Ahead>(ref w, PanelRows, ref xp, ref y, rows, kb, accumulate);
                    break;
                case 2 when !prefetchFew:
                    Tile<Lanes4, Lanes2, NoPrefetch>(ref w, PanelRows, ref xp, ref y, rows, kb, accumulate);
                    break;
                case 2:
                    Tile<Lanes4, Lanes2, Ahead>(ref w, PanelRows, ref xp, ref y, rows, kb, accumulate);
                    break;
                case 3:
                    Tile<Lanes4, Lanes3, Ahead>(ref w, PanelRows, ref xp, ref y, rows, kb, accumulate);
                    break;
                case 4:
                    Tile<Lanes4, Lanes4, Ahead>(ref w, PanelRows, ref xp, ref y, rows, kb, accumulate);
                    break;
                case 5:
                    Tile<Lanes4, Lanes5, Ahead>(ref w, PanelRows, ref xp, ref y, rows, kb, accumulate);
                    break;
                default:
                    Tile<Lanes4, Lanes6, Ahead>(ref w, PanelRows, ref xp, ref y, rows, kb, accumulate);
                    break;
            }

            return;
        }

        if (panelWidth == 48 && lanes <= 5)
        {
            switch (lanes)
            {
                case 1:
                    Tile<Lanes3, Lanes1, NoPrefetch>(ref w, 48, ref xp, ref y, rows, kb, accumulate);
                    break;
                case 2:
                    Tile<Lanes3, Lanes2, NoPrefetch>(ref w, 48, ref xp, ref y, rows, kb, accumulate);
                    break;
                case 3:
                    Tile<Lanes3, Lanes3, NoPrefetch>(ref w, 48, ref xp, ref y, rows, kb, accumulate);
                    break;
                case 4:
                    Tile<Lanes3, Lanes4, NoPrefetch>(ref w, 48, ref xp, ref y, rows, kb, accumulate);
                    break;
                default:
                    Tile<Lanes3, Lanes5, NoPrefetch>(ref w, 48, ref xp, ref y, rows, kb, accumulate);
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
                    Tile<Lanes2, Lanes1, NoPrefetch>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 2:
                    Tile<Lanes2, Lanes2, NoPrefetch>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 3:
                    Tile<Lanes2, Lanes3, NoPrefetch>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 4:
                    Tile<Lanes2, Lanes4, NoPrefetch>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 5:
                    Tile<Lanes2, Lanes5, NoPrefetch>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 6:
                    Tile<Lanes2, Lanes6, NoPrefetch>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 7:
                    Tile<Lanes2, Lanes7, NoPrefetch>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                default:
                    Tile<Lanes2, Lanes8, NoPrefetch>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
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
                    Tile<Lanes1, Lanes1, NoPrefetch>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 2:
                    Tile<Lanes1, Lanes2, NoPrefetch>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 3:
                    Tile<Lanes1, Lanes3, NoPrefetch>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 4:
                    Tile<Lanes1, Lanes4, NoPrefetch>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 5:
                    Tile<Lanes1, Lanes5, NoPrefetch>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 6:
                    Tile<Lanes1, Lanes6, NoPrefetch>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                case 7:
                    Tile<Lanes1, Lanes7, NoPrefetch>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
                    break;
                default:
                    Tile<Lanes1, Lanes8, NoPrefetch>(ref ws, panelWidth, ref xp, ref ys, rows, kb, accumulate);
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
    // so with TP = Ahead it prefetches each column PrefetchColumns ahead (measured: the 3- and 4-model steps of the
    // shipped caption and KJV models 10-30 % faster, docs/benchmarks.md) — except 1 or 2 inputs on a W that L2 holds
    // (PrefetchFewMinFloats); 2-vector groups reuse each column enough that it does not pay.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile<TR, TL, TP>(ref float w, nuint stride, ref float xp, ref float y, nuint rows, nuint kb, bool accumulate)
        where TR : struct, ILaneCount
        where TL : struct, ILaneCount
        where TP : struct, IPrefetch
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
            if (TP.Enabled && Sse.IsSupported)
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
}
