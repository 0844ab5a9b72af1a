using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RnnEmbedded.Runtime.CompilerServices;

// The batched bfloat16 / int8 products (docs/kernels.md, "Quantized weights"; docs/architecture.md, "Batched step"):
// one pass over the narrow matrix for up to MaxLanes inputs, each loaded column slice widened to float32 once and
// multiplied into every input's accumulators, so a step over B models reads and widens the weights once instead of
// B times. Each (row vector, input) pair is one accumulator chain over the columns in the same order, started from 0
// and finished the same way (y (+)= acc, or y (+)= s ⊙ acc) as the single product of PackedGemv.Quantized.cs — the
// full panels as one chain, a narrower last panel at Vector512 and Vector256 as its even/odd column chains — so each
// input's result equals its single product bit for bit. The one exception: at Vector512, when two or more inputs
// share the call, more than QuantizedChunkColumns columns are taken a chunk at a time (the packed inputs live on the
// stack), each chunk finished into y, which rounds once more per extra chunk.
public static partial class PackedGemv
{
    private const int QuantizedChunkColumns = 512; // x columns packed at a time: 512 × MaxLanes floats = 32 KB of stack

    private struct Lanes9 : ILaneCount
    {
        public static int Value => 9;
    }

    private struct Lanes10 : ILaneCount
    {
        public static int Value => 10;
    }

    private struct Lanes11 : ILaneCount
    {
        public static int Value => 11;
    }

    private struct Lanes12 : ILaneCount
    {
        public static int Value => 12;
    }

    private struct Lanes13 : ILaneCount
    {
        public static int Value => 13;
    }

    private struct Lanes14 : ILaneCount
    {
        public static int Value => 14;
    }

    private struct Lanes15 : ILaneCount
    {
        public static int Value => 15;
    }

    private struct Lanes16 : ILaneCount
    {
        public static int Value => 16;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WidenedBatch<TW, TWid>(
        ReadOnlySpan<TW> packed, ReadOnlySpan<float> scales, bool scaled, ReadOnlySpan<float> xs, Span<float> ys, int count, VectorWidth width, bool accumulate)
        where TW : unmanaged
        where TWid : struct, IWeightWidening<TW>
    {
        int rows = ys.Length / count;
        int cols = xs.Length / count;
        CheckShapes(packed.Length, xs.Slice(0, cols), ys.Slice(0, rows));
        if (scaled && scales.Length != rows)
        {
            ThrowHelper.Length(nameof(packed), $"has {scales.Length} row scales; it needs one per padded row, {rows}.");
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
        ref TW w = ref MemoryMarshal.GetReference(packed);
        ref float s = ref MemoryMarshal.GetReference(scales);
        for (int b = 0; b < count; b += MaxLanes)
        {
            int lanes = Math.Min(MaxLanes, count - b);
            ref float x = ref Unsafe.Add(ref MemoryMarshal.GetReference(xs), b * cols);
            ref float y = ref Unsafe.Add(ref MemoryMarshal.GetReference(ys), b * rows);
            switch (width)
            {
                case VectorWidth.V512:
                    WideBatch512<TW, TWid>(ref w, ref s, ref x, ref y, (nuint)rows, (nuint)cols, lanes, scaled, accumulate);
                    break;
                case VectorWidth.V256:
                    WideBatch<TW, TWid, V256Ops, Vector256<float>>(ref w, ref s, ref x, ref y, (nuint)rows, (nuint)cols, lanes, scaled, accumulate);
                    break;
                case VectorWidth.V128:
                    WideBatch<TW, TWid, V128Ops, Vector128<float>>(ref w, ref s, ref x, ref y, (nuint)rows, (nuint)cols, lanes, scaled, accumulate);
                    break;
                default:
                    WideBatch<TW, TWid, ScalarOps, float>(ref w, ref s, ref x, ref y, (nuint)rows, (nuint)cols, lanes, scaled, accumulate);
                    break;
            }
        }
    }

    // ---- Vector512: inputs packed column-interleaved (as in PackedGemv.Batch512.cs, all lanes in one group), then per
    // panel register tiles of 16 chains that cover every input at once: 4 row vectors × up to 4 inputs, 2 × up to 8,
    // 1 × up to 16, so each column slice is widened once per pass whatever the count.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WideBatch512<TW, TWid>(ref TW w, ref float s, ref float x, ref float y, nuint rows, nuint cols, int lanes, bool scaled, bool accumulate)
        where TW : unmanaged
        where TWid : struct, IWeightWidening<TW>
    {
        Span<float> packedSpan = stackalloc float[QuantizedChunkColumns * MaxLanes];
        ref float packedX = ref MemoryMarshal.GetReference(packedSpan);
        nuint chunk = lanes > 1 ? QuantizedChunkColumns : cols; // one input is used in place, whole
        for (nuint c0 = 0; c0 < cols; c0 += chunk)
        {
            nuint kc = Math.Min(chunk, cols - c0);
            if (lanes > 1)
            {
                PackLanes(ref x, cols, c0, kc, (nuint)lanes, ref packedX);
            }

            ref float xp = ref lanes > 1 ? ref packedX : ref Unsafe.Add(ref x, c0); // one input is already packed
            bool chunkAccumulate = accumulate || c0 > 0;
            switch (lanes)
            {
                case 1:
                    WidePanels512<TW, TWid, Lanes1>(ref w, ref s, ref xp, ref y, rows, cols, c0, kc, scaled, chunkAccumulate);
                    break;
                case 2:
                    WidePanels512<TW, TWid, Lanes2>(ref w, ref s, ref xp, ref y, rows, cols, c0, kc, scaled, chunkAccumulate);
                    break;
                case 3:
                    WidePanels512<TW, TWid, Lanes3>(ref w, ref s, ref xp, ref y, rows, cols, c0, kc, scaled, chunkAccumulate);
                    break;
                case 4:
                    WidePanels512<TW, TWid, Lanes4>(ref w, ref s, ref xp, ref y, rows, cols, c0, kc, scaled, chunkAccumulate);
                    break;
                case 5:
                    WidePanels512<TW, TWid, Lanes5>(ref w, ref s, ref xp, ref y, rows, cols, c0, kc, scaled, chunkAccumulate);
                    break;
                case 6:
                    WidePanels512<TW, TWid, Lanes6>(ref w, ref s, ref xp, ref y, rows, cols, c0, kc, scaled, chunkAccumulate);
                    break;
                case 7:
                    WidePanels512<TW, TWid, Lanes7>(ref w, ref s, ref xp, ref y, rows, cols, c0, kc, scaled, chunkAccumulate);
                    break;
                case 8:
                    WidePanels512<TW, TWid, Lanes8>(ref w, ref s, ref xp, ref y, rows, cols, c0, kc, scaled, chunkAccumulate);
                    break;
                case 9:
                    WidePanels512<TW, TWid, Lanes9>(ref w, ref s, ref xp, ref y, rows, cols, c0, kc, scaled, chunkAccumulate);
                    break;
                case 10:
                    WidePanels512<TW, TWid, Lanes10>(ref w, ref s, ref xp, ref y, rows, cols, c0, kc, scaled, chunkAccumulate);
                    break;
                case 11:
                    WidePanels512<TW, TWid, Lanes11>(ref w, ref s, ref xp, ref y, rows, cols, c0, kc, scaled, chunkAccumulate);
                    break;
                case 12:
                    WidePanels512<TW, TWid, Lanes12>(ref w, ref s, ref xp, ref y, rows, cols, c0, kc, scaled, chunkAccumulate);
                    break;
                case 13:
                    WidePanels512<TW, TWid, Lanes13>(ref w, ref s, ref xp, ref y, rows, cols, c0, kc, scaled, chunkAccumulate);
                    break;
                case 14:
                    WidePanels512<TW, TWid, Lanes14>(ref w, ref s, ref xp, ref y, rows, cols, c0, kc, scaled, chunkAccumulate);
                    break;
                case 15:
                    WidePanels512<TW, TWid, Lanes15>(ref w, ref s, ref xp, ref y, rows, cols, c0, kc, scaled, chunkAccumulate);
                    break;
                default:
                    WidePanels512<TW, TWid, Lanes16>(ref w, ref s, ref xp, ref y, rows, cols, c0, kc, scaled, chunkAccumulate);
                    break;
            }
        }
    }

    // Columns c0..c0+kc of `lanes` inputs (rows `cols` apart) interleaved: input l's column j to packed[j·lanes + l].
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackLanes(ref float x, nuint cols, nuint c0, nuint kc, nuint lanes, ref float packed)
    {
        for (nuint l = 0; l < lanes; l++)
        {
            ref float source = ref Unsafe.Add(ref x, (l * cols) + c0);
            ref float destination = ref Unsafe.Add(ref packed, l);
            for (nuint j = 0; j < kc; j++)
            {
                Unsafe.Add(ref destination, j * lanes) = Unsafe.Add(ref source, j);
            }
        }
    }

    // Every panel over one chunk of columns for TL inputs (xp packed with stride TL).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WidePanels512<TW, TWid, TL>(
        ref TW w, ref float s, ref float xp, ref float y, nuint rows, nuint cols, nuint c0, nuint kc, bool scaled, bool accumulate)
        where TW : unmanaged
        where TWid : struct, IWeightWidening<TW>
        where TL : struct, ILaneCount
    {
        nuint lanes = (nuint)TL.Value;
        for (nuint p = 0; p < rows; p += PanelRows)
        {
            nuint panelWidth = Math.Min(PanelRows, rows - p);
            ref TW panel = ref Unsafe.Add(ref w, (p * cols) + (c0 * panelWidth)); // column c0 of panel p
            ref float sp = ref scaled ? ref Unsafe.Add(ref s, p) : ref s;
            ref float yp = ref Unsafe.Add(ref y, p);
            if (panelWidth == PanelRows)
            {
                if (TL.Value <= 4)
                {
                    WideTile512<TW, TWid, Lanes4, TL>(ref panel, ref xp, ref yp, ref sp, rows, kc, scaled, accumulate);
                }
                else if (TL.Value <= 8)
                {
                    for (nuint k = 0; k < PanelRows; k += 32)
                    {
                        WideTile512<TW, TWid, Lanes2, TL>(ref Unsafe.Add(ref panel, k), ref xp, ref Unsafe.Add(ref yp, k),
                            ref scaled ? ref Unsafe.Add(ref sp, k) : ref sp, rows, kc, scaled, accumulate);
                    }
                }
                else
                {
                    for (nuint k = 0; k < PanelRows; k += 16)
                    {
                        WideTile512<TW, TWid, Lanes1, TL>(ref Unsafe.Add(ref panel, k), ref xp, ref Unsafe.Add(ref yp, k),
                            ref scaled ? ref Unsafe.Add(ref sp, k) : ref sp, rows, kc, scaled, accumulate);
                    }
                }

                continue;
            }

            // A narrower last panel (16, 32 or 48 rows, column stride = its width): 16-row strips, up to 8 inputs each.
            for (nuint k = 0; k < panelWidth; k += RowAlign)
            {
                ref TW strip = ref Unsafe.Add(ref panel, k);
                ref float sk = ref scaled ? ref Unsafe.Add(ref sp, k) : ref sp;
                for (nuint g = 0; g < lanes; g += 8)
                {
                    ref float xg = ref Unsafe.Add(ref xp, g);
                    ref float yg = ref Unsafe.Add(ref yp, (g * rows) + k);
                    switch (Math.Min(8, lanes - g))
                    {
                    case 1:
                        WideStripTile512<TW, TWid, Lanes1>(ref strip, panelWidth, ref xg, lanes, ref yg, ref sk, rows, kc, scaled, accumulate);
                        break;
                    case 2:
                        WideStripTile512<TW, TWid, Lanes2>(ref strip, panelWidth, ref xg, lanes, ref yg, ref sk, rows, kc, scaled, accumulate);
                        break;
                    case 3:
                        WideStripTile512<TW, TWid, Lanes3>(ref strip, panelWidth, ref xg, lanes, ref yg, ref sk, rows, kc, scaled, accumulate);
                        break;
                    case 4:
                        WideStripTile512<TW, TWid, Lanes4>(ref strip, panelWidth, ref xg, lanes, ref yg, ref sk, rows, kc, scaled, accumulate);
                        break;
                    case 5:
                        WideStripTile512<TW, TWid, Lanes5>(ref strip, panelWidth, ref xg, lanes, ref yg, ref sk, rows, kc, scaled, accumulate);
                        break;
                    case 6:
                        WideStripTile512<TW, TWid, Lanes6>(ref strip, panelWidth, ref xg, lanes, ref yg, ref sk, rows, kc, scaled, accumulate);
                        break;
                    case 7:
                        WideStripTile512<TW, TWid, Lanes7>(ref strip, panelWidth, ref xg, lanes, ref yg, ref sk, rows, kc, scaled, accumulate);
                        break;
                    default:
                        WideStripTile512<TW, TWid, Lanes8>(ref strip, panelWidth, ref xg, lanes, ref yg, ref sk, rows, kc, scaled, accumulate);
                        break;
                    }
                }
            }
        }
    }

    // R vectors of 16 rows of a full panel (columns PanelRows apart) × TL inputs over kc columns: one chain per (row
    // vector, input), each column slice widened once. Input l's rows go to y + l·rows, finished as the single product.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void WideTile512<TW, TWid, TR, TL>(ref TW w, ref float xp, ref float y, ref float s, nuint rows, nuint kc, bool scaled, bool accumulate)
        where TW : unmanaged
        where TWid : struct, IWeightWidening<TW>
        where TR : struct, ILaneCount
        where TL : struct, ILaneCount
    {
        Vector512<float> z = Vector512<float>.Zero;
        Vector512<float> a0_0 = z, a0_1 = z, a0_2 = z, a0_3 = z, a0_4 = z, a0_5 = z, a0_6 = z, a0_7 = z, a0_8 = z, a0_9 = z, a0_10 = z, a0_11 = z, a0_12 = z, a0_13 = z, a0_14 = z, a0_15 = z;
        Vector512<float> a1_0 = z, a1_1 = z, a1_2 = z, a1_3 = z, a1_4 = z, a1_5 = z, a1_6 = z, a1_7 = z;
        Vector512<float> a2_0 = z, a2_1 = z, a2_2 = z, a2_3 = z;
        Vector512<float> a3_0 = z, a3_1 = z, a3_2 = z, a3_3 = z;
        nuint lanes = (nuint)TL.Value;
        for (nuint j = 0; j < kc; j++)
        {
            ref TW column = ref Unsafe.Add(ref w, j * PanelRows);
            if (TR.Value == 4 && Sse.IsSupported)
            {
                // A hint only (as in Tile of PackedGemv.Batch512.cs): the widened tiles stream W like the float32 ones.
                ref TW ahead = ref Unsafe.Add(ref column, PrefetchColumns * PanelRows);
                Sse.Prefetch0(Unsafe.AsPointer(ref ahead));
                if (Unsafe.SizeOf<TW>() > 1)
                {
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref ahead, 32))); // a bfloat16 column is two cache lines
                }
            }

            ref float xj = ref Unsafe.Add(ref xp, j * lanes);
            Vector512<float> w0 = TWid.Load16(ref column);
            Vector512<float> w1 = TR.Value > 1 ? TWid.Load16(ref Unsafe.Add(ref column, 16)) : z;
            Vector512<float> w2 = TR.Value > 2 ? TWid.Load16(ref Unsafe.Add(ref column, 32)) : z;
            Vector512<float> w3 = TR.Value > 3 ? TWid.Load16(ref Unsafe.Add(ref column, 48)) : z;
            Vector512<float> v;
            v = Vector512.Create(Unsafe.Add(ref xj, 0));
            a0_0 = Fma512(w0, v, a0_0);
            if (TR.Value > 1)
            {
                a1_0 = Fma512(w1, v, a1_0);
            }

            if (TR.Value > 2)
            {
                a2_0 = Fma512(w2, v, a2_0);
            }

            if (TR.Value > 3)
            {
                a3_0 = Fma512(w3, v, a3_0);
            }

            if (TL.Value > 1)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 1));
                a0_1 = Fma512(w0, v, a0_1);
                if (TR.Value > 1)
                {
                    a1_1 = Fma512(w1, v, a1_1);
                }

                if (TR.Value > 2)
                {
                    a2_1 = Fma512(w2, v, a2_1);
                }

                if (TR.Value > 3)
                {
                    a3_1 = Fma512(w3, v, a3_1);
                }
            }

            if (TL.Value > 2)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 2));
                a0_2 = Fma512(w0, v, a0_2);
                if (TR.Value > 1)
                {
                    a1_2 = Fma512(w1, v, a1_2);
                }

                if (TR.Value > 2)
                {
                    a2_2 = Fma512(w2, v, a2_2);
                }

                if (TR.Value > 3)
                {
                    a3_2 = Fma512(w3, v, a3_2);
                }
            }

            if (TL.Value > 3)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 3));
                a0_3 = Fma512(w0, v, a0_3);
                if (TR.Value > 1)
                {
                    a1_3 = Fma512(w1, v, a1_3);
                }

                if (TR.Value > 2)
                {
                    a2_3 = Fma512(w2, v, a2_3);
                }

                if (TR.Value > 3)
                {
                    a3_3 = Fma512(w3, v, a3_3);
                }
            }

            if (TL.Value > 4)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 4));
                a0_4 = Fma512(w0, v, a0_4);
                if (TR.Value > 1)
                {
                    a1_4 = Fma512(w1, v, a1_4);
                }
            }

            if (TL.Value > 5)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 5));
                a0_5 = Fma512(w0, v, a0_5);
                if (TR.Value > 1)
                {
                    a1_5 = Fma512(w1, v, a1_5);
                }
            }

            if (TL.Value > 6)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 6));
                a0_6 = Fma512(w0, v, a0_6);
                if (TR.Value > 1)
                {
                    a1_6 = Fma512(w1, v, a1_6);
                }
            }

            if (TL.Value > 7)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 7));
                a0_7 = Fma512(w0, v, a0_7);
                if (TR.Value > 1)
                {
                    a1_7 = Fma512(w1, v, a1_7);
                }
            }

            if (TL.Value > 8)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 8));
                a0_8 = Fma512(w0, v, a0_8);
            }

            if (TL.Value > 9)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 9));
                a0_9 = Fma512(w0, v, a0_9);
            }

            if (TL.Value > 10)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 10));
                a0_10 = Fma512(w0, v, a0_10);
            }

            if (TL.Value > 11)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 11));
                a0_11 = Fma512(w0, v, a0_11);
            }

            if (TL.Value > 12)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 12));
                a0_12 = Fma512(w0, v, a0_12);
            }

            if (TL.Value > 13)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 13));
                a0_13 = Fma512(w0, v, a0_13);
            }

            if (TL.Value > 14)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 14));
                a0_14 = Fma512(w0, v, a0_14);
            }

            if (TL.Value > 15)
            {
                v = Vector512.Create(Unsafe.Add(ref xj, 15));
                a0_15 = Fma512(w0, v, a0_15);
            }
        }

        Finish512(a0_0, ref Unsafe.Add(ref y, 0 * rows), ref s, 0, scaled, accumulate);
        if (TR.Value > 1)
        {
            Finish512(a1_0, ref Unsafe.Add(ref y, 0 * rows), ref s, 16, scaled, accumulate);
        }

        if (TR.Value > 2)
        {
            Finish512(a2_0, ref Unsafe.Add(ref y, 0 * rows), ref s, 32, scaled, accumulate);
        }

        if (TR.Value > 3)
        {
            Finish512(a3_0, ref Unsafe.Add(ref y, 0 * rows), ref s, 48, scaled, accumulate);
        }

        if (TL.Value > 1)
        {
            Finish512(a0_1, ref Unsafe.Add(ref y, 1 * rows), ref s, 0, scaled, accumulate);
        }

        if (TR.Value > 1 && TL.Value > 1)
        {
            Finish512(a1_1, ref Unsafe.Add(ref y, 1 * rows), ref s, 16, scaled, accumulate);
        }

        if (TR.Value > 2 && TL.Value > 1)
        {
            Finish512(a2_1, ref Unsafe.Add(ref y, 1 * rows), ref s, 32, scaled, accumulate);
        }

        if (TR.Value > 3 && TL.Value > 1)
        {
            Finish512(a3_1, ref Unsafe.Add(ref y, 1 * rows), ref s, 48, scaled, accumulate);
        }

        if (TL.Value > 2)
        {
            Finish512(a0_2, ref Unsafe.Add(ref y, 2 * rows), ref s, 0, scaled, accumulate);
        }

        if (TR.Value > 1 && TL.Value > 2)
        {
            Finish512(a1_2, ref Unsafe.Add(ref y, 2 * rows), ref s, 16, scaled, accumulate);
        }

        if (TR.Value > 2 && TL.Value > 2)
        {
            Finish512(a2_2, ref Unsafe.Add(ref y, 2 * rows), ref s, 32, scaled, accumulate);
        }

        if (TR.Value > 3 && TL.Value > 2)
        {
            Finish512(a3_2, ref Unsafe.Add(ref y, 2 * rows), ref s, 48, scaled, accumulate);
        }

        if (TL.Value > 3)
        {
            Finish512(a0_3, ref Unsafe.Add(ref y, 3 * rows), ref s, 0, scaled, accumulate);
        }

        if (TR.Value > 1 && TL.Value > 3)
        {
            Finish512(a1_3, ref Unsafe.Add(ref y, 3 * rows), ref s, 16, scaled, accumulate);
        }

        if (TR.Value > 2 && TL.Value > 3)
        {
            Finish512(a2_3, ref Unsafe.Add(ref y, 3 * rows), ref s, 32, scaled, accumulate);
        }

        if (TR.Value > 3 && TL.Value > 3)
        {
            Finish512(a3_3, ref Unsafe.Add(ref y, 3 * rows), ref s, 48, scaled, accumulate);
        }

        if (TL.Value > 4)
        {
            Finish512(a0_4, ref Unsafe.Add(ref y, 4 * rows), ref s, 0, scaled, accumulate);
        }

        if (TR.Value > 1 && TL.Value > 4)
        {
            Finish512(a1_4, ref Unsafe.Add(ref y, 4 * rows), ref s, 16, scaled, accumulate);
        }

        if (TL.Value > 5)
        {
            Finish512(a0_5, ref Unsafe.Add(ref y, 5 * rows), ref s, 0, scaled, accumulate);
        }

        if (TR.Value > 1 && TL.Value > 5)
        {
            Finish512(a1_5, ref Unsafe.Add(ref y, 5 * rows), ref s, 16, scaled, accumulate);
        }

        if (TL.Value > 6)
        {
            Finish512(a0_6, ref Unsafe.Add(ref y, 6 * rows), ref s, 0, scaled, accumulate);
        }

        if (TR.Value > 1 && TL.Value > 6)
        {
            Finish512(a1_6, ref Unsafe.Add(ref y, 6 * rows), ref s, 16, scaled, accumulate);
        }

        if (TL.Value > 7)
        {
            Finish512(a0_7, ref Unsafe.Add(ref y, 7 * rows), ref s, 0, scaled, accumulate);
        }

        if (TR.Value > 1 && TL.Value > 7)
        {
            Finish512(a1_7, ref Unsafe.Add(ref y, 7 * rows), ref s, 16, scaled, accumulate);
        }

        if (TL.Value > 8)
        {
            Finish512(a0_8, ref Unsafe.Add(ref y, 8 * rows), ref s, 0, scaled, accumulate);
        }

        if (TL.Value > 9)
        {
            Finish512(a0_9, ref Unsafe.Add(ref y, 9 * rows), ref s, 0, scaled, accumulate);
        }

        if (TL.Value > 10)
        {
            Finish512(a0_10, ref Unsafe.Add(ref y, 10 * rows), ref s, 0, scaled, accumulate);
        }

        if (TL.Value > 11)
        {
            Finish512(a0_11, ref Unsafe.Add(ref y, 11 * rows), ref s, 0, scaled, accumulate);
        }

        if (TL.Value > 12)
        {
            Finish512(a0_12, ref Unsafe.Add(ref y, 12 * rows), ref s, 0, scaled, accumulate);
        }

        if (TL.Value > 13)
        {
            Finish512(a0_13, ref Unsafe.Add(ref y, 13 * rows), ref s, 0, scaled, accumulate);
        }

        if (TL.Value > 14)
        {
            Finish512(a0_14, ref Unsafe.Add(ref y, 14 * rows), ref s, 0, scaled, accumulate);
        }

        if (TL.Value > 15)
        {
            Finish512(a0_15, ref Unsafe.Add(ref y, 15 * rows), ref s, 0, scaled, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WideStripTile512<TW, TWid, TL>(ref TW w, nuint stride, ref float xp, nuint lanes, ref float y, ref float s, nuint rows, nuint kc, bool scaled, bool accumulate)
        where TW : unmanaged
        where TWid : struct, IWeightWidening<TW>
        where TL : struct, ILaneCount
    {
        Vector512<float> z = Vector512<float>.Zero;
        Vector512<float> a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
        Vector512<float> b0 = z, b1 = z, b2 = z, b3 = z, b4 = z, b5 = z, b6 = z, b7 = z;
        nuint j = 0;
        for (; j + 2 <= kc; j += 2)
        {
            ref TW c = ref Unsafe.Add(ref w, j * stride);
            ref float x0 = ref Unsafe.Add(ref xp, j * lanes);
            ref float x1 = ref Unsafe.Add(ref x0, lanes);
            Vector512<float> w0 = TWid.Load16(ref c);
            Vector512<float> w1 = TWid.Load16(ref Unsafe.Add(ref c, stride));
            a0 = Fma512(w0, Vector512.Create(Unsafe.Add(ref x0, 0)), a0);
            b0 = Fma512(w1, Vector512.Create(Unsafe.Add(ref x1, 0)), b0);

            if (TL.Value > 1)
            {
                a1 = Fma512(w0, Vector512.Create(Unsafe.Add(ref x0, 1)), a1);
                b1 = Fma512(w1, Vector512.Create(Unsafe.Add(ref x1, 1)), b1);
            }

            if (TL.Value > 2)
            {
                a2 = Fma512(w0, Vector512.Create(Unsafe.Add(ref x0, 2)), a2);
                b2 = Fma512(w1, Vector512.Create(Unsafe.Add(ref x1, 2)), b2);
            }

            if (TL.Value > 3)
            {
                a3 = Fma512(w0, Vector512.Create(Unsafe.Add(ref x0, 3)), a3);
                b3 = Fma512(w1, Vector512.Create(Unsafe.Add(ref x1, 3)), b3);
            }

            if (TL.Value > 4)
            {
                a4 = Fma512(w0, Vector512.Create(Unsafe.Add(ref x0, 4)), a4);
                b4 = Fma512(w1, Vector512.Create(Unsafe.Add(ref x1, 4)), b4);
            }

            if (TL.Value > 5)
            {
                a5 = Fma512(w0, Vector512.Create(Unsafe.Add(ref x0, 5)), a5);
                b5 = Fma512(w1, Vector512.Create(Unsafe.Add(ref x1, 5)), b5);
            }

            if (TL.Value > 6)
            {
                a6 = Fma512(w0, Vector512.Create(Unsafe.Add(ref x0, 6)), a6);
                b6 = Fma512(w1, Vector512.Create(Unsafe.Add(ref x1, 6)), b6);
            }

            if (TL.Value > 7)
            {
                a7 = Fma512(w0, Vector512.Create(Unsafe.Add(ref x0, 7)), a7);
                b7 = Fma512(w1, Vector512.Create(Unsafe.Add(ref x1, 7)), b7);
            }
        }

        if (j < kc)
        {
            ref float x0 = ref Unsafe.Add(ref xp, j * lanes);
            Vector512<float> w0 = TWid.Load16(ref Unsafe.Add(ref w, j * stride));
            a0 = Fma512(w0, Vector512.Create(Unsafe.Add(ref x0, 0)), a0);
            if (TL.Value > 1)
            {
                a1 = Fma512(w0, Vector512.Create(Unsafe.Add(ref x0, 1)), a1);
            }

            if (TL.Value > 2)
            {
                a2 = Fma512(w0, Vector512.Create(Unsafe.Add(ref x0, 2)), a2);
            }

            if (TL.Value > 3)
            {
                a3 = Fma512(w0, Vector512.Create(Unsafe.Add(ref x0, 3)), a3);
            }

            if (TL.Value > 4)
            {
                a4 = Fma512(w0, Vector512.Create(Unsafe.Add(ref x0, 4)), a4);
            }

            if (TL.Value > 5)
            {
                a5 = Fma512(w0, Vector512.Create(Unsafe.Add(ref x0, 5)), a5);
            }

            if (TL.Value > 6)
            {
                a6 = Fma512(w0, Vector512.Create(Unsafe.Add(ref x0, 6)), a6);
            }

            if (TL.Value > 7)
            {
                a7 = Fma512(w0, Vector512.Create(Unsafe.Add(ref x0, 7)), a7);
            }
        }

        Finish512(a0 + b0, ref Unsafe.Add(ref y, 0 * rows), ref s, 0, scaled, accumulate);
        if (TL.Value > 1)
        {
            Finish512(a1 + b1, ref Unsafe.Add(ref y, 1 * rows), ref s, 0, scaled, accumulate);
        }

        if (TL.Value > 2)
        {
            Finish512(a2 + b2, ref Unsafe.Add(ref y, 2 * rows), ref s, 0, scaled, accumulate);
        }

        if (TL.Value > 3)
        {
            Finish512(a3 + b3, ref Unsafe.Add(ref y, 3 * rows), ref s, 0, scaled, accumulate);
        }

        if (TL.Value > 4)
        {
            Finish512(a4 + b4, ref Unsafe.Add(ref y, 4 * rows), ref s, 0, scaled, accumulate);
        }

        if (TL.Value > 5)
        {
            Finish512(a5 + b5, ref Unsafe.Add(ref y, 5 * rows), ref s, 0, scaled, accumulate);
        }

        if (TL.Value > 6)
        {
            Finish512(a6 + b6, ref Unsafe.Add(ref y, 6 * rows), ref s, 0, scaled, accumulate);
        }

        if (TL.Value > 7)
        {
            Finish512(a7 + b7, ref Unsafe.Add(ref y, 7 * rows), ref s, 0, scaled, accumulate);
        }
    }


    // ---- Vector256, Vector128 and scalar: blocks of 2 row vectors (1 with even/odd chains for a narrower last panel at
    // Vector256) × up to 4 inputs, like the float32 kernel of PackedGemv.Batch.cs; each column slice is widened once
    // per 4 inputs (16 vector registers leave no room for more chains).

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WideBatch<TW, TWid, TOps, TV>(ref TW w, ref float s, ref float x, ref float y, nuint rows, nuint cols, int lanes, bool scaled, bool accumulate)
        where TW : unmanaged
        where TWid : struct, IWeightWidening<TW>
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        for (int g = 0; g < lanes; g += 4)
        {
            ref float xg = ref Unsafe.Add(ref x, (nuint)g * cols);
            ref float yg = ref Unsafe.Add(ref y, (nuint)g * rows);
            switch (Math.Min(4, lanes - g))
            {
                case 1:
                    WideGroup<TW, TWid, TOps, TV, Lanes1>(ref w, ref s, ref xg, ref yg, rows, cols, scaled, accumulate);
                    break;
                case 2:
                    WideGroup<TW, TWid, TOps, TV, Lanes2>(ref w, ref s, ref xg, ref yg, rows, cols, scaled, accumulate);
                    break;
                case 3:
                    WideGroup<TW, TWid, TOps, TV, Lanes3>(ref w, ref s, ref xg, ref yg, rows, cols, scaled, accumulate);
                    break;
                default:
                    WideGroup<TW, TWid, TOps, TV, Lanes4>(ref w, ref s, ref xg, ref yg, rows, cols, scaled, accumulate);
                    break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WideGroup<TW, TWid, TOps, TV, TL>(ref TW w, ref float s, ref float x, ref float y, nuint rows, nuint cols, bool scaled, bool accumulate)
        where TW : unmanaged
        where TWid : struct, IWeightWidening<TW>
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        where TL : struct, ILaneCount
    {
        nuint v = (nuint)TOps.Count;
        bool split = typeof(TV) == typeof(Vector256<float>); // WideStrip256 sums even and odd columns apart
        for (nuint p = 0; p < rows; p += PanelRows)
        {
            nuint panelWidth = Math.Min(PanelRows, rows - p);
            ref TW panel = ref Unsafe.Add(ref w, p * cols);
            ref float sp = ref scaled ? ref Unsafe.Add(ref s, p) : ref s;
            ref float yp = ref Unsafe.Add(ref y, p);
            if (panelWidth == PanelRows || !split)
            {
                nuint k = 0;
                for (; k + (2 * v) <= panelWidth; k += 2 * v)
                {
                    WideBlock<TW, TWid, TOps, TV, Lanes2, TL>(ref Unsafe.Add(ref panel, k), panelWidth, ref x, cols,
                        ref Unsafe.Add(ref yp, k), ref scaled ? ref Unsafe.Add(ref sp, k) : ref sp, rows, scaled, accumulate);
                }

                if (k < panelWidth)
                {
                    WideBlock<TW, TWid, TOps, TV, Lanes1, TL>(ref Unsafe.Add(ref panel, k), panelWidth, ref x, cols,
                        ref Unsafe.Add(ref yp, k), ref scaled ? ref Unsafe.Add(ref sp, k) : ref sp, rows, scaled, accumulate);
                }

                continue;
            }

            for (nuint k = 0; k < panelWidth; k += v)
            {
                WideSplitBlock<TW, TWid, TOps, TV, TL>(ref Unsafe.Add(ref panel, k), panelWidth, ref x, cols,
                    ref Unsafe.Add(ref yp, k), ref scaled ? ref Unsafe.Add(ref sp, k) : ref sp, rows, scaled, accumulate);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV WidenLoad<TW, TWid, TV>(ref TW p)
        where TW : unmanaged
        where TWid : struct, IWeightWidening<TW>
        where TV : struct
    {
        if (typeof(TV) == typeof(Vector256<float>))
        {
            return Unsafe.BitCast<Vector256<float>, TV>(TWid.Load8(ref p));
        }

        if (typeof(TV) == typeof(Vector128<float>))
        {
            return Unsafe.BitCast<Vector128<float>, TV>(TWid.Load4(ref p));
        }

        if (typeof(TV) == typeof(Vector512<float>))
        {
            return Unsafe.BitCast<Vector512<float>, TV>(TWid.Load16(ref p));
        }

        return Unsafe.BitCast<float, TV>(TWid.Load1(p));
    }

    // y (+)= acc, or y (+)= s ⊙ acc: the same operations as Finish256 / Finish128 and the scalar finish.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WideFinish<TOps, TV>(TV acc, ref float y, ref float s, bool scaled, bool accumulate)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        if (scaled)
        {
            TV sv = TOps.Load(ref s, 0);
            acc = accumulate ? TOps.MultiplyAdd(acc, sv, TOps.Load(ref y, 0)) : TOps.Multiply(acc, sv);
        }
        else if (accumulate)
        {
            acc = TOps.Add(acc, TOps.Load(ref y, 0));
        }

        TOps.Store(acc, ref y, 0);
    }

    // TR (1 or 2) row vectors (columns `stride` apart) × TL (1..4) inputs (rows `cols` apart in x): 2·4 chains.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WideBlock<TW, TWid, TOps, TV, TR, TL>(
        ref TW w, nuint stride, ref float x, nuint cols, ref float y, ref float s, nuint rows, bool scaled, bool accumulate)
        where TW : unmanaged
        where TWid : struct, IWeightWidening<TW>
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        where TR : struct, ILaneCount
        where TL : struct, ILaneCount
    {
        nuint v = (nuint)TOps.Count;
        ref float x1 = ref TL.Value > 1 ? ref Unsafe.Add(ref x, cols) : ref x;
        ref float x2 = ref TL.Value > 2 ? ref Unsafe.Add(ref x, 2 * cols) : ref x;
        ref float x3 = ref TL.Value > 3 ? ref Unsafe.Add(ref x, 3 * cols) : ref x;
        TV z = TOps.Create(0f);
        TV a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
        for (nuint j = 0; j < cols; j++)
        {
            ref TW c = ref Unsafe.Add(ref w, j * stride);
            TV wa = WidenLoad<TW, TWid, TV>(ref c);
            TV wb = TR.Value > 1 ? WidenLoad<TW, TWid, TV>(ref Unsafe.Add(ref c, v)) : z;
            TV c0 = TOps.Create(Unsafe.Add(ref x, j));
            a0 = TOps.MultiplyAdd(wa, c0, a0);
            if (TR.Value > 1)
            {
                b0 = TOps.MultiplyAdd(wb, c0, b0);
            }

            if (TL.Value > 1)
            {
                TV c1 = TOps.Create(Unsafe.Add(ref x1, j));
                a1 = TOps.MultiplyAdd(wa, c1, a1);
                if (TR.Value > 1)
                {
                    b1 = TOps.MultiplyAdd(wb, c1, b1);
                }
            }

            if (TL.Value > 2)
            {
                TV c2 = TOps.Create(Unsafe.Add(ref x2, j));
                a2 = TOps.MultiplyAdd(wa, c2, a2);
                if (TR.Value > 1)
                {
                    b2 = TOps.MultiplyAdd(wb, c2, b2);
                }
            }

            if (TL.Value > 3)
            {
                TV c3 = TOps.Create(Unsafe.Add(ref x3, j));
                a3 = TOps.MultiplyAdd(wa, c3, a3);
                if (TR.Value > 1)
                {
                    b3 = TOps.MultiplyAdd(wb, c3, b3);
                }
            }
        }

        WideFinishLanes<TOps, TV, TL>(a0, a1, a2, a3, ref y, ref s, rows, scaled, accumulate);
        if (TR.Value > 1)
        {
            WideFinishLanes<TOps, TV, TL>(b0, b1, b2, b3, ref Unsafe.Add(ref y, v), ref scaled ? ref Unsafe.Add(ref s, v) : ref s, rows, scaled, accumulate);
        }
    }

    // One row vector × TL inputs with two chains each, even and odd columns, summed at the end (as WideStrip256).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WideSplitBlock<TW, TWid, TOps, TV, TL>(
        ref TW w, nuint stride, ref float x, nuint cols, ref float y, ref float s, nuint rows, bool scaled, bool accumulate)
        where TW : unmanaged
        where TWid : struct, IWeightWidening<TW>
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        where TL : struct, ILaneCount
    {
        ref float x1 = ref TL.Value > 1 ? ref Unsafe.Add(ref x, cols) : ref x;
        ref float x2 = ref TL.Value > 2 ? ref Unsafe.Add(ref x, 2 * cols) : ref x;
        ref float x3 = ref TL.Value > 3 ? ref Unsafe.Add(ref x, 3 * cols) : ref x;
        TV z = TOps.Create(0f);
        TV a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
        nuint j = 0;
        for (; j + 2 <= cols; j += 2)
        {
            ref TW c = ref Unsafe.Add(ref w, j * stride);
            TV we = WidenLoad<TW, TWid, TV>(ref c);
            TV wo = WidenLoad<TW, TWid, TV>(ref Unsafe.Add(ref c, stride));
            a0 = TOps.MultiplyAdd(we, TOps.Create(Unsafe.Add(ref x, j)), a0);
            b0 = TOps.MultiplyAdd(wo, TOps.Create(Unsafe.Add(ref x, j + 1)), b0);
            if (TL.Value > 1)
            {
                a1 = TOps.MultiplyAdd(we, TOps.Create(Unsafe.Add(ref x1, j)), a1);
                b1 = TOps.MultiplyAdd(wo, TOps.Create(Unsafe.Add(ref x1, j + 1)), b1);
            }

            if (TL.Value > 2)
            {
                a2 = TOps.MultiplyAdd(we, TOps.Create(Unsafe.Add(ref x2, j)), a2);
                b2 = TOps.MultiplyAdd(wo, TOps.Create(Unsafe.Add(ref x2, j + 1)), b2);
            }

            if (TL.Value > 3)
            {
                a3 = TOps.MultiplyAdd(we, TOps.Create(Unsafe.Add(ref x3, j)), a3);
                b3 = TOps.MultiplyAdd(wo, TOps.Create(Unsafe.Add(ref x3, j + 1)), b3);
            }
        }

        if (j < cols)
        {
            TV we = WidenLoad<TW, TWid, TV>(ref Unsafe.Add(ref w, j * stride));
            a0 = TOps.MultiplyAdd(we, TOps.Create(Unsafe.Add(ref x, j)), a0);
            a1 = TL.Value > 1 ? TOps.MultiplyAdd(we, TOps.Create(Unsafe.Add(ref x1, j)), a1) : a1;
            a2 = TL.Value > 2 ? TOps.MultiplyAdd(we, TOps.Create(Unsafe.Add(ref x2, j)), a2) : a2;
            a3 = TL.Value > 3 ? TOps.MultiplyAdd(we, TOps.Create(Unsafe.Add(ref x3, j)), a3) : a3;
        }

        WideFinishLanes<TOps, TV, TL>(TOps.Add(a0, b0), TOps.Add(a1, b1), TOps.Add(a2, b2), TOps.Add(a3, b3), ref y, ref s, rows, scaled, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WideFinishLanes<TOps, TV, TL>(TV a0, TV a1, TV a2, TV a3, ref float y, ref float s, nuint rows, bool scaled, bool accumulate)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        where TL : struct, ILaneCount
    {
        WideFinish<TOps, TV>(a0, ref y, ref s, scaled, accumulate);
        if (TL.Value > 1)
        {
            WideFinish<TOps, TV>(a1, ref Unsafe.Add(ref y, rows), ref s, scaled, accumulate);
        }

        if (TL.Value > 2)
        {
            WideFinish<TOps, TV>(a2, ref Unsafe.Add(ref y, 2 * rows), ref s, scaled, accumulate);
        }

        if (TL.Value > 3)
        {
            WideFinish<TOps, TV>(a3, ref Unsafe.Add(ref y, 3 * rows), ref s, scaled, accumulate);
        }
    }
}
