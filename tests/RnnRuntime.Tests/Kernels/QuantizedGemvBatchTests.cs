using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;
using static RnnEmbedded.Tests.Kernels.KernelTestSupport;

namespace RnnEmbedded.Tests.Kernels;

/// <summary>
/// The batched bfloat16 and int8 products (PackedGemv.WidenedBatch.cs) against the single ones, input by input: equal
/// bit for bit at every width, count and shape (full panels, every narrower last panel, odd columns), except past
/// 512 columns at Vector512 with two or more inputs, where the packed inputs are taken a chunk at a time and each
/// chunk is finished into y: there the two agree within rounding.
/// </summary>
public sealed class QuantizedGemvBatchTests
{
    private const double UnitRoundoff = 1.0 / (1 << 23);
    private const int ChunkColumns = 512;

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

    // Every narrower last panel (16, 32, 48 rows) and full ones; odd and even column counts, one column, many.
    private static readonly (int Rows, int Cols)[] s_shapes =
        [(1, 1), (16, 7), (37, 13), (64, 64), (70, 19), (112, 2), (148, 257), (260, 3), (200, 100), (64, 512), (80, 600), (50, 1100)];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Batch_EveryCount_EqualsSingleProducts(VectorWidth width, bool int8, bool accumulate)
    {
        var random = new Random(1313);
        foreach ((int rows, int cols) in s_shapes)
        {
            var matrix = new TestMatrix(random, rows, cols, int8);
            int[] counts = rows * cols <= 64 * 64 ? Enumerable.Range(1, 33).ToArray() : [1, 2, 4, 5, 8, 9, 16, 17, 23, 33];
            foreach (int count in counts)
            {
                bool exact = width != VectorWidth.V512 || cols <= ChunkColumns || count == 1 || !Simd.IsSupported(VectorWidth.V512);
                float[] xs = Uniform(random, count * cols, -2f, 2f);
                float[] ys0 = Uniform(random, count * matrix.Padded, -3f, 3f);
                var batch = new Guarded(ys0);
                matrix.Batch(xs, batch.Span, count, width, accumulate);
                string what = $"{(int8 ? "int8" : "bf16")} {rows}x{cols} count {count} @ {width} accumulate {accumulate}";
                batch.AssertGuardsIntact(what);
                float[] got = batch.ToArray();
                for (int b = 0; b < count; b++)
                {
                    float[] single = ys0.AsSpan(b * matrix.Padded, matrix.Padded).ToArray();
                    matrix.Single(xs.AsSpan(b * cols, cols), single, width, accumulate);
                    ReadOnlySpan<float> lane = got.AsSpan(b * matrix.Padded, matrix.Padded);
                    for (int r = 0; r < matrix.Padded; r++)
                    {
                        if (exact)
                        {
                            Assert.True(BitConverter.SingleToInt32Bits(single[r]) == BitConverter.SingleToInt32Bits(lane[r]),
                                $"{what} input {b} row {r}: batched {lane[r]:R}, single {single[r]:R}");
                        }
                        else
                        {
                            double bound = 2 * (cols + 4) * UnitRoundoff * matrix.Magnitude(r, xs.AsSpan(b * cols, cols), accumulate ? ys0[(b * matrix.Padded) + r] : 0f);
                            Assert.True(Math.Abs(lane[r] - single[r]) <= bound + 1e-30,
                                $"{what} input {b} row {r}: batched {lane[r]:R}, single {single[r]:R} (bound {bound:E2})");
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void Batch_SingleOneInWeights_SelectsThatColumnOfEachInput(VectorWidth width)
    {
        // Exact structural check: bfloat16 1.0 at (r, j), so input b's output changes in row r only, by exactly xs[b][j].
        const int Rows = 148, Cols = 13, Count = 11;
        float[] xs = Uniform(new Random(5), Count * Cols, 1f, 2f);
        int padded = PanelPacking.PaddedRows(Rows);
        foreach ((int r, int j) in new[] { (0, 0), (63, 12), (64, 1), (147, 12), (130, 5) })
        {
            var w = new ushort[PanelPacking.PackedLength(Rows, Cols)];
            w[PanelPacking.PackedIndex(r, j, Rows, Cols)] = 0x3F80; // 1.0f
            var ys = new float[Count * padded];
            PackedGemv.MultiplyAddBatch(w, xs, ys, Count, width);
            for (int b = 0; b < Count; b++)
            {
                for (int i = 0; i < padded; i++)
                {
                    Assert.Equal(i == r ? xs[(b * Cols) + j] : 0f, ys[(b * padded) + i]);
                }
            }
        }
    }

    [Fact]
    public void Batch_Int8_WrongScaleCount_ThrowsNamingPacked()
    {
        ArgumentException e = Assert.ThrowsAny<ArgumentException>(() =>
            PackedGemv.MultiplyAddBatch(new PackedInt8Matrix(new sbyte[16 * 3], new float[15]), new float[6], new float[32], 2, VectorWidth.V256));
        Assert.Equal("packed", e.ParamName);
        Assert.Contains("row scales", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Batch_BFloat16_WrongLength_ThrowsNamingPacked()
    {
        ArgumentException e = Assert.ThrowsAny<ArgumentException>(() =>
            PackedGemv.MultiplyBatch(new ushort[(16 * 3) - 1], new float[6], new float[32], 2, VectorWidth.V512));
        Assert.Equal("packed", e.ParamName);
    }

    [Fact]
    public void Batch_RowsNotAMultipleOf16_ThrowsNamingY()
    {
        ArgumentException e = Assert.ThrowsAny<ArgumentException>(() =>
            PackedGemv.MultiplyAddBatch(new ushort[15 * 3], new float[6], new float[30], 2, VectorWidth.Scalar));
        Assert.Equal("y", e.ParamName);
    }

    // A random matrix quantized to bfloat16 or int8 and packed, with its single and batched products.
    private sealed class TestMatrix
    {
        private readonly QuantizedMatrix _q;
        private readonly ushort[]? _bf16;
        private readonly sbyte[]? _int8;
        private readonly float[] _scales;
        private readonly int _rows;
        private readonly int _cols;

        public TestMatrix(Random random, int rows, int cols, bool int8)
        {
            _rows = rows;
            _cols = cols;
            Padded = PanelPacking.PaddedRows(rows);
            _q = WeightQuantizer.Quantize(new Matrix(rows, cols, Uniform(random, rows * cols, -1.5f, 1.5f)), int8 ? WeightType.Int8 : WeightType.BFloat16);
            _scales = new float[Padded];
            if (int8)
            {
                _int8 = Pack(_q.Int8!, rows, cols);
                _q.Scales!.CopyTo(_scales, 0);
            }
            else
            {
                _bf16 = Pack(_q.BFloat16!, rows, cols);
            }
        }

        public int Padded { get; }

        public void Batch(ReadOnlySpan<float> xs, Span<float> ys, int count, VectorWidth width, bool accumulate)
        {
            if (_int8 is not null)
            {
                var m = new PackedInt8Matrix(_int8, _scales);
                if (accumulate)
                {
                    PackedGemv.MultiplyAddBatch(m, xs, ys, count, width);
                }
                else
                {
                    PackedGemv.MultiplyBatch(m, xs, ys, count, width);
                }
            }
            else if (accumulate)
            {
                PackedGemv.MultiplyAddBatch(_bf16!, xs, ys, count, width);
            }
            else
            {
                PackedGemv.MultiplyBatch(_bf16!, xs, ys, count, width);
            }
        }

        public void Single(ReadOnlySpan<float> x, Span<float> y, VectorWidth width, bool accumulate)
        {
            if (_int8 is not null)
            {
                var m = new PackedInt8Matrix(_int8, _scales);
                if (accumulate)
                {
                    PackedGemv.MultiplyAdd(m, x, y, width);
                }
                else
                {
                    PackedGemv.Multiply(m, x, y, width);
                }
            }
            else if (accumulate)
            {
                PackedGemv.MultiplyAdd(_bf16!, x, y, width);
            }
            else
            {
                PackedGemv.Multiply(_bf16!, x, y, width);
            }
        }

        // |y0| + Σ_j |W[r, j]·x[j]| over the dequantized weights (0 past the real rows).
        public double Magnitude(int r, ReadOnlySpan<float> x, float y0)
        {
            double sum = Math.Abs(y0);
            for (int j = 0; r < _rows && j < _cols; j++)
            {
                sum += Math.Abs((double)_q.Dequantized.Data[(r * _cols) + j] * x[j]);
            }

            return sum;
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
    }
}
