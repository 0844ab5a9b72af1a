using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnEmbedded.Runtime.CompilerServices;

// The Vector512 batched product's full-panel tile for 1..3 inputs when the panel is not 64-byte aligned (a generated
// model reads its weights in place, 8-byte aligned, unless RnnEmbedded.AlignWeights copies them: docs/generator.md),
// where every 64-byte load of a panel column straddles two cache lines and costs two load slots (docs/kernels.md,
// "Batched float32 tiles"). A full panel's columns follow each other, so the panel is one contiguous stream of 64·kb
// floats: the tile reads it in 64-byte-aligned blocks instead and rotates its accumulators to match. With
// delta = (panel address mod 64) / 4, aligned block k holds stream floats 16k − delta .. 16k − delta + 15; per column
// j the four blocks 4j..4j+3 hold the column's rows −delta..63 − delta, so accumulator q (q = 0..3) keeps, in lane t,
// row (16q − delta + t) mod 64 for all columns. Block 4j's lanes below delta are the previous column's last rows:
// they are multiplied by x[j − 1] (a blend of two broadcasts), the first column leaves them as they are, and block
// 4·kb adds the last column's. Every row thus takes the columns in order, one fused multiply-add each, in one chain
// from y (or 0): the same operations as Tile, so the same bits (PackedGemvBatchBitsTests checks every misalignment).
// Accumulators are rotated from y and back with one two-source permute per row vector and input. The aligned blocks 0
// and 4·kb reach up to delta floats before the panel and after its last column, inside the 64-byte lines that hold
// its first and last floats (readable memory; the weights are pinned while the tile runs, and the lanes read there
// are discarded). Measured (docs/benchmarks.md, "Small-batch float32 tiles"): at 1024 × 256, 1 / 2 / 3 inputs take
// 0.67–0.70 / 0.72–0.75 / 0.84–0.86 × the time of Tile on the same misaligned weights; 4 inputs stay with Tile (the
// blends would then cost more FMA-port time than the split loads do).
public static partial class PackedGemv
{
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
