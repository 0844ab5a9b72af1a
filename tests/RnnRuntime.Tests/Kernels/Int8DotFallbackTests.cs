using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;
using static RnnEmbedded.Tests.Kernels.KernelTestSupport;
using Panels = RnnEmbedded.Runtime.CompilerServices.PanelPacking;

namespace RnnEmbedded.Tests.Kernels;

/// <summary>
/// The int8-dynamic products for machines without an integer dot-product instruction (docs/kernels.md, "Dynamic int8:
/// without VNNI or dotprod"): AVX-512BW/AVX2/SSSE3 vpmaddubsw on x86 without AVX-VNNI, AdvSimd widening multiplies on ARM
/// without dotprod. This machine may have VNNI/sdot, so the tests run each fallback this CPU can execute directly
/// (<see cref="PackedGemv.MultiplyOnDotPath"/>) and require the bits of the scalar path and of the definition in
/// <see cref="Int8DotGemvTests"/>. Whether the dispatch picks them is checked by running this class with the ISA
/// hidden (<c>DOTNET_EnableAVXVNNI=0</c>, .ci/run) and on ARM under qemu's cortex-a72 (eng/arm64.sh).
/// </summary>
public sealed class Int8DotFallbackTests
{
    private static readonly int[] s_fallbackPaths = [
        PackedGemv.DotPathMaddubs512, PackedGemv.DotPathMaddubs256, PackedGemv.DotPathMaddubs128, PackedGemv.DotPathWidening,
    ];
    private static readonly int[] s_rows = [1, 15, 16, 17, 31, 48, 63, 64, 65, 100, 128, 148, 200, 260];
    private static readonly int[] s_cols = [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 64, 127, 257];

    /// <summary>Each fallback this CPU runs, and the scalar path 0 (checked against the definition only; -128 weights and extremes are new here).</summary>
    public static TheoryData<int, bool> Cases()
    {
        var data = new TheoryData<int, bool>();
        foreach (int path in s_fallbackPaths.Where(PackedGemv.IsDotPathSupported).Prepend(0))
        {
            data.Add(path, true);
            data.Add(path, false);
        }

        return data;
    }

    [Fact]
    public void TheDispatchPicksAFallback_WithoutADotProductInstruction()
    {
        string paths = string.Join(", ", SupportedWidths().Select(w => $"{w}: {PackedGemv.SingleDotPath(w)}"));
        Console.WriteLine($"int8-dynamic single-product paths: {paths} (AvxVnni {AvxVnni.IsSupported}, Dp {Dp.IsSupported})");
        Assert.Equal(0, PackedGemv.SingleDotPath(VectorWidth.Scalar));

        // No width that has 256-bit vectors (x86: AVX2), SSSE3 or AdvSimd runs the scalar integer loop any more.
        if (Simd.IsSupported(VectorWidth.V256))
        {
            Assert.NotEqual(0, PackedGemv.SingleDotPath(VectorWidth.V256));
        }

        if (Ssse3.IsSupported || AdvSimd.Arm64.IsSupported)
        {
            Assert.NotEqual(0, PackedGemv.SingleDotPath(VectorWidth.V128));
        }

        if (!AvxVnni.IsSupported && Avx512BW.IsSupported && Simd.IsSupported(VectorWidth.V512))
        {
            Assert.Equal(PackedGemv.DotPathMaddubs512, PackedGemv.SingleDotPath(VectorWidth.V512));
        }

        if (!AvxVnni.IsSupported && Avx2.IsSupported)
        {
            Assert.Equal(PackedGemv.DotPathMaddubs256, PackedGemv.SingleDotPath(VectorWidth.V256));
        }

        if (!AvxVnni.IsSupported && Ssse3.IsSupported)
        {
            Assert.Equal(PackedGemv.DotPathMaddubs128, PackedGemv.SingleDotPath(VectorWidth.V128));
        }

        if (!Dp.IsSupported && AdvSimd.Arm64.IsSupported)
        {
            Assert.Equal(PackedGemv.DotPathWidening, PackedGemv.SingleDotPath(VectorWidth.V128));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RandomProducts_EqualTheScalarPath_BitForBit(int path, bool accumulate)
    {
        var random = new Random(1000 + path);
        int checkedProducts = 0;
        foreach (int rows in s_rows)
        {
            foreach (int cols in s_cols)
            {
                for (int draw = 0; draw < 3; draw++)
                {
                    sbyte[] q = RandomQ(random, rows * cols);
                    float[] scales = RandomScales(random, rows);
                    float[] x = RandomX(random, cols, draw);
                    CheckAgainstScalar(path, q, scales, rows, cols, x, random, accumulate, $"{rows}x{cols} draw {draw}");
                    checkedProducts++;
                }
            }
        }

        Assert.Equal(s_rows.Length * s_cols.Length * 3, checkedProducts);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ExtremeValues_NeverSaturate(int path, bool accumulate)
    {
        // Every product ±128·127 or ±127·127 with one sign per row: vpmaddubsw's int16 pair sums reach ±32,512 and
        // smlal's int16 sums the same, the int32 sums up to 16,256·cols. Odd column counts leave padded groups.
        var random = new Random(7);
        foreach (int cols in new[] { 3, 64, 257, 4099 })
        {
            const int rows = 80;
            float[] x = new float[cols];
            for (int j = 0; j < cols; j++)
            {
                x[j] = j % 3 == 0 ? -1f : 1f; // q_x = ±127
            }

            var q = new sbyte[rows * cols];
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < cols; j++)
                {
                    // rows agree with x's sign (largest positive sum), oppose it, or use −128 / 127 / −127 patterns
                    int sign = x[j] < 0 ? -1 : 1;
                    q[(r * cols) + j] = (r % 4) switch
                    {
                        0 => (sbyte)(sign < 0 ? -128 : 127),
                        1 => (sbyte)(sign < 0 ? 127 : -128),
                        2 => (sbyte)-128,
                        _ => (sbyte)(sign * -127),
                    };
                }
            }

            CheckAgainstScalar(path, q, RandomScales(random, rows), rows, cols, x, random, accumulate, $"extremes {rows}x{cols}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void WidestInput_SumsStayExact(int path, bool accumulate)
    {
        // Int8DotPacking.MaxCols columns of −128 × −127: each row sums 16,256 · 131,072 = 2,130,706,432 < 2^31.
        const int rows = 16, cols = Int8DotPacking.MaxCols;
        var q = new sbyte[rows * cols];
        Array.Fill(q, (sbyte)-128);
        q[cols] = 5; // row 1 differs from row 0
        float[] x = new float[cols];
        Array.Fill(x, -3f);
        var random = new Random(8);
        float[] y = CheckAgainstScalar(path, q, RandomScales(random, rows), rows, cols, x, random, accumulate, "widest");
        Assert.True(y[0] != y[1]);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ZeroInput_ContributesNothing(int path, bool accumulate)
    {
        var random = new Random(9);
        const int rows = 70, cols = 21;
        var matrix = new PackedInt8DotMatrix(Int8DotGemvTests.Pack(RandomQ(random, rows * cols), rows, cols), RandomScales(random, rows));
        float[] y = Uniform(random, Panels.PaddedRows(rows), -1f, 1f);
        float[] before = (float[])y.Clone();
        PackedGemv.MultiplyOnDotPath(matrix, new float[cols], y, path, accumulate);
        Assert.Equal(accumulate ? before : new float[y.Length], y);
    }

    [Fact]
    public void UnsupportedPath_IsRefusedClearly()
    {
        int missing = s_fallbackPaths.Append(99).First(p => !PackedGemv.IsDotPathSupported(p)); // x64 lacks the ARM path, arm64 the x86 ones
        PlatformNotSupportedException e = Assert.Throws<PlatformNotSupportedException>(() => PackedGemv.MultiplyOnDotPath(
            new PackedInt8DotMatrix(new sbyte[16 * 4], new float[16]), new float[4], new float[16], missing, accumulate: false));
        Assert.Contains($"path {missing}", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Runs <paramref name="path"/> and path 0 (scalar) on the same data; both must equal the definition bit for bit.</summary>
    private static float[] CheckAgainstScalar(int path, sbyte[] q, float[] scales, int rows, int cols, float[] x, Random random, bool accumulate, string name)
    {
        var matrix = new PackedInt8DotMatrix(Int8DotGemvTests.Pack(q, rows, cols), scales);
        float[] y0 = Uniform(random, Panels.PaddedRows(rows), -3f, 3f);
        var fast = new Guarded(y0);
        float[] scalar = (float[])y0.Clone();
        PackedGemv.MultiplyOnDotPath(matrix, x, fast.Span, path, accumulate);
        PackedGemv.MultiplyOnDotPath(matrix, x, scalar, 0, accumulate);
        fast.AssertGuardsIntact(name);
        float[] expected = Int8DotGemvTests.Expected(q, scales, rows, cols, x, y0, accumulate);
        Assert.True(expected.AsSpan().SequenceEqual(scalar), $"{name}: the scalar path differs from the definition");
        float[] got = fast.ToArray();
        for (int r = 0; r < got.Length; r++)
        {
            Assert.True(
                BitConverter.SingleToInt32Bits(got[r]) == BitConverter.SingleToInt32Bits(scalar[r]),
                $"{name} on path {path}, row {r}: {got[r]:R} but the scalar path gives {scalar[r]:R}");
        }

        return got;
    }

    /// <summary>int8 weights over the whole range, −128 included, a fifth of them at an extreme.</summary>
    private static sbyte[] RandomQ(Random random, int length)
    {
        var q = new sbyte[length];
        for (int k = 0; k < q.Length; k++)
        {
            int pick = random.Next(10);
            q[k] = pick switch
            {
                0 => (sbyte)-128,
                1 => (sbyte)127,
                2 => (sbyte)0,
                _ => (sbyte)random.Next(-128, 128),
            };
        }

        return q;
    }

    private static float[] RandomScales(Random random, int rows)
    {
        var scales = new float[Panels.PaddedRows(rows)];
        for (int r = 0; r < rows; r++)
        {
            scales[r] = (0.001f + (float)random.NextDouble()) / 127f;
        }

        return scales;
    }

    /// <summary>draw 0: uniform; 1: one large value, the rest small (many q_x of 0 and ±1); 2: ±max with zeros (q_x ±127, 0).</summary>
    private static float[] RandomX(Random random, int cols, int draw)
    {
        float[] x = Uniform(random, cols, -2f, 2f);
        if (draw == 1)
        {
            for (int j = 0; j < cols; j++)
            {
                x[j] *= 0.01f;
            }

            x[random.Next(cols)] = -50f;
        }
        else if (draw == 2)
        {
            for (int j = 0; j < cols; j++)
            {
                x[j] = random.Next(3) switch { 0 => 0f, 1 => 4f, _ => -4f };
            }

            x[0] = 4f; // never all zero
        }

        return x;
    }
}
