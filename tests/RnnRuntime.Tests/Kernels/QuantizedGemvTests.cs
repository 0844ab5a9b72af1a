using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;
using static RnnEmbedded.Tests.Kernels.KernelTestSupport;

namespace RnnEmbedded.Tests.Kernels;

/// <summary>
/// The bfloat16 and int8 products (docs/kernels.md, "Quantized weights") against a double-precision sum over the
/// dequantized values, at every width, over shapes that hit full panels, narrower last panels and odd columns.
/// </summary>
public sealed class QuantizedGemvTests
{
    private const double UnitRoundoff = 1.0 / (1 << 23);

    private static readonly int[] s_rows = [1, 15, 16, 17, 37, 64, 65, 148, 260];
    private static readonly int[] s_cols = [1, 3, 13, 64, 257];

    public static TheoryData<VectorWidth, bool, bool> Cases()
    {
        var data = new TheoryData<VectorWidth, bool, bool>();
        foreach (VectorWidth w in SupportedWidths())
        {
            foreach (bool int8 in new[] { false, true })
            {
                data.Add(w, int8, true);
                data.Add(w, int8, false);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Product_MatchesDoubleReferenceOverDequantizedWeights(VectorWidth width, bool int8, bool accumulate)
    {
        var random = new Random(11);
        foreach (int rows in s_rows)
        {
            foreach (int cols in s_cols)
            {
                var m = new Matrix(rows, cols, Uniform(random, rows * cols, -1.5f, 1.5f));
                QuantizedMatrix q = WeightQuantizer.Quantize(m, int8 ? WeightType.Int8 : WeightType.BFloat16);
                float[] x = Uniform(random, cols, -2f, 2f);
                int padded = PanelPacking.PaddedRows(rows);
                float[] y0 = Uniform(random, padded, -3f, 3f);
                var y = new Guarded(y0);
                if (int8)
                {
                    sbyte[] packed = Pack(q.Int8!, rows, cols);
                    var scales = new float[padded];
                    q.Scales!.CopyTo(scales, 0);
                    var matrix = new PackedInt8Matrix(packed, scales);
                    if (accumulate)
                    {
                        PackedGemv.MultiplyAdd(matrix, x, y.Span, width);
                    }
                    else
                    {
                        PackedGemv.Multiply(matrix, x, y.Span, width);
                    }
                }
                else
                {
                    ushort[] packed = Pack(q.BFloat16!, rows, cols);
                    if (accumulate)
                    {
                        PackedGemv.MultiplyAdd(packed, x, y.Span, width);
                    }
                    else
                    {
                        PackedGemv.Multiply(packed, x, y.Span, width);
                    }
                }

                y.AssertGuardsIntact($"{rows}x{cols}");
                AssertClose(q.Dequantized, x, y0, y.ToArray(), accumulate, $"{(int8 ? "int8" : "bf16")} {rows}x{cols} @ {width}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Batch_EqualsSingleProducts(VectorWidth width, bool int8, bool accumulate)
    {
        var random = new Random(12);
        const int rows = 70, cols = 19, count = 5;
        var m = new Matrix(rows, cols, Uniform(random, rows * cols, -1f, 1f));
        QuantizedMatrix q = WeightQuantizer.Quantize(m, int8 ? WeightType.Int8 : WeightType.BFloat16);
        int padded = PanelPacking.PaddedRows(rows);
        float[] xs = Uniform(random, count * cols, -1f, 1f);
        float[] ys0 = Uniform(random, count * padded, -1f, 1f);
        float[] batch = (float[])ys0.Clone();
        float[] single = (float[])ys0.Clone();
        var scales = new float[padded];
        if (int8)
        {
            q.Scales!.CopyTo(scales, 0);
            var matrix = new PackedInt8Matrix(Pack(q.Int8!, rows, cols), scales);
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
                if (accumulate)
                {
                    PackedGemv.MultiplyAdd(matrix, xs.AsSpan(b * cols, cols), single.AsSpan(b * padded, padded), width);
                }
                else
                {
                    PackedGemv.Multiply(matrix, xs.AsSpan(b * cols, cols), single.AsSpan(b * padded, padded), width);
                }
            }
        }
        else
        {
            ushort[] packed = Pack(q.BFloat16!, rows, cols);
            if (accumulate)
            {
                PackedGemv.MultiplyAddBatch(packed, xs, batch, count, width);
            }
            else
            {
                PackedGemv.MultiplyBatch(packed, xs, batch, count, width);
            }

            for (int b = 0; b < count; b++)
            {
                if (accumulate)
                {
                    PackedGemv.MultiplyAdd(packed, xs.AsSpan(b * cols, cols), single.AsSpan(b * padded, padded), width);
                }
                else
                {
                    PackedGemv.Multiply(packed, xs.AsSpan(b * cols, cols), single.AsSpan(b * padded, padded), width);
                }
            }
        }

        Assert.Equal(single, batch);
        for (int b = 0; b < count; b++)
        {
            AssertClose(q.Dequantized, xs.AsSpan(b * cols, cols).ToArray(), ys0.AsSpan(b * padded, padded).ToArray(),
                batch.AsSpan(b * padded, padded).ToArray(), accumulate, $"lane {b}");
        }
    }

    [Fact]
    public void Int8_WrongScaleCount_ThrowsNamingPacked()
    {
        var weights = new sbyte[16 * 3];
        var scales = new float[15];
        var x = new float[3];
        var y = new float[16];
        ArgumentException e = Assert.ThrowsAny<ArgumentException>(() => PackedGemv.MultiplyAdd(new PackedInt8Matrix(weights, scales), x, y, VectorWidth.Scalar));
        Assert.Equal("packed", e.ParamName);
        Assert.Contains("row scales", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BFloat16_WrongLength_ThrowsNamingPacked()
    {
        var weights = new ushort[16 * 3 - 1];
        ArgumentException e = Assert.ThrowsAny<ArgumentException>(() => PackedGemv.Multiply(weights, new float[3], new float[16], VectorWidth.V128));
        Assert.Equal("packed", e.ParamName);
    }

    private static T[] Pack<T>(T[] rowMajor, int rows, int cols)
    {
        var packed = new T[PanelPacking.PackedLength(rows, cols)];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < cols; j++)
            {
                packed[PanelPacking.PackedIndex(r, j, rows, cols)] = rowMajor[(r * cols) + j];
            }
        }

        return packed;
    }

    private static void AssertClose(Matrix w, float[] x, float[] y0, float[] actual, bool accumulate, string what)
    {
        int rows = w.Rows, cols = w.Cols;
        for (int r = 0; r < actual.Length; r++)
        {
            double sum = accumulate ? y0[r] : 0.0;
            double magnitude = accumulate ? Math.Abs(y0[r]) : 0.0;
            if (r < rows)
            {
                for (int j = 0; j < cols; j++)
                {
                    double term = (double)w.Data[(r * cols) + j] * x[j];
                    sum += term;
                    magnitude += Math.Abs(term);
                }
            }

            // The int8 kernel multiplies the scale in last: one more rounding, and the terms it scales are up to 127.
            double bound = ((cols + 4) * UnitRoundoff * magnitude) + 1e-30;
            Assert.True(Math.Abs(actual[r] - sum) <= bound, $"{what}: row {r}: expected {sum:R}, got {actual[r]:R} (bound {bound:E2})");
        }
    }
}
