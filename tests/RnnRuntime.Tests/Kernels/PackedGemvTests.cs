using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;
using static RnnEmbedded.Tests.Kernels.KernelTestSupport;

namespace RnnEmbedded.Tests.Kernels;

public sealed class PackedGemvTests
{
    // Any summation order of n products has error ≤ γ_n·Σ|terms| with γ_n ≈ n·u (Higham, "Accuracy and
    // Stability of Numerical Algorithms", §3.1); u = 2^-24. The bound uses (cols + 2)·2^-23 for margin.
    private const double UnitRoundoff = 1.0 / (1 << 23);

    private static readonly int[] s_rows = [1, 15, 16, 17, 37, 64, 65, 148, 1024];
    private static readonly int[] s_cols = [1, 3, 13, 64, 257];

    public static TheoryData<VectorWidth, bool> WidthsAndModes()
    {
        var data = new TheoryData<VectorWidth, bool>();
        foreach (VectorWidth w in SupportedWidths())
        {
            data.Add(w, true);
            data.Add(w, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(WidthsAndModes))]
    public void MultiplyAdd_MatchesDoubleReference_OverShapeGrid(VectorWidth width, bool accumulate)
    {
        var random = new Random(2024);
        foreach (int rows in s_rows)
        {
            foreach (int cols in s_cols)
            {
                float[] w = Uniform(random, rows * cols, -1f, 1f);
                float[] x = Uniform(random, cols, -2f, 2f);
                int padded = PanelPacking.PaddedRows(rows);
                float[] y0 = Uniform(random, padded, -3f, 3f);
                float[] packed = PanelPacking.Pack(w, rows, cols);

                var y = new Guarded(y0);
                if (accumulate)
                {
                    PackedGemv.MultiplyAdd(packed, x, y.Span, width);
                }
                else
                {
                    PackedGemv.Multiply(packed, x, y.Span, width);
                }

                y.AssertGuardsIntact($"{rows}x{cols}");
                float[] actual = y.ToArray();
                for (int r = 0; r < rows; r++)
                {
                    double sum = accumulate ? y0[r] : 0.0;
                    double magnitude = accumulate ? Math.Abs(y0[r]) : 0.0;
                    for (int j = 0; j < cols; j++)
                    {
                        sum += (double)w[(r * cols) + j] * x[j];
                        magnitude += Math.Abs((double)w[(r * cols) + j] * x[j]);
                    }

                    double bound = (cols + 2) * UnitRoundoff * magnitude;
                    Assert.True(Math.Abs(actual[r] - sum) <= bound,
                        $"{width} {rows}x{cols} row {r}: got {actual[r]}, expected {sum}, bound {bound:E2}");
                }

                for (int r = rows; r < padded; r++)
                {
                    Assert.Equal(accumulate ? y0[r] : 0f, actual[r]); // padding rows add exactly 0·x
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void MultiplyAdd_SingleOneInWeights_SelectsThatColumnOfX(VectorWidth width)
    {
        // Exact structural check: W has a single 1 at (r, j), so y must change in row r only, by exactly x[j].
        const int Rows = 148, Cols = 13;
        float[] x = Uniform(new Random(5), Cols, 1f, 2f);
        foreach ((int r, int j) in new[] { (0, 0), (63, 12), (64, 1), (127, 7), (128, 0), (147, 12), (130, 5) })
        {
            var w = new float[Rows * Cols];
            w[(r * Cols) + j] = 1f;
            var y = new float[PanelPacking.PaddedRows(Rows)];
            PackedGemv.MultiplyAdd(PanelPacking.Pack(w, Rows, Cols), x, y, width);
            for (int i = 0; i < y.Length; i++)
            {
                Assert.Equal(i == r ? x[j] : 0f, y[i]);
            }
        }
    }

    [Fact]
    public void MultiplyAdd_WithZeroColumns_LeavesY_AndMultiplyClearsIt()
    {
        float[] y = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        PackedGemv.MultiplyAdd(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, y, VectorWidth.V512);
        Assert.Equal(16f, y[15]);
        PackedGemv.Multiply(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, y, VectorWidth.V512);
        Assert.All(y, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void MultiplyAdd_RejectsUnpaddedY_NamingY()
    {
        var e = Assert.Throws<ArgumentException>(() => PackedGemv.MultiplyAdd(new float[17 * 3], new float[3], new float[17], VectorWidth.V256));
        Assert.Equal("y", e.ParamName);
        Assert.Contains("multiple of 16", e.Message);
    }

    [Fact]
    public void MultiplyAdd_RejectsPackedLengthMismatch_NamingPacked()
    {
        var e = Assert.Throws<ArgumentException>(() => PackedGemv.MultiplyAdd(new float[32 * 3 - 1], new float[3], new float[32], VectorWidth.V256));
        Assert.Equal("packed", e.ParamName);
        Assert.Contains("y.Length 32 (padded rows) × x.Length 3 (cols)", e.Message);
    }

    [Fact]
    public void MultiplyAdd_RejectsOverlappingXAndY()
    {
        var buffer = new float[40];
        var e = Assert.Throws<ArgumentException>(() => PackedGemv.MultiplyAdd(new float[16 * 8], buffer.AsSpan(10, 8), buffer.AsSpan(0, 16), VectorWidth.V128));
        Assert.Equal("y", e.ParamName);
    }

    [Fact]
    public void Pack_IntoSpan_EqualsPackIntoNewArray_AndWritesThePadding()
    {
        var random = new Random(11);
        foreach (int rows in s_rows)
        {
            foreach (int cols in s_cols)
            {
                float[] w = Uniform(random, rows * cols, -1f, 1f);
                float[] expected = PanelPacking.Pack(w, rows, cols);
                var actual = new float[PanelPacking.PackedLength(rows, cols)];
                Array.Fill(actual, float.NaN); // padding must be written, not assumed zero
                PanelPacking.Pack(w.AsSpan(), rows, cols, actual.AsSpan());
                Assert.Equal(expected, actual);
            }
        }
    }

    [Fact]
    public void PaddedRows_RejectsNegative_NamingRows()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PanelPacking.PaddedRows(-1));
        Assert.Equal("rows", e.ParamName);
    }
}

public sealed class AlignedBufferTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(4096)]
    public unsafe void Span_Is64ByteAligned_AndHoldsTheCopy(int length)
    {
        float[] source = KernelTestSupport.Uniform(new Random(length), length, -1f, 1f);
        for (int round = 0; round < 20; round++) // several allocations land at different array addresses
        {
            var buffer = new AlignedBuffer(source);
            Assert.Equal(length, buffer.Length);
            Assert.Equal(source, buffer.Span.ToArray());
            if (length > 0)
            {
                fixed (float* p = buffer.Span)
                {
                    Assert.Equal(0ul, (ulong)p % AlignedBuffer.Alignment);
                }
            }

            _ = new float[round + 1]; // shift the next allocation
        }
    }

    [Fact]
    public void Gemv_OverAlignedCopy_EqualsGemvOverArray()
    {
        const int Rows = 148, Cols = 64;
        var random = new Random(8);
        float[] packed = PanelPacking.Pack(KernelTestSupport.Uniform(random, Rows * Cols, -1f, 1f), Rows, Cols);
        float[] x = KernelTestSupport.Uniform(random, Cols, -1f, 1f);
        var aligned = new AlignedBuffer(packed);
        foreach (VectorWidth width in KernelTestSupport.SupportedWidths())
        {
            var expected = new float[160];
            var actual = new float[160];
            PackedGemv.Multiply(packed, x, expected, width);
            PackedGemv.Multiply(aligned.Span, x, actual, width);
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void Constructor_RejectsNegativeLength_NamingLength()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new AlignedBuffer(-1));
        Assert.Equal("length", e.ParamName);
    }
}
