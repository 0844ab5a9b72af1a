using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;
using static RnnEmbedded.Tests.Kernels.KernelTestSupport;
using DotPacking = RnnEmbedded.Runtime.CompilerServices.Int8DotPacking;
using Panels = RnnEmbedded.Runtime.CompilerServices.PanelPacking;

namespace RnnEmbedded.Tests.Kernels;

/// <summary>
/// The int8-dynamic products (docs/kernels.md, "Dynamic int8: int8 dot products"): at every width, bit for bit the
/// result of the definition written out here independently — x quantized with s_x = max|x| / 127 and
/// q = round-to-even(x · (127 / max|x|)), exact integer sums, y (+)= (float)Σ · (s_w · s_x).
/// </summary>
public sealed class Int8DotGemvTests
{
    private static readonly int[] s_rows = [1, 15, 16, 17, 37, 64, 65, 148, 260];
    private static readonly int[] s_cols = [1, 3, 4, 5, 13, 16, 17, 64, 257];

    public static TheoryData<VectorWidth, bool> Cases()
    {
        var data = new TheoryData<VectorWidth, bool>();
        foreach (VectorWidth w in SupportedWidths())
        {
            data.Add(w, true);
            data.Add(w, false);
        }

        return data;
    }

    [Fact]
    public void DotPaths_ArePrinted()
    {
        // Which integer product each width runs here (3 AVX-VNNI 256, 2 AVX-VNNI 128, 1 sdot, 0 scalar); on this
        // project's x64 CI machines (Zen 4) V128 and wider must reach the VNNI paths, or the SIMD code is untested.
        string paths = string.Join(", ", SupportedWidths().Select(w => $"{w}: {PackedGemv.DotPath(w)}"));
        Console.WriteLine("int8-dynamic dot paths: " + paths);
        Assert.Equal(0, PackedGemv.DotPath(VectorWidth.Scalar));
        if (System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
        {
#pragma warning disable CA2252 // preview in the net8.0 reference; guarded
            Assert.Equal(2, PackedGemv.DotPath(VectorWidth.V128));
            Assert.Equal(3, PackedGemv.DotPath(VectorWidth.V256));
#pragma warning restore CA2252
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Product_EqualsTheIntegerDefinition_BitForBit(VectorWidth width, bool accumulate)
    {
        var random = new Random(21);
        foreach (int rows in s_rows)
        {
            foreach (int cols in s_cols)
            {
                (sbyte[] q, float[] scales) = RandomWeights(random, rows, cols);
                float[] x = Uniform(random, cols, -2f, 2f);
                int padded = Panels.PaddedRows(rows);
                float[] y0 = Uniform(random, padded, -3f, 3f);
                var y = new Guarded(y0);
                var matrix = new PackedInt8DotMatrix(Pack(q, rows, cols), scales);
                if (accumulate)
                {
                    PackedGemv.MultiplyAdd(matrix, x, y.Span, width);
                }
                else
                {
                    PackedGemv.Multiply(matrix, x, y.Span, width);
                }

                y.AssertGuardsIntact($"{rows}x{cols}");
                float[] expected = Expected(q, scales, rows, cols, x, y0, accumulate);
                Assert.True(expected.AsSpan().SequenceEqual(y.ToArray()), $"{rows}x{cols} @ {width}: differs from the definition");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void Quantization_RoundsTiesToEven_AndScalesByMaxAbs(VectorWidth width)
    {
        // max|x| = 127 gives inverse 1 and s_x 1: x = k + 0.5 must round to the even neighbour, in the vector part
        // (the first 16 values) and in the scalar tail alike. A one-row identity-like W reads the quantized x back.
        float[] x = [127f, 2.5f, 3.5f, -2.5f, -3.5f, 0.5f, -0.5f, 1.5f, 126.5f, -126.5f, 4.49f, 4.51f, 0f, -127f, 5.5f, 6.5f, 2.5f, 3.5f, -0.5f];
        int cols = x.Length;
        int[] expected = [127, 2, 4, -2, -4, 0, 0, 2, 126, -126, 4, 5, 0, -127, 6, 6, 2, 4, 0];
        for (int j = 0; j < cols; j++)
        {
            var q = new sbyte[16 * cols];
            q[j] = 1; // row 0 picks x[j]
            var scales = new float[16];
            scales[0] = 1f;
            var y = new float[16];
            PackedGemv.Multiply(new PackedInt8DotMatrix(Pack(q, 16, cols), scales), x, y, width);
            Assert.Equal(expected[j], y[0]);
        }
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void ZeroInput_ContributesNothing(VectorWidth width)
    {
        var random = new Random(3);
        (sbyte[] q, float[] scales) = RandomWeights(random, 20, 9);
        var matrix = new PackedInt8DotMatrix(Pack(q, 20, 9), scales);
        float[] y = Uniform(random, 32, -1f, 1f);
        float[] before = (float[])y.Clone();
        PackedGemv.MultiplyAdd(matrix, new float[9], y, width);
        Assert.Equal(before, y);
        PackedGemv.Multiply(matrix, new float[9], y, width);
        Assert.All(y, v => Assert.Equal(0f, v));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Batch_EqualsSingleProducts(VectorWidth width, bool accumulate)
    {
        var random = new Random(22);
        const int rows = 70, cols = 19, count = 5;
        (sbyte[] q, float[] scales) = RandomWeights(random, rows, cols);
        var matrix = new PackedInt8DotMatrix(Pack(q, rows, cols), scales);
        int padded = Panels.PaddedRows(rows);
        float[] xs = Uniform(random, count * cols, -1f, 1f);
        float[] ys0 = Uniform(random, count * padded, -1f, 1f);
        float[] batch = (float[])ys0.Clone();
        if (accumulate)
        {
            PackedGemv.MultiplyAddBatch(matrix, xs, batch, count, width);
        }
        else
        {
            PackedGemv.MultiplyBatch(matrix, xs, batch, count, width);
        }

        for (int b = 0; b < count; b++)
        {
            float[] expected = Expected(q, scales, rows, cols, xs.AsSpan(b * cols, cols).ToArray(), ys0.AsSpan(b * padded, padded).ToArray(), accumulate);
            Assert.Equal(expected, batch.AsSpan(b * padded, padded).ToArray());
        }
    }

    [Fact]
    public void WideInput_UsesThePooledBuffer_AndStillMatches()
    {
        var random = new Random(23);
        const int rows = 17, cols = 5000; // beyond the 4096-byte stack buffer
        (sbyte[] q, float[] scales) = RandomWeights(random, rows, cols);
        var matrix = new PackedInt8DotMatrix(Pack(q, rows, cols), scales);
        float[] x = Uniform(random, cols, -1f, 1f);
        foreach (VectorWidth width in SupportedWidths())
        {
            var y = new float[32];
            PackedGemv.Multiply(matrix, x, y, width);
            Assert.Equal(Expected(q, scales, rows, cols, x, new float[32], accumulate: false), y);
        }
    }

    [Fact]
    public void WrongShapes_ThrowNamingTheArgument()
    {
        var x = new float[5];
        var y = new float[16];
        ArgumentException e = Assert.ThrowsAny<ArgumentException>(() => PackedGemv.MultiplyAdd(new PackedInt8DotMatrix(new sbyte[16 * 5], new float[16]), x, y, VectorWidth.Scalar));
        Assert.Equal("packed", e.ParamName); // needs 16 · 8 (cols padded to a multiple of 4)
        Assert.Contains("multiple of 4", e.Message, StringComparison.Ordinal);
        e = Assert.ThrowsAny<ArgumentException>(() => PackedGemv.MultiplyAdd(new PackedInt8DotMatrix(new sbyte[16 * 8], new float[15]), x, y, VectorWidth.V256));
        Assert.Equal("packed", e.ParamName);
        Assert.Contains("row scales", e.Message, StringComparison.Ordinal);
        e = Assert.ThrowsAny<ArgumentException>(() => PackedGemv.MultiplyAdd(new PackedInt8DotMatrix(new sbyte[15 * 8], new float[15]), x, new float[15], VectorWidth.V128));
        Assert.Equal("y", e.ParamName);
    }

    [Fact]
    public void PackedIndex_IsABijectionOntoThePackedLength_WithGroupsOfFourColumnsPerRow()
    {
        foreach ((int rows, int cols) in new[] { (1, 1), (16, 4), (70, 5), (148, 3), (200, 13) })
        {
            int length = DotPacking.PackedLength(rows, cols);
            Assert.Equal(Panels.PaddedRows(rows) * ((cols + 3) / 4 * 4), length);
            var seen = new bool[length];
            for (int r = 0; r < Panels.PaddedRows(rows); r++)
            {
                for (int j = 0; j < DotPacking.PaddedCols(cols); j++)
                {
                    int k = DotPacking.PackedIndex(r, j, rows, cols);
                    Assert.False(seen[k]);
                    seen[k] = true;
                    if ((j & 3) != 0)
                    {
                        Assert.Equal(DotPacking.PackedIndex(r, j - 1, rows, cols) + 1, k); // a row's group is contiguous
                    }
                }
            }

            Assert.All(seen, Assert.True);
        }

        // 148 rows: panels 0..63, 64..127 (64 wide), 128..143 (16 wide); 3 columns padded to 4.
        Assert.Equal((128 * 4) + (5 * 4) + 2, DotPacking.PackedIndex(133, 2, 148, 3));
    }

    // ---- the definition, written out independently of the kernels

    internal static float[] Expected(sbyte[] q, float[] scales, int rows, int cols, float[] x, float[] y0, bool accumulate)
    {
        float maxAbs = 0f;
        foreach (float v in x)
        {
            maxAbs = Math.Max(maxAbs, Math.Abs(v));
        }

        var y = (float[])y0.Clone();
        if (maxAbs == 0f)
        {
            return accumulate ? y : new float[y.Length];
        }

        float inverse = 127f / maxAbs;
        float sx = maxAbs / 127f;
        var xq = new int[cols];
        for (int j = 0; j < cols; j++)
        {
            xq[j] = (int)Math.Clamp(MathF.Round(x[j] * inverse, MidpointRounding.ToEven), -127f, 127f);
        }

        for (int r = 0; r < y.Length; r++)
        {
            int sum = 0;
            for (int j = 0; r < rows && j < cols; j++)
            {
                sum += q[(r * cols) + j] * xq[j];
            }

            float v = sum * (scales[r] * sx);
            y[r] = accumulate ? y[r] + v : v;
        }

        return y;
    }

    private static (sbyte[] Q, float[] Scales) RandomWeights(Random random, int rows, int cols)
    {
        var q = new sbyte[rows * cols];
        for (int k = 0; k < q.Length; k++)
        {
            q[k] = (sbyte)random.Next(-127, 128);
        }

        float[] scales = new float[Panels.PaddedRows(rows)];
        for (int r = 0; r < rows; r++)
        {
            scales[r] = (0.001f + (float)random.NextDouble()) / 127f;
        }

        return (q, scales);
    }

    internal static sbyte[] Pack(sbyte[] rowMajor, int rows, int cols)
    {
        var packed = new sbyte[DotPacking.PackedLength(rows, cols)];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < cols; j++)
            {
                packed[DotPacking.PackedIndex(r, j, rows, cols)] = rowMajor[(r * cols) + j];
            }
        }

        return packed;
    }
}
