using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;

#pragma warning disable CA2252

// A frozen copy of src/RnnRuntime/Kernels/PackedGemv.Int8Dot.cs and PackedGemv.Int8DotBatch.cs before branch i8step
// (commit 3a95383), for the in-process A/B of StepBench --i8step (docs/benchmarks.md, "int8-dynamic small batches at
// the VNNI bound"). AVX-VNNI paths only (the fallbacks throw).
namespace Bench.Before;

[SkipLocalsInit]
internal static class Int8DotBefore
{
    private const int PanelRows = 64;
    private const int RowAlign = 16;
    private const int MaxLanes = 16;
    private const int DotPathMaddubs256 = 4;

    public static void Multiply(PackedInt8DotMatrix packed, ReadOnlySpan<float> x, Span<float> y) =>
        RunDot(packed.Weights, packed.RowScales, x, y, VectorWidth.V512, accumulate: false);

    public static void MultiplyBatch(PackedInt8DotMatrix packed, ReadOnlySpan<float> xs, Span<float> ys, int count) =>
        DotBatch(packed, xs, ys, count, VectorWidth.V512, accumulate: false);

    private static class Int8DotPacking
    {
        public const int MaxCols = 131_072;

        public static float Scale(float maxAbs) => maxAbs / 127f;

        public static float Inverse(float maxAbs) => 127f / maxAbs;

        public static sbyte Quantize(float x, float inverse)
        {
            float t = MathF.Round(x * inverse);
            return t >= 127f ? (sbyte)127 : t <= -127f ? (sbyte)(-127) : float.IsNaN(t) ? (sbyte)0 : (sbyte)t;
        }
    }

    private interface ILaneCount
    {
        static abstract int Value { get; }
    }

    private struct Lanes1 : ILaneCount { public static int Value => 1; }

    private struct Lanes2 : ILaneCount { public static int Value => 2; }

    private struct Lanes3 : ILaneCount { public static int Value => 3; }

    private struct Lanes4 : ILaneCount { public static int Value => 4; }

    private struct Lanes5 : ILaneCount { public static int Value => 5; }

    private struct Lanes6 : ILaneCount { public static int Value => 6; }

    private static void DotPanelFallback(int path, ref sbyte w, nuint panelWidth, ref sbyte xq, nuint groups, float sx, ref float s, ref float y, bool accumulate) =>
        throw new PlatformNotSupportedException();

    private const int DotStackLimit = 4096;
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunDot(ReadOnlySpan<sbyte> packed, ReadOnlySpan<float> scales, ReadOnlySpan<float> x, Span<float> y, VectorWidth width, bool accumulate, int forcedPath = -1)
    {
        if ((y.Length & (RowAlign - 1)) != 0)
        {
            BeforeThrow.Argument(nameof(y), $"length {y.Length} must be the padded row count, a multiple of {RowAlign}.");
        }

        if (x.Length > Int8DotPacking.MaxCols)
        {
            BeforeThrow.Argument(nameof(x), $"length {x.Length} exceeds {Int8DotPacking.MaxCols} (int8-dynamic sums stay exact in int32).");
        }

        int paddedCols = (x.Length + 3) & ~3;
        if ((long)y.Length * paddedCols != packed.Length)
        {
            BeforeThrow.Argument(nameof(packed), $"length {packed.Length} must equal y.Length {y.Length} (padded rows) × {paddedCols} (x.Length {x.Length} rounded up to a multiple of 4).");
        }

        if (scales.Length != y.Length)
        {
            BeforeThrow.Argument(nameof(packed), $"has {scales.Length} row scales; it needs one per padded row, y.Length {y.Length}.");
        }

        if (x.Overlaps(y))
        {
            BeforeThrow.Argument("y", "overlaps x");
        }

        // Without a dot-product instruction, the fallbacks of PackedGemv.Int8DotFallback.cs (same bits).
        int path = forcedPath >= 0 ? forcedPath : 3;
        float maxAbs = MaxAbs(x);
        if (!(maxAbs > 0f))
        {
            // x = 0 (or empty): every product is 0.
            if (!accumulate)
            {
                y.Clear();
            }

            return;
        }

        sbyte[]? rented = null;
        Span<sbyte> xq = paddedCols <= DotStackLimit
            ? stackalloc sbyte[paddedCols]
            : (rented = ArrayPool<sbyte>.Shared.Rent(paddedCols)).AsSpan(0, paddedCols);
        int sumX = QuantizeInput(x, xq, Int8DotPacking.Inverse(maxAbs));
        float sx = Int8DotPacking.Scale(maxAbs);

        nuint rows = (nuint)y.Length;
        nuint groups = (nuint)(paddedCols >> 2);
        ref sbyte w = ref MemoryMarshal.GetReference(packed);
        ref sbyte xr = ref MemoryMarshal.GetReference(xq);
        ref float s = ref MemoryMarshal.GetReference(scales);
        ref float yr = ref MemoryMarshal.GetReference(y);
        for (nuint p = 0; p < rows; p += PanelRows)
        {
            nuint panelWidth = Math.Min(PanelRows, rows - p);
            ref sbyte panel = ref Unsafe.Add(ref w, p * (nuint)paddedCols);
            ref float sp = ref Unsafe.Add(ref s, p);
            ref float yp = ref Unsafe.Add(ref yr, p);
            if (path == 3 && panelWidth == PanelRows)
            {
                DotPanelVnni256(ref panel, ref xr, groups, sumX, sx, ref sp, ref yp, accumulate);
                continue;
            }

            if (path >= DotPathMaddubs256)
            {
                DotPanelFallback(path, ref panel, panelWidth, ref xr, groups, sx, ref sp, ref yp, accumulate);
                continue;
            }

            if (path == 0)
            {
                DotPanelScalar(ref panel, panelWidth, ref xr, groups, sx, ref sp, ref yp, accumulate);
                continue;
            }

            // 16 rows at a time (panel widths are multiples of 16): their 4-column groups lie 4·panelWidth bytes apart.
            for (nuint k = 0; k < panelWidth; k += RowAlign)
            {
                ref sbyte strip = ref Unsafe.Add(ref panel, k * 4);
                ref float sk = ref Unsafe.Add(ref sp, k);
                ref float yk = ref Unsafe.Add(ref yp, k);
                if (path == 3)
                {
                    DotStripVnni256(ref strip, panelWidth * 4, ref xr, groups, sumX, sx, ref sk, ref yk, accumulate);
                }
                else if (path == 2)
                {
                    DotStripVnni128(ref strip, panelWidth * 4, ref xr, groups, sumX, sx, ref sk, ref yk, accumulate);
                }
                else
                {
                    DotStripSdot(ref strip, panelWidth * 4, ref xr, groups, sx, ref sk, ref yk, accumulate);
                }
            }
        }

        if (rented is not null)
        {
            ArrayPool<sbyte>.Shared.Return(rented);
        }
    }

    /// <summary>max_j |x[j]| (exact: a maximum does not round). NaN inputs give unspecified results.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxAbs(ReadOnlySpan<float> x)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        nuint n = (nuint)x.Length;
        nuint j = 0;
        float max = 0f;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> m0 = Vector256<float>.Zero, m1 = m0;
            for (; j + 16 <= n; j += 16)
            {
                m0 = Vector256.Max(m0, Vector256.Abs(Vector256.LoadUnsafe(ref xr, j)));
                m1 = Vector256.Max(m1, Vector256.Abs(Vector256.LoadUnsafe(ref xr, j + 8)));
            }

            m0 = Vector256.Max(m0, m1);
            if (j + 8 <= n)
            {
                m0 = Vector256.Max(m0, Vector256.Abs(Vector256.LoadUnsafe(ref xr, j)));
                j += 8;
            }

            Vector128<float> h = Vector128.Max(m0.GetLower(), m0.GetUpper());
            max = MathF.Max(MathF.Max(h.GetElement(0), h.GetElement(1)), MathF.Max(h.GetElement(2), h.GetElement(3)));
        }

        for (; j < n; j++)
        {
            float a = MathF.Abs(Unsafe.Add(ref xr, j));
            if (a > max)
            {
                max = a;
            }
        }

        return max;
    }

    /// <summary>
    /// xq[j] = <see cref="Int8DotPacking.Quantize"/>(x[j], inverse), the padding columns 0; returns Σ xq. The AVX path
    /// computes the same single multiply, round-to-nearest-even (vroundps) and clamp as the scalar definition.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int QuantizeInput(ReadOnlySpan<float> x, Span<sbyte> xq, float inverse)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref sbyte qr = ref MemoryMarshal.GetReference(xq);
        nuint n = (nuint)x.Length;
        nuint j = 0;
        int sum = 0;
        if (Avx2.IsSupported && n >= 16)
        {
            Vector256<float> inv = Vector256.Create(inverse);
            Vector256<float> hi = Vector256.Create(127f);
            Vector256<float> lo = Vector256.Create(-127f);
            Vector256<int> acc = Vector256<int>.Zero;
            for (; j + 16 <= n; j += 16)
            {
                Vector256<float> t0 = Avx.RoundToNearestInteger(Vector256.LoadUnsafe(ref xr, j) * inv);
                Vector256<float> t1 = Avx.RoundToNearestInteger(Vector256.LoadUnsafe(ref xr, j + 8) * inv);
                Vector256<int> q0 = Avx.ConvertToVector256Int32WithTruncation(Avx.Min(Avx.Max(t0, lo), hi));
                Vector256<int> q1 = Avx.ConvertToVector256Int32WithTruncation(Avx.Min(Avx.Max(t1, lo), hi));
                acc += q0 + q1;

                // int32 → int16 → int8 with saturation (exact: |q| ≤ 127); packs work per 128-bit lane, so restore the order.
                Vector256<short> words = Avx2.PackSignedSaturate(q0, q1);                   // q0[0..3] q1[0..3] q0[4..7] q1[4..7]
                words = Avx2.Permute4x64(words.AsInt64(), 0b11_01_10_00).AsInt16();       // q0[0..7] q1[0..7]
                Vector128<sbyte> bytes = Sse2.PackSignedSaturate(words.GetLower(), words.GetUpper());
                bytes.StoreUnsafe(ref qr, j);
            }

            Vector128<int> s4 = acc.GetLower() + acc.GetUpper();
            sum = s4.GetElement(0) + s4.GetElement(1) + s4.GetElement(2) + s4.GetElement(3);
        }

        for (; j < n; j++)
        {
            sbyte q = Int8DotPacking.Quantize(Unsafe.Add(ref xr, j), inverse);
            Unsafe.Add(ref qr, j) = q;
            sum += q;
        }

        for (; j < (nuint)xq.Length; j++)
        {
            Unsafe.Add(ref qr, j) = 0;
        }

        return sum;
    }

    // ---- finishing: y (+)= (float)sum · (s_w · s_x), the same float32 operations as the scalar path.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DotFinish256(Vector256<int> sum, float sx, ref float s, ref float y, nuint k, bool accumulate)
    {
        Vector256<float> v = Vector256.ConvertToSingle(sum) * (Vector256.LoadUnsafe(ref s, k) * Vector256.Create(sx));
        if (accumulate)
        {
            v = Vector256.LoadUnsafe(ref y, k) + v;
        }

        v.StoreUnsafe(ref y, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DotFinish128(Vector128<int> sum, float sx, ref float s, ref float y, nuint k, bool accumulate)
    {
        Vector128<float> v = Vector128.ConvertToSingle(sum) * (Vector128.LoadUnsafe(ref s, k) * Vector128.Create(sx));
        if (accumulate)
        {
            v = Vector128.LoadUnsafe(ref y, k) + v;
        }

        v.StoreUnsafe(ref y, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> LoadOffset256(ref sbyte w, nuint offset) =>
        Vector256.LoadUnsafe(ref Unsafe.As<sbyte, byte>(ref w), offset) ^ Vector256.Create((byte)0x80);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> LoadOffset128(ref sbyte w, nuint offset) =>
        Vector128.LoadUnsafe(ref Unsafe.As<sbyte, byte>(ref w), offset) ^ Vector128.Create((byte)0x80);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Group(ref sbyte xq, nuint g) => Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref xq, g * 4)));

    // ---- AVX-VNNI, 256 bits: a full panel's group is 256 bytes = 8 vectors of 8 rows × 4 columns, 8 chains. vpdpbusd
    // multiplies u8 by s8, so the weights are offset to q + 128 (XOR 0x80) and 128·Σ q_x is taken off every sum.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotPanelVnni256(ref sbyte w, ref sbyte xq, nuint groups, int sumX, float sx, ref float s, ref float y, bool accumulate)
    {
        Vector256<int> a0 = Vector256<int>.Zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (nuint g = 0; g < groups; g++)
        {
            ref sbyte c = ref Unsafe.Add(ref w, g * 256);
            Vector256<sbyte> xg = Vector256.Create(Group(ref xq, g)).AsSByte();
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, LoadOffset256(ref c, 0), xg);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, LoadOffset256(ref c, 32), xg);
            a2 = AvxVnni.MultiplyWideningAndAdd(a2, LoadOffset256(ref c, 64), xg);
            a3 = AvxVnni.MultiplyWideningAndAdd(a3, LoadOffset256(ref c, 96), xg);
            a4 = AvxVnni.MultiplyWideningAndAdd(a4, LoadOffset256(ref c, 128), xg);
            a5 = AvxVnni.MultiplyWideningAndAdd(a5, LoadOffset256(ref c, 160), xg);
            a6 = AvxVnni.MultiplyWideningAndAdd(a6, LoadOffset256(ref c, 192), xg);
            a7 = AvxVnni.MultiplyWideningAndAdd(a7, LoadOffset256(ref c, 224), xg);
        }

        Vector256<int> offset = Vector256.Create(128 * sumX);
        DotFinish256(a0 - offset, sx, ref s, ref y, 0, accumulate);
        DotFinish256(a1 - offset, sx, ref s, ref y, 8, accumulate);
        DotFinish256(a2 - offset, sx, ref s, ref y, 16, accumulate);
        DotFinish256(a3 - offset, sx, ref s, ref y, 24, accumulate);
        DotFinish256(a4 - offset, sx, ref s, ref y, 32, accumulate);
        DotFinish256(a5 - offset, sx, ref s, ref y, 40, accumulate);
        DotFinish256(a6 - offset, sx, ref s, ref y, 48, accumulate);
        DotFinish256(a7 - offset, sx, ref s, ref y, 56, accumulate);
    }

    // 16 rows of a narrower last panel: 2 vectors per group, 2 groups per iteration (4 chains).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotStripVnni256(ref sbyte w, nuint stride, ref sbyte xq, nuint groups, int sumX, float sx, ref float s, ref float y, bool accumulate)
    {
        Vector256<int> a0 = Vector256<int>.Zero, a1 = a0, b0 = a0, b1 = a0;
        nuint g = 0;
        for (; g + 2 <= groups; g += 2)
        {
            ref sbyte c = ref Unsafe.Add(ref w, g * stride);
            ref sbyte d = ref Unsafe.Add(ref c, stride);
            Vector256<sbyte> x0 = Vector256.Create(Group(ref xq, g)).AsSByte();
            Vector256<sbyte> x1 = Vector256.Create(Group(ref xq, g + 1)).AsSByte();
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, LoadOffset256(ref c, 0), x0);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, LoadOffset256(ref c, 32), x0);
            b0 = AvxVnni.MultiplyWideningAndAdd(b0, LoadOffset256(ref d, 0), x1);
            b1 = AvxVnni.MultiplyWideningAndAdd(b1, LoadOffset256(ref d, 32), x1);
        }

        if (g < groups)
        {
            ref sbyte c = ref Unsafe.Add(ref w, g * stride);
            Vector256<sbyte> x0 = Vector256.Create(Group(ref xq, g)).AsSByte();
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, LoadOffset256(ref c, 0), x0);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, LoadOffset256(ref c, 32), x0);
        }

        Vector256<int> offset = Vector256.Create(128 * sumX);
        DotFinish256(a0 + b0 - offset, sx, ref s, ref y, 0, accumulate);
        DotFinish256(a1 + b1 - offset, sx, ref s, ref y, 8, accumulate);
    }

    // ---- AVX-VNNI, 128 bits: 16 rows are 4 vectors of 4 rows × 4 columns.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotStripVnni128(ref sbyte w, nuint stride, ref sbyte xq, nuint groups, int sumX, float sx, ref float s, ref float y, bool accumulate)
    {
        Vector128<int> a0 = Vector128<int>.Zero, a1 = a0, a2 = a0, a3 = a0;
        for (nuint g = 0; g < groups; g++)
        {
            ref sbyte c = ref Unsafe.Add(ref w, g * stride);
            Vector128<sbyte> xg = Vector128.Create(Group(ref xq, g)).AsSByte();
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, LoadOffset128(ref c, 0), xg);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, LoadOffset128(ref c, 16), xg);
            a2 = AvxVnni.MultiplyWideningAndAdd(a2, LoadOffset128(ref c, 32), xg);
            a3 = AvxVnni.MultiplyWideningAndAdd(a3, LoadOffset128(ref c, 48), xg);
        }

        Vector128<int> offset = Vector128.Create(128 * sumX);
        DotFinish128(a0 - offset, sx, ref s, ref y, 0, accumulate);
        DotFinish128(a1 - offset, sx, ref s, ref y, 4, accumulate);
        DotFinish128(a2 - offset, sx, ref s, ref y, 8, accumulate);
        DotFinish128(a3 - offset, sx, ref s, ref y, 12, accumulate);
    }

    // ---- ARM sdot (signed × signed, no offset): 16 rows are 4 vectors of 4 rows × 4 columns.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotStripSdot(ref sbyte w, nuint stride, ref sbyte xq, nuint groups, float sx, ref float s, ref float y, bool accumulate)
    {
        Vector128<int> a0 = Vector128<int>.Zero, a1 = a0, a2 = a0, a3 = a0;
        for (nuint g = 0; g < groups; g++)
        {
            ref sbyte c = ref Unsafe.Add(ref w, g * stride);
            Vector128<sbyte> xg = Vector128.Create(Group(ref xq, g)).AsSByte();
            a0 = Dp.DotProduct(a0, Vector128.LoadUnsafe(ref c, 0), xg);
            a1 = Dp.DotProduct(a1, Vector128.LoadUnsafe(ref c, 16), xg);
            a2 = Dp.DotProduct(a2, Vector128.LoadUnsafe(ref c, 32), xg);
            a3 = Dp.DotProduct(a3, Vector128.LoadUnsafe(ref c, 48), xg);
        }

        DotFinish128(a0, sx, ref s, ref y, 0, accumulate);
        DotFinish128(a1, sx, ref s, ref y, 4, accumulate);
        DotFinish128(a2, sx, ref s, ref y, 8, accumulate);
        DotFinish128(a3, sx, ref s, ref y, 12, accumulate);
    }

    // ---- scalar: the definition the others compute (a panel into 64 int32 sums, then the same float32 finish).

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotPanelScalar(ref sbyte w, nuint panelWidth, ref sbyte xq, nuint groups, float sx, ref float s, ref float y, bool accumulate)
    {
        Span<int> acc = stackalloc int[PanelRows];
        acc.Clear();
        ref int a = ref MemoryMarshal.GetReference(acc);
        for (nuint g = 0; g < groups; g++)
        {
            ref sbyte xg = ref Unsafe.Add(ref xq, g * 4);
            int x0 = xg, x1 = Unsafe.Add(ref xg, 1), x2 = Unsafe.Add(ref xg, 2), x3 = Unsafe.Add(ref xg, 3);
            ref sbyte c = ref Unsafe.Add(ref w, g * 4 * panelWidth);
            for (nuint r = 0; r < panelWidth; r++)
            {
                ref sbyte q = ref Unsafe.Add(ref c, r * 4);
                Unsafe.Add(ref a, r) += (q * x0) + (Unsafe.Add(ref q, 1) * x1) + (Unsafe.Add(ref q, 2) * x2) + (Unsafe.Add(ref q, 3) * x3);
            }
        }

        for (nuint r = 0; r < panelWidth; r++)
        {
            float v = Unsafe.Add(ref a, r) * (Unsafe.Add(ref s, r) * sx);
            ref float yr = ref Unsafe.Add(ref y, r);
            yr = accumulate ? yr + v : v;
        }
    }


    // Inputs per register tile: 2 row vectors × 6 inputs = 12 accumulators, + 2 weight vectors, the broadcast x and
    // the 0x80 constant = the 16 vector registers of AVX2.
    private const int DotTileLanes = 6;

    // Quantized inputs of a chunk up to this many bytes live on the stack; larger ones in a pooled array.
    private const int DotBatchStackBytes = 16 * 1024;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotBatch(PackedInt8DotMatrix packed, ReadOnlySpan<float> xs, Span<float> ys, int count, VectorWidth width, bool accumulate)
    {
        int rows = ys.Length / count;
        int cols = xs.Length / count;
        ReadOnlySpan<sbyte> weights = packed.Weights;
        ReadOnlySpan<float> scales = packed.RowScales;
        if ((rows & (RowAlign - 1)) != 0)
        {
            BeforeThrow.Argument(nameof(ys), $"holds {count} outputs of {rows} floats; {rows} must be the padded row count, a multiple of {RowAlign}.");
        }

        if (cols > Int8DotPacking.MaxCols)
        {
            BeforeThrow.Argument(nameof(xs), $"holds {count} inputs of {cols} floats; {cols} exceeds {Int8DotPacking.MaxCols} (int8-dynamic sums stay exact in int32).");
        }

        int paddedCols = (cols + 3) & ~3;
        if ((long)rows * paddedCols != weights.Length)
        {
            BeforeThrow.Argument(nameof(packed), $"length {weights.Length} must equal {rows} (padded rows) × {paddedCols} ({cols} input columns rounded up to a multiple of 4).");
        }

        if (scales.Length != rows)
        {
            BeforeThrow.Argument(nameof(packed), $"has {scales.Length} row scales; it needs one per padded row, {rows}.");
        }

        if (count == 1)
        {
            // One input: the single product's panel kernels (8 chains over a whole 64-row panel) beat a 16-row tile.
            RunDot(weights, scales, xs, ys, width, accumulate);
            return;
        }

        int path = 3;
        if (false)
        {
            // No dot-product instruction but a vector fallback (PackedGemv.Int8DotFallback.cs): one single product per
            // input beats the scalar batch below. Same bits either way.
            for (int b = 0; b < count; b++)
            {
                RunDot(weights, scales, xs.Slice(b * cols, cols), ys.Slice(b * rows, rows), width, accumulate);
            }

            return;
        }

        int groups = paddedCols >> 2;
        int chunk = Math.Min(MaxLanes, count);
        int bufferInts = chunk * groups;
        int[]? rentedInts = null;
        Span<int> xi = bufferInts <= DotBatchStackBytes / 4
            ? stackalloc int[bufferInts]
            : (rentedInts = ArrayPool<int>.Shared.Rent(bufferInts)).AsSpan(0, bufferInts);
        sbyte[]? rentedRow = null;
        Span<sbyte> row = paddedCols <= DotStackLimit
            ? stackalloc sbyte[paddedCols]
            : (rentedRow = ArrayPool<sbyte>.Shared.Rent(paddedCols)).AsSpan(0, paddedCols);
        Span<int> sums = stackalloc int[MaxLanes];    // Σ q_x per quantized input (the VNNI offset)
        Span<float> sxs = stackalloc float[MaxLanes]; // s_x per quantized input
        Span<int> outs = stackalloc int[MaxLanes];    // where its output starts in ys

        for (int b0 = 0; b0 < count; b0 += MaxLanes)
        {
            int lanes = Math.Min(MaxLanes, count - b0);
            int n = 0; // inputs quantized (x ≠ 0)
            for (int l = 0; l < lanes; l++)
            {
                int b = b0 + l;
                ReadOnlySpan<float> x = xs.Slice(b * cols, cols);
                float maxAbs = MaxAbs(x);
                if (!(maxAbs > 0f))
                {
                    // x = 0: every product is 0, as in the single product.
                    if (!accumulate)
                    {
                        ys.Slice(b * rows, rows).Clear();
                    }

                    continue;
                }

                sums[n] = QuantizeInput(x, row, Int8DotPacking.Inverse(maxAbs));
                sxs[n] = Int8DotPacking.Scale(maxAbs);
                outs[n] = b * rows;
                ref int source = ref Unsafe.As<sbyte, int>(ref MemoryMarshal.GetReference(row));
                ref int destination = ref Unsafe.Add(ref MemoryMarshal.GetReference(xi), n);
                for (nuint g = 0; g < (nuint)groups; g++)
                {
                    Unsafe.Add(ref destination, g * (nuint)lanes) = Unsafe.ReadUnaligned<int>(ref Unsafe.As<int, byte>(ref Unsafe.Add(ref source, g)));
                }

                n++;
            }

            if (n > 0)
            {
                DotBatchPanels(weights, scales, xi, (nuint)lanes, n, sums, sxs, outs, ys, (nuint)rows, (nuint)paddedCols, path, accumulate);
            }
        }

        if (rentedInts is not null)
        {
            ArrayPool<int>.Shared.Return(rentedInts);
        }

        if (rentedRow is not null)
        {
            ArrayPool<sbyte>.Shared.Return(rentedRow);
        }
    }

    // Every 16-row strip of every panel against the n quantized inputs (xi: group g of input l at g·stride + l).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotBatchPanels(
        ReadOnlySpan<sbyte> weights, ReadOnlySpan<float> scales, ReadOnlySpan<int> xi, nuint stride, int n,
        ReadOnlySpan<int> sums, ReadOnlySpan<float> sxs, ReadOnlySpan<int> outs, Span<float> ys, nuint rows, nuint paddedCols, int path, bool accumulate)
    {
        nuint groups = paddedCols >> 2;
        ref sbyte w = ref MemoryMarshal.GetReference(weights);
        ref float s = ref MemoryMarshal.GetReference(scales);
        ref float y = ref MemoryMarshal.GetReference(ys);
        ref int x = ref MemoryMarshal.GetReference(xi);
        ref int sum = ref MemoryMarshal.GetReference(sums);
        ref float sx = ref MemoryMarshal.GetReference(sxs);
        ref int o = ref MemoryMarshal.GetReference(outs);

        // Input groups of at most DotTileLanes, as even as possible (7 → 4 + 3, 16 → 6 + 5 + 5).
        int tiles = (n + DotTileLanes - 1) / DotTileLanes;
        for (nuint p = 0; p < rows; p += PanelRows)
        {
            nuint panelWidth = Math.Min(PanelRows, rows - p);
            ref sbyte panel = ref Unsafe.Add(ref w, p * paddedCols);
            if (path >= 3 && panelWidth == PanelRows && Avx512F.VL.IsSupported)
            {
                // 32 vector registers: 32-row tiles (DotTileWide).
                for (nuint k = 0; k < PanelRows; k += 32)
                {
                    ref sbyte half = ref Unsafe.Add(ref panel, k * 4);
                    ref float sk = ref Unsafe.Add(ref s, p + k);
                    ref float yk = ref Unsafe.Add(ref y, p + k);
                    int l0 = 0;
                    for (int t = 0; t < tiles; t++)
                    {
                        int tl = (n - l0) / (tiles - t);
                        DotTileWide(tl, ref half, ref Unsafe.Add(ref x, l0), stride, groups, ref Unsafe.Add(ref sum, l0), ref Unsafe.Add(ref sx, l0),
                            ref Unsafe.Add(ref o, l0), ref sk, ref yk, accumulate);
                        l0 += tl;
                    }
                }

                continue;
            }

            for (nuint k = 0; k < panelWidth; k += RowAlign)
            {
                ref sbyte strip = ref Unsafe.Add(ref panel, k * 4);
                nuint r = p + k;
                ref float sk = ref Unsafe.Add(ref s, r);
                ref float yk = ref Unsafe.Add(ref y, r);
                if (path == 0)
                {
                    DotBatchStripScalar(ref strip, panelWidth * 4, ref x, stride, groups, n, ref sx, ref o, ref sk, ref yk, accumulate);
                    continue;
                }

                int l0 = 0;
                for (int t = 0; t < tiles; t++)
                {
                    int tl = (n - l0) / (tiles - t);
                    ref int xl = ref Unsafe.Add(ref x, l0);
                    ref int suml = ref Unsafe.Add(ref sum, l0);
                    ref float sxl = ref Unsafe.Add(ref sx, l0);
                    ref int ol = ref Unsafe.Add(ref o, l0);
                    if (path >= 3)
                    {
                        DotTile<Vector256<int>, DotOpsVnni256>(tl, ref strip, panelWidth * 4, ref xl, stride, groups, ref suml, ref sxl, ref ol, ref sk, ref yk, accumulate);
                    }
                    else if (path == 2)
                    {
                        // 8 rows (2 vectors of 4) per tile: the strip's rows 0–7 are its first 32 bytes of a group.
                        DotTile<Vector128<int>, DotOpsVnni128>(tl, ref strip, panelWidth * 4, ref xl, stride, groups, ref suml, ref sxl, ref ol, ref sk, ref yk, accumulate);
                        DotTile<Vector128<int>, DotOpsVnni128>(tl, ref Unsafe.Add(ref strip, 32), panelWidth * 4, ref xl, stride, groups, ref suml, ref sxl, ref ol,
                            ref Unsafe.Add(ref sk, 8), ref Unsafe.Add(ref yk, 8), accumulate);
                    }
                    else
                    {
                        DotTile<Vector128<int>, DotOpsSdot>(tl, ref strip, panelWidth * 4, ref xl, stride, groups, ref suml, ref sxl, ref ol, ref sk, ref yk, accumulate);
                        DotTile<Vector128<int>, DotOpsSdot>(tl, ref Unsafe.Add(ref strip, 32), panelWidth * 4, ref xl, stride, groups, ref suml, ref sxl, ref ol,
                            ref Unsafe.Add(ref sk, 8), ref Unsafe.Add(ref yk, 8), accumulate);
                    }

                    l0 += tl;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DotTile<TV, TOps>(
        int lanes, ref sbyte w, nuint wStride, ref int x, nuint xStride, nuint groups, ref int sum, ref float sx, ref int o, ref float s, ref float y, bool accumulate)
        where TV : struct
        where TOps : struct, IDotOps<TV>
    {
        switch (lanes)
        {
            case 1:
                DotTile<TV, TOps, Lanes1>(ref w, wStride, ref x, xStride, groups, ref sum, ref sx, ref o, ref s, ref y, accumulate);
                break;
            case 2:
                DotTile<TV, TOps, Lanes2>(ref w, wStride, ref x, xStride, groups, ref sum, ref sx, ref o, ref s, ref y, accumulate);
                break;
            case 3:
                DotTile<TV, TOps, Lanes3>(ref w, wStride, ref x, xStride, groups, ref sum, ref sx, ref o, ref s, ref y, accumulate);
                break;
            case 4:
                DotTile<TV, TOps, Lanes4>(ref w, wStride, ref x, xStride, groups, ref sum, ref sx, ref o, ref s, ref y, accumulate);
                break;
            case 5:
                DotTile<TV, TOps, Lanes5>(ref w, wStride, ref x, xStride, groups, ref sum, ref sx, ref o, ref s, ref y, accumulate);
                break;
            default:
                DotTile<TV, TOps, Lanes6>(ref w, wStride, ref x, xStride, groups, ref sum, ref sx, ref o, ref s, ref y, accumulate);
                break;
        }
    }

    // 2 row vectors (2 · TOps.Rows rows, columns wStride bytes apart per group) × TL inputs: each weight vector loaded
    // once per group and multiplied into TL chains; input l's rows finished into y + o[l] with its Σ q_x and s_x.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotTile<TV, TOps, TL>(
        ref sbyte w, nuint wStride, ref int x, nuint xStride, nuint groups, ref int sum, ref float sx, ref int o, ref float s, ref float y, bool accumulate)
        where TV : struct
        where TOps : struct, IDotOps<TV>
        where TL : struct, ILaneCount
    {
        TV z = default;
        TV a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z;
        TV b0 = z, b1 = z, b2 = z, b3 = z, b4 = z, b5 = z;
        TV flip = TOps.Flip; // kept in a register: one XOR per weight vector, shared by the TL inputs
        nuint second = (nuint)TOps.Rows * 4; // bytes of the first row vector
        ref sbyte c = ref w;
        ref int xg = ref x;
        nuint g = 0;
        if (TL.Value <= 3)
        {
            // Up to 3 inputs: 2·TL chains are too few to hide vpdpbusd's latency, so odd groups go into the unused
            // accumulators a3..a5 / b3..b5 (integer sums: any order gives the same sum), added in before the finish.
            for (; g + 2 <= groups; g += 2, c = ref Unsafe.Add(ref c, 2 * wStride), xg = ref Unsafe.Add(ref xg, 2 * xStride))
            {
                ref sbyte d = ref Unsafe.Add(ref c, wStride);
                ref int xh = ref Unsafe.Add(ref xg, xStride);
                TV w0 = TOps.Load(ref c, 0, flip);
                TV w1 = TOps.Load(ref c, second, flip);
                TV w2 = TOps.Load(ref d, 0, flip);
                TV w3 = TOps.Load(ref d, second, flip);
                TV v = TOps.Broadcast(xg);
                a0 = TOps.Dot(a0, w0, v);
                b0 = TOps.Dot(b0, w1, v);
                v = TOps.Broadcast(xh);
                a3 = TOps.Dot(a3, w2, v);
                b3 = TOps.Dot(b3, w3, v);
                if (TL.Value > 1)
                {
                    v = TOps.Broadcast(Unsafe.Add(ref xg, 1));
                    a1 = TOps.Dot(a1, w0, v);
                    b1 = TOps.Dot(b1, w1, v);
                    v = TOps.Broadcast(Unsafe.Add(ref xh, 1));
                    a4 = TOps.Dot(a4, w2, v);
                    b4 = TOps.Dot(b4, w3, v);
                }

                if (TL.Value > 2)
                {
                    v = TOps.Broadcast(Unsafe.Add(ref xg, 2));
                    a2 = TOps.Dot(a2, w0, v);
                    b2 = TOps.Dot(b2, w1, v);
                    v = TOps.Broadcast(Unsafe.Add(ref xh, 2));
                    a5 = TOps.Dot(a5, w2, v);
                    b5 = TOps.Dot(b5, w3, v);
                }
            }
        }

        for (; g < groups; g++, c = ref Unsafe.Add(ref c, wStride), xg = ref Unsafe.Add(ref xg, xStride))
        {
            TV w0 = TOps.Load(ref c, 0, flip);
            TV w1 = TOps.Load(ref c, second, flip);
            TV v = TOps.Broadcast(xg);
            a0 = TOps.Dot(a0, w0, v);
            b0 = TOps.Dot(b0, w1, v);
            if (TL.Value > 1)
            {
                v = TOps.Broadcast(Unsafe.Add(ref xg, 1));
                a1 = TOps.Dot(a1, w0, v);
                b1 = TOps.Dot(b1, w1, v);
            }

            if (TL.Value > 2)
            {
                v = TOps.Broadcast(Unsafe.Add(ref xg, 2));
                a2 = TOps.Dot(a2, w0, v);
                b2 = TOps.Dot(b2, w1, v);
            }

            if (TL.Value > 3)
            {
                v = TOps.Broadcast(Unsafe.Add(ref xg, 3));
                a3 = TOps.Dot(a3, w0, v);
                b3 = TOps.Dot(b3, w1, v);
            }

            if (TL.Value > 4)
            {
                v = TOps.Broadcast(Unsafe.Add(ref xg, 4));
                a4 = TOps.Dot(a4, w0, v);
                b4 = TOps.Dot(b4, w1, v);
            }

            if (TL.Value > 5)
            {
                v = TOps.Broadcast(Unsafe.Add(ref xg, 5));
                a5 = TOps.Dot(a5, w0, v);
                b5 = TOps.Dot(b5, w1, v);
            }
        }

        if (TL.Value <= 3)
        {
            a0 = TOps.Add(a0, a3);
            b0 = TOps.Add(b0, b3);
            a1 = TOps.Add(a1, a4);
            b1 = TOps.Add(b1, b4);
            a2 = TOps.Add(a2, a5);
            b2 = TOps.Add(b2, b5);
        }

        nuint rows = (nuint)TOps.Rows;
        TOps.Finish(a0, b0, sum, sx, ref s, ref Unsafe.Add(ref y, o), rows, accumulate);
        if (TL.Value > 1)
        {
            TOps.Finish(a1, b1, Unsafe.Add(ref sum, 1), Unsafe.Add(ref sx, 1), ref s, ref Unsafe.Add(ref y, Unsafe.Add(ref o, 1)), rows, accumulate);
        }

        if (TL.Value > 2)
        {
            TOps.Finish(a2, b2, Unsafe.Add(ref sum, 2), Unsafe.Add(ref sx, 2), ref s, ref Unsafe.Add(ref y, Unsafe.Add(ref o, 2)), rows, accumulate);
        }

        if (TL.Value > 3)
        {
            TOps.Finish(a3, b3, Unsafe.Add(ref sum, 3), Unsafe.Add(ref sx, 3), ref s, ref Unsafe.Add(ref y, Unsafe.Add(ref o, 3)), rows, accumulate);
        }

        if (TL.Value > 4)
        {
            TOps.Finish(a4, b4, Unsafe.Add(ref sum, 4), Unsafe.Add(ref sx, 4), ref s, ref Unsafe.Add(ref y, Unsafe.Add(ref o, 4)), rows, accumulate);
        }

        if (TL.Value > 5)
        {
            TOps.Finish(a5, b5, Unsafe.Add(ref sum, 5), Unsafe.Add(ref sx, 5), ref s, ref Unsafe.Add(ref y, Unsafe.Add(ref o, 5)), rows, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DotTileWide(int lanes, ref sbyte w, ref int x, nuint xStride, nuint groups, ref int sum, ref float sx, ref int o, ref float s, ref float y, bool accumulate)
    {
        switch (lanes)
        {
            case 1:
                DotTileWide<Lanes1>(ref w, ref x, xStride, groups, ref sum, ref sx, ref o, ref s, ref y, accumulate);
                break;
            case 2:
                DotTileWide<Lanes2>(ref w, ref x, xStride, groups, ref sum, ref sx, ref o, ref s, ref y, accumulate);
                break;
            case 3:
                DotTileWide<Lanes3>(ref w, ref x, xStride, groups, ref sum, ref sx, ref o, ref s, ref y, accumulate);
                break;
            case 4:
                DotTileWide<Lanes4>(ref w, ref x, xStride, groups, ref sum, ref sx, ref o, ref s, ref y, accumulate);
                break;
            case 5:
                DotTileWide<Lanes5>(ref w, ref x, xStride, groups, ref sum, ref sx, ref o, ref s, ref y, accumulate);
                break;
            default:
                DotTileWide<Lanes6>(ref w, ref x, xStride, groups, ref sum, ref sx, ref o, ref s, ref y, accumulate);
                break;
        }
    }

    // AVX-512 machines (32 vector registers): 4 row vectors (32 rows of a full panel, whose groups are 256 bytes apart)
    // × TL inputs = up to 24 chains + 4 weight vectors + the broadcast x + the 0x80 constant, halving the loads and the
    // per-tile overhead per vpdpbusd of the 2-vector tile. Same exact sums, same finish.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotTileWide<TL>(ref sbyte w, ref int x, nuint xStride, nuint groups, ref int sum, ref float sx, ref int o, ref float s, ref float y, bool accumulate)
        where TL : struct, ILaneCount
    {
        Vector256<int> z = Vector256<int>.Zero;
        Vector256<int> a0_0 = z, a0_1 = z, a0_2 = z, a0_3 = z, a0_4 = z, a0_5 = z;
        Vector256<int> a1_0 = z, a1_1 = z, a1_2 = z, a1_3 = z, a1_4 = z, a1_5 = z;
        Vector256<int> a2_0 = z, a2_1 = z, a2_2 = z, a2_3 = z, a2_4 = z, a2_5 = z;
        Vector256<int> a3_0 = z, a3_1 = z, a3_2 = z, a3_3 = z, a3_4 = z, a3_5 = z;
        Vector256<int> flip = DotOpsVnni256.Flip;
        ref sbyte c = ref w;
        ref int xg = ref x;
        for (nuint g = 0; g < groups; g++, c = ref Unsafe.Add(ref c, PanelRows * 4), xg = ref Unsafe.Add(ref xg, xStride))
        {
            Vector256<int> w0 = DotOpsVnni256.Load(ref c, 0, flip);
            Vector256<int> w1 = DotOpsVnni256.Load(ref c, 32, flip);
            Vector256<int> w2 = DotOpsVnni256.Load(ref c, 64, flip);
            Vector256<int> w3 = DotOpsVnni256.Load(ref c, 96, flip);
            Vector256<int> v;
            v = Vector256.Create(xg);
            a0_0 = AvxVnni.MultiplyWideningAndAdd(a0_0, w0.AsByte(), v.AsSByte());
            a1_0 = AvxVnni.MultiplyWideningAndAdd(a1_0, w1.AsByte(), v.AsSByte());
            a2_0 = AvxVnni.MultiplyWideningAndAdd(a2_0, w2.AsByte(), v.AsSByte());
            a3_0 = AvxVnni.MultiplyWideningAndAdd(a3_0, w3.AsByte(), v.AsSByte());

            if (TL.Value > 1)
            {
                v = Vector256.Create(Unsafe.Add(ref xg, 1));
                a0_1 = AvxVnni.MultiplyWideningAndAdd(a0_1, w0.AsByte(), v.AsSByte());
                a1_1 = AvxVnni.MultiplyWideningAndAdd(a1_1, w1.AsByte(), v.AsSByte());
                a2_1 = AvxVnni.MultiplyWideningAndAdd(a2_1, w2.AsByte(), v.AsSByte());
                a3_1 = AvxVnni.MultiplyWideningAndAdd(a3_1, w3.AsByte(), v.AsSByte());
            }

            if (TL.Value > 2)
            {
                v = Vector256.Create(Unsafe.Add(ref xg, 2));
                a0_2 = AvxVnni.MultiplyWideningAndAdd(a0_2, w0.AsByte(), v.AsSByte());
                a1_2 = AvxVnni.MultiplyWideningAndAdd(a1_2, w1.AsByte(), v.AsSByte());
                a2_2 = AvxVnni.MultiplyWideningAndAdd(a2_2, w2.AsByte(), v.AsSByte());
                a3_2 = AvxVnni.MultiplyWideningAndAdd(a3_2, w3.AsByte(), v.AsSByte());
            }

            if (TL.Value > 3)
            {
                v = Vector256.Create(Unsafe.Add(ref xg, 3));
                a0_3 = AvxVnni.MultiplyWideningAndAdd(a0_3, w0.AsByte(), v.AsSByte());
                a1_3 = AvxVnni.MultiplyWideningAndAdd(a1_3, w1.AsByte(), v.AsSByte());
                a2_3 = AvxVnni.MultiplyWideningAndAdd(a2_3, w2.AsByte(), v.AsSByte());
                a3_3 = AvxVnni.MultiplyWideningAndAdd(a3_3, w3.AsByte(), v.AsSByte());
            }

            if (TL.Value > 4)
            {
                v = Vector256.Create(Unsafe.Add(ref xg, 4));
                a0_4 = AvxVnni.MultiplyWideningAndAdd(a0_4, w0.AsByte(), v.AsSByte());
                a1_4 = AvxVnni.MultiplyWideningAndAdd(a1_4, w1.AsByte(), v.AsSByte());
                a2_4 = AvxVnni.MultiplyWideningAndAdd(a2_4, w2.AsByte(), v.AsSByte());
                a3_4 = AvxVnni.MultiplyWideningAndAdd(a3_4, w3.AsByte(), v.AsSByte());
            }

            if (TL.Value > 5)
            {
                v = Vector256.Create(Unsafe.Add(ref xg, 5));
                a0_5 = AvxVnni.MultiplyWideningAndAdd(a0_5, w0.AsByte(), v.AsSByte());
                a1_5 = AvxVnni.MultiplyWideningAndAdd(a1_5, w1.AsByte(), v.AsSByte());
                a2_5 = AvxVnni.MultiplyWideningAndAdd(a2_5, w2.AsByte(), v.AsSByte());
                a3_5 = AvxVnni.MultiplyWideningAndAdd(a3_5, w3.AsByte(), v.AsSByte());
            }
        }

        FinishWide(a0_0, a1_0, a2_0, a3_0, Unsafe.Add(ref sum, 0), Unsafe.Add(ref sx, 0), ref s, ref Unsafe.Add(ref y, Unsafe.Add(ref o, 0)), accumulate);

        if (TL.Value > 1)
        {
            FinishWide(a0_1, a1_1, a2_1, a3_1, Unsafe.Add(ref sum, 1), Unsafe.Add(ref sx, 1), ref s, ref Unsafe.Add(ref y, Unsafe.Add(ref o, 1)), accumulate);
        }

        if (TL.Value > 2)
        {
            FinishWide(a0_2, a1_2, a2_2, a3_2, Unsafe.Add(ref sum, 2), Unsafe.Add(ref sx, 2), ref s, ref Unsafe.Add(ref y, Unsafe.Add(ref o, 2)), accumulate);
        }

        if (TL.Value > 3)
        {
            FinishWide(a0_3, a1_3, a2_3, a3_3, Unsafe.Add(ref sum, 3), Unsafe.Add(ref sx, 3), ref s, ref Unsafe.Add(ref y, Unsafe.Add(ref o, 3)), accumulate);
        }

        if (TL.Value > 4)
        {
            FinishWide(a0_4, a1_4, a2_4, a3_4, Unsafe.Add(ref sum, 4), Unsafe.Add(ref sx, 4), ref s, ref Unsafe.Add(ref y, Unsafe.Add(ref o, 4)), accumulate);
        }

        if (TL.Value > 5)
        {
            FinishWide(a0_5, a1_5, a2_5, a3_5, Unsafe.Add(ref sum, 5), Unsafe.Add(ref sx, 5), ref s, ref Unsafe.Add(ref y, Unsafe.Add(ref o, 5)), accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FinishWide(Vector256<int> a0, Vector256<int> a1, Vector256<int> a2, Vector256<int> a3, int sumX, float sx, ref float s, ref float y, bool accumulate)
    {
        Vector256<int> offset = Vector256.Create(128 * sumX);
        DotFinish256(a0 - offset, sx, ref s, ref y, 0, accumulate);
        DotFinish256(a1 - offset, sx, ref s, ref y, 8, accumulate);
        DotFinish256(a2 - offset, sx, ref s, ref y, 16, accumulate);
        DotFinish256(a3 - offset, sx, ref s, ref y, 24, accumulate);
    }

    // One integer dot-product instruction set over vectors TV of int32 sums (TOps.Rows rows each).
    private interface IDotOps<TV>
        where TV : struct
    {
        static abstract int Rows { get; }

        // What Load XORs the weights with: 0x80 in every byte for vpdpbusd (u8 operand), 0 for sdot.
        static abstract TV Flip { get; }

        // One row vector's 4-column group, as the instruction wants it (u8 for vpdpbusd: XOR 0x80).
        static abstract TV Load(ref sbyte w, nuint offset, TV flip);

        static abstract TV Broadcast(int xGroup);

        static abstract TV Dot(TV acc, TV w, TV x);

        static abstract TV Add(TV a, TV b);

        // y[0..Rows) and y[Rows..2·Rows) (+)= (float)(sum − offset) · (s · sx), the single product's finish.
        static abstract void Finish(TV first, TV second, int sumX, float sx, ref float s, ref float y, nuint rows, bool accumulate);
    }

    private struct DotOpsVnni256 : IDotOps<Vector256<int>>
    {
        public static int Rows => 8;

        public static Vector256<int> Flip => Vector256.Create((byte)0x80).AsInt32();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Load(ref sbyte w, nuint offset, Vector256<int> flip) =>
            Vector256.LoadUnsafe(ref Unsafe.As<sbyte, int>(ref Unsafe.Add(ref w, offset))) ^ flip;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Broadcast(int xGroup) => Vector256.Create(xGroup);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<int> acc, Vector256<int> w, Vector256<int> x) =>
            AvxVnni.MultiplyWideningAndAdd(acc, w.AsByte(), x.AsSByte());

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Add(Vector256<int> a, Vector256<int> b) => a + b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Finish(Vector256<int> first, Vector256<int> second, int sumX, float sx, ref float s, ref float y, nuint rows, bool accumulate)
        {
            Vector256<int> offset = Vector256.Create(128 * sumX);
            DotFinish256(first - offset, sx, ref s, ref y, 0, accumulate);
            DotFinish256(second - offset, sx, ref s, ref y, rows, accumulate);
        }
    }

    private struct DotOpsVnni128 : IDotOps<Vector128<int>>
    {
        public static int Rows => 4;

        public static Vector128<int> Flip => Vector128.Create((byte)0x80).AsInt32();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<int> Load(ref sbyte w, nuint offset, Vector128<int> flip) =>
            Vector128.LoadUnsafe(ref Unsafe.As<sbyte, int>(ref Unsafe.Add(ref w, offset))) ^ flip;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<int> Broadcast(int xGroup) => Vector128.Create(xGroup);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<int> Dot(Vector128<int> acc, Vector128<int> w, Vector128<int> x) =>
            AvxVnni.MultiplyWideningAndAdd(acc, w.AsByte(), x.AsSByte());

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<int> Add(Vector128<int> a, Vector128<int> b) => a + b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Finish(Vector128<int> first, Vector128<int> second, int sumX, float sx, ref float s, ref float y, nuint rows, bool accumulate)
        {
            Vector128<int> offset = Vector128.Create(128 * sumX);
            DotFinish128(first - offset, sx, ref s, ref y, 0, accumulate);
            DotFinish128(second - offset, sx, ref s, ref y, rows, accumulate);
        }
    }

    private struct DotOpsSdot : IDotOps<Vector128<int>>
    {
        public static int Rows => 4;

        public static Vector128<int> Flip => Vector128<int>.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<int> Load(ref sbyte w, nuint offset, Vector128<int> flip) => Vector128.LoadUnsafe(ref w, offset).AsInt32();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<int> Broadcast(int xGroup) => Vector128.Create(xGroup);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<int> Dot(Vector128<int> acc, Vector128<int> w, Vector128<int> x) =>
            Dp.DotProduct(acc, w.AsSByte(), x.AsSByte());

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<int> Add(Vector128<int> a, Vector128<int> b) => a + b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Finish(Vector128<int> first, Vector128<int> second, int sumX, float sx, ref float s, ref float y, nuint rows, bool accumulate)
        {
            // sdot multiplies signed by signed: no offset to take off (sumX is not needed).
            _ = sumX;
            DotFinish128(first, sx, ref s, ref y, 0, accumulate);
            DotFinish128(second, sx, ref s, ref y, rows, accumulate);
        }
    }

    // ---- scalar: 16 rows × n inputs of exact int32 sums, then the single product's float32 finish.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotBatchStripScalar(
        ref sbyte w, nuint wStride, ref int x, nuint xStride, nuint groups, int n, ref float sx, ref int o, ref float s, ref float y, bool accumulate)
    {
        Span<int> acc = stackalloc int[RowAlign * MaxLanes];
        acc.Clear();
        ref int a = ref MemoryMarshal.GetReference(acc);
        nuint lanes = (nuint)n;
        for (nuint g = 0; g < groups; g++)
        {
            ref sbyte c = ref Unsafe.Add(ref w, g * wStride);
            ref sbyte xg = ref Unsafe.As<int, sbyte>(ref Unsafe.Add(ref x, g * xStride));
            for (nuint l = 0; l < lanes; l++)
            {
                ref sbyte xl = ref Unsafe.Add(ref xg, l * 4);
                int x0 = xl, x1 = Unsafe.Add(ref xl, 1), x2 = Unsafe.Add(ref xl, 2), x3 = Unsafe.Add(ref xl, 3);
                ref int al = ref Unsafe.Add(ref a, l * RowAlign);
                for (nuint r = 0; r < RowAlign; r++)
                {
                    ref sbyte q = ref Unsafe.Add(ref c, r * 4);
                    Unsafe.Add(ref al, r) += (q * x0) + (Unsafe.Add(ref q, 1) * x1) + (Unsafe.Add(ref q, 2) * x2) + (Unsafe.Add(ref q, 3) * x3);
                }
            }
        }

        for (nuint l = 0; l < lanes; l++)
        {
            float sxl = Unsafe.Add(ref sx, l);
            ref float yl = ref Unsafe.Add(ref y, Unsafe.Add(ref o, l));
            ref int al = ref Unsafe.Add(ref a, l * RowAlign);
            for (nuint r = 0; r < RowAlign; r++)
            {
                float v = Unsafe.Add(ref al, r) * (Unsafe.Add(ref s, r) * sxl);
                ref float yr = ref Unsafe.Add(ref yl, r);
                yr = accumulate ? yr + v : v;
            }
        }
    }
}
