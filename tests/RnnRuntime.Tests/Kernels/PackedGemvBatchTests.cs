using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;
using static RnnEmbedded.Tests.Kernels.KernelTestSupport;

namespace RnnEmbedded.Tests.Kernels;

public sealed class PackedGemvBatchTests
{
    // The batched and the single product sum the same terms in different orders; each is within
    // (cols + 2)·2^-23·Σ|terms| of the exact sum (PackedGemvTests), so they are within twice that of each other.
    private const double UnitRoundoff = 1.0 / (1 << 23);

    // Every group size of the Vector512 tiles (1..8 inputs), one and two groups per pass (MaxLanes = 16), and several
    // passes.
    private static readonly int[] s_counts = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 33];

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

    private static IEnumerable<(int Rows, int Cols)> Shapes()
    {
        for (int n = 0; n <= 100; n++)
        {
            yield return (n, 13); // every row count 0..100: panels of 16..64 rows, the narrow last panel
            yield return (37, n); // every column count 0..100
        }

        yield return ((6 * 64) + 7, 257); // odd and large
        yield return (112, 300); // a 48-row last panel (one packed chunk at Vector512 up to 8 inputs, else 512 columns)
        yield return (80, 600); // two packed column chunks at Vector512 for its 9 inputs, a 16-row last panel
    }

    [Theory]
    [MemberData(nameof(WidthsAndModes))]
    public void MultiplyAddBatch_EqualsSingleProducts_WithinRounding(VectorWidth width, bool accumulate)
    {
        var random = new Random(1212);
        foreach ((int rows, int cols) in Shapes())
        {
            int count = s_counts[(rows + cols) % s_counts.Length];
            float[] w = Uniform(random, rows * cols, -1f, 1f);
            float[] packed = PanelPacking.Pack(w, rows, cols);
            int padded = PanelPacking.PaddedRows(rows);
            float[] xs = Uniform(random, count * cols, -2f, 2f);
            float[] y0 = Uniform(random, count * padded, -3f, 3f);

            var ys = new Guarded(y0);
            if (accumulate)
            {
                PackedGemv.MultiplyAddBatch(packed, xs, ys.Span, count, width);
            }
            else
            {
                PackedGemv.MultiplyBatch(packed, xs, ys.Span, count, width);
            }

            ys.AssertGuardsIntact($"{rows}x{cols} count {count}");
            float[] actual = ys.ToArray();
            for (int b = 0; b < count; b++)
            {
                float[] single = y0.AsSpan(b * padded, padded).ToArray();
                ReadOnlySpan<float> x = xs.AsSpan(b * cols, cols);
                if (accumulate)
                {
                    PackedGemv.MultiplyAdd(packed, x, single, width);
                }
                else
                {
                    PackedGemv.Multiply(packed, x, single, width);
                }

                for (int r = 0; r < padded; r++)
                {
                    double magnitude = accumulate ? Math.Abs(y0[(b * padded) + r]) : 0.0;
                    for (int j = 0; r < rows && j < cols; j++)
                    {
                        magnitude += Math.Abs((double)w[(r * cols) + j] * x[j]);
                    }

                    double bound = 2 * (cols + 2) * UnitRoundoff * magnitude;
                    float got = actual[(b * padded) + r];
                    Assert.True(Math.Abs(got - single[r]) <= bound,
                        $"{width} {rows}x{cols} count {count} input {b} row {r}: batched {got}, single {single[r]}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void MultiplyAddBatch_EveryCountUpToThreePasses_EqualsSingleProducts_WithinRounding(VectorWidth width)
    {
        // Every count 1..(3·MaxLanes + 1) on shapes whose columns span packed chunks and whose last panel is narrow.
        var random = new Random(77);
        foreach ((int rows, int cols) in new[] { (112, 300), (64, 70), (48, 9) })
        {
            float[] w = Uniform(random, rows * cols, -1f, 1f);
            float[] packed = PanelPacking.Pack(w, rows, cols);
            int padded = PanelPacking.PaddedRows(rows);
            for (int count = 1; count <= (3 * PackedGemv.MaxLanes) + 1; count++)
            {
                float[] xs = Uniform(random, count * cols, -2f, 2f);
                float[] y0 = Uniform(random, count * padded, -3f, 3f);
                float[] ys = (float[])y0.Clone();
                PackedGemv.MultiplyAddBatch(packed, xs, ys, count, width);
                for (int b = 0; b < count; b++)
                {
                    float[] single = y0.AsSpan(b * padded, padded).ToArray();
                    PackedGemv.MultiplyAdd(packed, xs.AsSpan(b * cols, cols), single, width);
                    for (int r = 0; r < rows; r++)
                    {
                        double magnitude = Math.Abs(y0[(b * padded) + r]);
                        for (int j = 0; j < cols; j++)
                        {
                            magnitude += Math.Abs((double)w[(r * cols) + j] * xs[(b * cols) + j]);
                        }

                        double bound = 2 * (cols + 2) * UnitRoundoff * magnitude;
                        float got = ys[(b * padded) + r];
                        Assert.True(Math.Abs(got - single[r]) <= bound,
                            $"{width} {rows}x{cols} count {count} input {b} row {r}: batched {got}, single {single[r]}");
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void MultiplyAddBatch_InputResult_DoesNotDependOnItsPositionOrTheCount(VectorWidth width)
    {
        // Each input's sum runs over the columns in one order whatever shares the call, so input 0 alone and the same
        // input at any position of a larger call agree bit for bit (decoders may rely on it).
        const int Rows = 112, Cols = 300;
        var random = new Random(78);
        float[] packed = PanelPacking.Pack(Uniform(random, Rows * Cols, -1f, 1f), Rows, Cols);
        int padded = PanelPacking.PaddedRows(Rows);
        float[] x = Uniform(random, Cols, -2f, 2f);
        var alone = new float[padded];
        PackedGemv.MultiplyBatch(packed, x, alone, 1, width);
        foreach (int count in new[] { 2, 5, 9, 16, 21 })
        {
            float[] xs = Uniform(random, count * Cols, -2f, 2f);
            int at = count / 2;
            x.CopyTo(xs, at * Cols);
            var ys = new float[count * padded];
            PackedGemv.MultiplyBatch(packed, xs, ys, count, width);
            Assert.Equal(alone, ys.AsSpan(at * padded, padded).ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void MultiplyAddBatch_SingleOneInWeights_SelectsThatColumnOfEachInput(VectorWidth width)
    {
        // Exact structural check: one 1 at (r, j) of W, so output b changes in row r only, by exactly xs[b][j].
        const int Rows = 148, Cols = 13, Count = 11;
        float[] xs = Uniform(new Random(5), Count * Cols, 1f, 2f);
        int padded = PanelPacking.PaddedRows(Rows);
        foreach ((int r, int j) in new[] { (0, 0), (63, 12), (64, 1), (147, 12), (130, 5) })
        {
            var w = new float[Rows * Cols];
            w[(r * Cols) + j] = 1f;
            var ys = new float[Count * padded];
            PackedGemv.MultiplyAddBatch(PanelPacking.Pack(w, Rows, Cols), xs, ys, Count, width);
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
    public void MultiplyAddBatch_CountZero_WithEmptySpans_DoesNothing()
    {
        PackedGemv.MultiplyAddBatch(new float[16 * 3], ReadOnlySpan<float>.Empty, Span<float>.Empty, 0, VectorWidth.V256);
    }

    [Fact]
    public void MultiplyAddBatch_RejectsLengthsNotAMultipleOfCount_NamingCount()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            PackedGemv.MultiplyAddBatch(new float[16 * 3], new float[7], new float[32], 2, VectorWidth.V256));
        Assert.Equal("count", e.ParamName);
        Assert.Contains("multiples of count 2", e.Message);
    }

    [Fact]
    public void MultiplyAddBatch_RejectsPackedLengthMismatch_NamingPacked()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            PackedGemv.MultiplyAddBatch(new float[16 * 3 + 1], new float[6], new float[32], 2, VectorWidth.V128));
        Assert.Equal("packed", e.ParamName);
    }

    [Fact]
    public void MultiplyAddBatch_RejectsOverlappingXsAndYs()
    {
        var buffer = new float[64];
        var e = Assert.Throws<ArgumentException>(() =>
            PackedGemv.MultiplyAddBatch(new float[16 * 4], buffer.AsSpan(20, 8), buffer.AsSpan(0, 32), 2, VectorWidth.V512));
        Assert.Equal("ys", e.ParamName);
    }
}
