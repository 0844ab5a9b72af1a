using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

// AvxVnni is marked [RequiresPreviewFeatures] in the net8.0 reference this library compiles against (stable from .NET 9);
// the JIT has implemented it since .NET 6, and the call sites are guarded by AvxVnni.IsSupported.
#pragma warning disable CA2252

namespace RnnEmbedded.Runtime.CompilerServices;

// int8-dynamic products (docs/kernels.md, "Dynamic int8: int8 dot products"): x is quantized per call to int8 with one
// scale (Int8DotPacking.Quantize: s_x = max|x| / 127, q = round-to-even(x · 127 / max|x|)), the row sums Σ_j q_w·q_x are
// computed exactly in int32 — AVX-VNNI vpdpbusd (x86: weights offset to u8 by XOR 0x80, 128·Σ q_x subtracted), ARM sdot,
// or scalar — and y[r] (+)= (float)sum · (s_w[r] · s_x) with the same float32 operations at every width, so every width
// gives the same bits.
public static partial class PackedGemv
{
    // Inputs up to this many (padded) columns are quantized into a stack buffer; wider ones into a pooled array.
    private const int DotStackLimit = 4096;

    /// <summary>y (PaddedRows,) += W @ x (cols,), W int8-dynamic: x is quantized to int8 per call and multiplied in integers.</summary>
    /// <param name="packed">W: <c>y.Length · PaddedCols(x.Length)</c> int8 values in the dot layout and <c>y.Length</c> row scales.</param>
    /// <param name="x">The input vector (cols,), at most 131,072 values; must not overlap <paramref name="y"/>.</param>
    /// <param name="y">The output (PaddedRows,), accumulated into; its length must be a multiple of 16.</param>
    /// <param name="width">The widest vector width to use (see <see cref="Simd.Resolve"/>); every width gives the same bits.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd(PackedInt8DotMatrix packed, ReadOnlySpan<float> x, Span<float> y, VectorWidth width) =>
        RunDot(packed.Weights, packed.RowScales, x, y, width, accumulate: true);

    /// <summary>y (PaddedRows,) = W @ x (cols,), W int8-dynamic; see the MultiplyAdd overload.</summary>
    /// <param name="packed">W: int8 values in the dot layout and row scales.</param>
    /// <param name="x">The input vector (cols,); must not overlap <paramref name="y"/>.</param>
    /// <param name="y">The output (PaddedRows,), overwritten; its length must be a multiple of 16.</param>
    /// <param name="width">The widest vector width to use.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(PackedInt8DotMatrix packed, ReadOnlySpan<float> x, Span<float> y, VectorWidth width) =>
        RunDot(packed.Weights, packed.RowScales, x, y, width, accumulate: false);

    /// <summary>ys (count, PaddedRows) += W @ xs (count, cols), W int8-dynamic: each input quantized alone, each weight read once per <see cref="MaxLanes"/> inputs; each result equals its single product bit for bit.</summary>
    /// <param name="packed">W: int8 values in the dot layout and row scales.</param>
    /// <param name="xs">count inputs of cols floats; must not overlap <paramref name="ys"/>.</param>
    /// <param name="ys">count outputs of PaddedRows floats; accumulated into.</param>
    /// <param name="count">The number of inputs.</param>
    /// <param name="width">The widest vector width to use.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAddBatch(PackedInt8DotMatrix packed, ReadOnlySpan<float> xs, Span<float> ys, int count, VectorWidth width) =>
        RunDotBatch(packed, xs, ys, count, width, accumulate: true);

    /// <summary>ys (count, PaddedRows) = W @ xs (count, cols), W int8-dynamic; see the MultiplyAddBatch overload.</summary>
    /// <param name="packed">W: int8 values in the dot layout and row scales.</param>
    /// <param name="xs">count inputs of cols floats; must not overlap <paramref name="ys"/>.</param>
    /// <param name="ys">count outputs of PaddedRows floats; overwritten.</param>
    /// <param name="count">The number of inputs.</param>
    /// <param name="width">The widest vector width to use.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyBatch(PackedInt8DotMatrix packed, ReadOnlySpan<float> xs, Span<float> ys, int count, VectorWidth width) =>
        RunDotBatch(packed, xs, ys, count, width, accumulate: false);

    private static void RunDotBatch(PackedInt8DotMatrix packed, ReadOnlySpan<float> xs, Span<float> ys, int count, VectorWidth width, bool accumulate)
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

        if (xs.Overlaps(ys))
        {
            ThrowHelper.Overlap(nameof(ys), nameof(xs));
        }

        DotBatch(packed, xs, ys, count, width, accumulate); // PackedGemv.Int8DotBatch.cs
    }

    /// <summary>Which integer dot product runs at <paramref name="width"/> here (docs/kernels.md): 3 AVX-VNNI 256, 2 AVX-VNNI 128, 1 sdot, 0 scalar.</summary>
    internal static int DotPath(VectorWidth width)
    {
        width = Simd.Resolve(width);
        if (width >= VectorWidth.V256 && AvxVnni.IsSupported)
        {
            return 3;
        }

        if (width >= VectorWidth.V128 && AvxVnni.IsSupported)
        {
            return 2;
        }

        return width >= VectorWidth.V128 && Dp.IsSupported ? 1 : 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunDot(ReadOnlySpan<sbyte> packed, ReadOnlySpan<float> scales, ReadOnlySpan<float> x, Span<float> y, VectorWidth width, bool accumulate, int forcedPath = -1)
    {
        if ((y.Length & (RowAlign - 1)) != 0)
        {
            ThrowHelper.Length(nameof(y), $"length {y.Length} must be the padded row count, a multiple of {RowAlign}.");
        }

        if (x.Length > Int8DotPacking.MaxCols)
        {
            ThrowHelper.Length(nameof(x), $"length {x.Length} exceeds {Int8DotPacking.MaxCols} (int8-dynamic sums stay exact in int32).");
        }

        int paddedCols = (x.Length + 3) & ~3;
        if ((long)y.Length * paddedCols != packed.Length)
        {
            ThrowHelper.Length(nameof(packed), $"length {packed.Length} must equal y.Length {y.Length} (padded rows) × {paddedCols} (x.Length {x.Length} rounded up to a multiple of 4).");
        }

        if (scales.Length != y.Length)
        {
            ThrowHelper.Length(nameof(packed), $"has {scales.Length} row scales; it needs one per padded row, y.Length {y.Length}.");
        }

        if (x.Overlaps(y))
        {
            ThrowHelper.Overlap(nameof(y), nameof(x));
        }

        // Without a dot-product instruction, the fallbacks of PackedGemv.Int8DotFallback.cs (same bits).
        int path = forcedPath >= 0 ? forcedPath : SingleDotPath(width);
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
    /// <remarks>
    /// x86 uses vmaxps (<c>Avx.Max</c>), not <c>Vector256.Max</c>: since .NET 9 the latter follows IEEE maximumNumber
    /// (NaN and ±0 rules) and compiles to vrangeps + 2 vfixupimmps per vector on AVX-512, a 12-cycle chain that made
    /// this loop about as slow as quantizing (docs/benchmarks.md, "int8-dynamic small batches at the VNNI bound"). On
    /// |x| ≥ 0 without NaN both give the same value, as does the scalar tail.
    /// </remarks>
    /// Without AVX (ARM64's NEON) the Vector128 loop of <see cref="MaxAbs128"/>; <paramref name="force128"/> takes it on
    /// x86 too, for tests.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float MaxAbs(ReadOnlySpan<float> x, bool force128 = false)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        nuint n = (nuint)x.Length;
        nuint j = 0;
        float max = 0f;
        if (force128 || (!Avx.IsSupported && !Vector256.IsHardwareAccelerated))
        {
            if (Vector128.IsHardwareAccelerated && n >= 4)
            {
                max = MaxAbs128(ref xr, n, ref j);
            }
        }
        else if (Avx.IsSupported && n >= 8)
        {
            Vector256<float> m0 = Vector256<float>.Zero, m1 = m0, m2 = m0, m3 = m0;
            for (; j + 32 <= n; j += 32)
            {
                m0 = Avx.Max(m0, Vector256.Abs(Vector256.LoadUnsafe(ref xr, j)));
                m1 = Avx.Max(m1, Vector256.Abs(Vector256.LoadUnsafe(ref xr, j + 8)));
                m2 = Avx.Max(m2, Vector256.Abs(Vector256.LoadUnsafe(ref xr, j + 16)));
                m3 = Avx.Max(m3, Vector256.Abs(Vector256.LoadUnsafe(ref xr, j + 24)));
            }

            for (; j + 8 <= n; j += 8)
            {
                m0 = Avx.Max(m0, Vector256.Abs(Vector256.LoadUnsafe(ref xr, j)));
            }

            m0 = Avx.Max(Avx.Max(m0, m1), Avx.Max(m2, m3));
            Vector128<float> h = Sse.Max(m0.GetLower(), m0.GetUpper());
            h = Sse.Max(h, Sse.MoveHighToLow(h, h));
            h = Sse.MaxScalar(h, Sse.Shuffle(h, h, 0b01));
            max = h.ToScalar();
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
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
    /// computes the same single multiply and round-to-nearest-even as the scalar definition (<see cref="Quantize16"/>).
    /// </summary>
    /// Without AVX2 (ARM64's NEON) <see cref="Quantize4"/> in Vector128s; <paramref name="force128"/> takes it on x86 too,
    /// for tests.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int QuantizeInput(ReadOnlySpan<float> x, Span<sbyte> xq, float inverse, bool force128 = false)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref sbyte qr = ref MemoryMarshal.GetReference(xq);
        nuint n = (nuint)x.Length;
        nuint j = 0;
        int sum = 0;
        if (force128 || !Avx2.IsSupported)
        {
            if (Vector128.IsHardwareAccelerated && n >= 4)
            {
                sum = QuantizeInput128(ref xr, ref qr, n, inverse, ref j);
            }
        }
        else if (n >= 16)
        {
            Vector256<float> inv = Vector256.Create(inverse);
            Vector256<int> acc = Vector256<int>.Zero;
            for (; j + 16 <= n; j += 16)
            {
                Quantize16(ref Unsafe.Add(ref xr, j), inv, ref acc).StoreUnsafe(ref qr, j);
            }

            sum = SumInt32(acc);
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

    /// <summary>
    /// As <see cref="QuantizeInput"/>, but group g (4 columns, one int) goes to <c>xi[g · stride]</c>: the batch's
    /// interleaved layout, written without a row buffer. <paramref name="groups"/> = PaddedCols / 4.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int QuantizeInterleaved(ReadOnlySpan<float> x, ref int xi, nuint stride, nuint groups, float inverse, bool force128 = false)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        nuint n = (nuint)x.Length;
        nuint j = 0;
        int sum = 0;
        if (force128 || !Avx2.IsSupported)
        {
            if (Vector128.IsHardwareAccelerated && n >= 4)
            {
                sum = QuantizeInterleaved128(ref xr, ref xi, n, stride, inverse, ref j);
            }
        }
        else if (n >= 16)
        {
            Vector256<float> inv = Vector256.Create(inverse);
            Vector256<int> acc = Vector256<int>.Zero;
            for (; j + 16 <= n; j += 16)
            {
                Vector128<int> q = Quantize16(ref Unsafe.Add(ref xr, j), inv, ref acc).AsInt32();
                ref int d = ref Unsafe.Add(ref xi, (j >> 2) * stride);
                d = q.ToScalar();
                Unsafe.Add(ref d, stride) = q.GetElement(1);
                Unsafe.Add(ref d, 2 * stride) = q.GetElement(2);
                Unsafe.Add(ref d, 3 * stride) = q.GetElement(3);
            }

            sum = SumInt32(acc);
        }

        // The rest, 4 columns (one group) at a time; columns past x are 0.
        for (nuint g = j >> 2; g < groups; g++)
        {
            int group = 0;
            for (nuint k = 0; k < 4; k++)
            {
                nuint c = (g * 4) + k;
                if (c < n)
                {
                    sbyte q = Int8DotPacking.Quantize(Unsafe.Add(ref xr, c), inverse);
                    sum += q;
                    group |= (byte)q << (int)(8 * k);
                }
            }

            Unsafe.Add(ref xi, g * stride) = group;
        }

        return sum;
    }

    /// <summary>
    /// 16 values of x quantized to int8 (acc += them as int32): t = x · inverse (one float32 multiply), clamped to
    /// ±127, then converted with vcvtps2dq, which rounds to nearest even (the MXCSR default, which .NET never
    /// changes) — the scalar definition's round-then-clamp, since ±127 are integers and rounding is monotonic (one
    /// rounding instruction fewer than vroundps + vcvttps2dq). NaN becomes −127 here (vmaxps returns its second
    /// operand), as before; NaN inputs are unspecified (<see cref="MaxAbs"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<sbyte> Quantize16(ref float x, Vector256<float> inverse, ref Vector256<int> acc)
    {
        Vector256<float> hi = Vector256.Create(127f);
        Vector256<float> lo = Vector256.Create(-127f);
        Vector256<float> t0 = Avx.Min(Avx.Max(Vector256.LoadUnsafe(ref x) * inverse, lo), hi);
        Vector256<float> t1 = Avx.Min(Avx.Max(Vector256.LoadUnsafe(ref x, 8) * inverse, lo), hi);
        Vector256<int> q0 = Avx.ConvertToVector256Int32(t0);
        Vector256<int> q1 = Avx.ConvertToVector256Int32(t1);
        acc += q0 + q1;

        // int32 → int16 → int8 with saturation (exact: |q| ≤ 127); packs work per 128-bit lane, so restore the order.
        Vector256<short> words = Avx2.PackSignedSaturate(q0, q1);             // q0[0..3] q1[0..3] q0[4..7] q1[4..7]
        words = Avx2.Permute4x64(words.AsInt64(), 0b11_01_10_00).AsInt16(); // q0[0..7] q1[0..7]
        return Sse2.PackSignedSaturate(words.GetLower(), words.GetUpper());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SumInt32(Vector256<int> acc)
    {
        Vector128<int> s4 = acc.GetLower() + acc.GetUpper();
        return s4.GetElement(0) + s4.GetElement(1) + s4.GetElement(2) + s4.GetElement(3);
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
}
