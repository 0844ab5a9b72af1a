using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;
using static RnnEmbedded.Tests.Kernels.KernelTestSupport;
using Panels = RnnEmbedded.Runtime.CompilerServices.PanelPacking;

namespace RnnEmbedded.Tests.Kernels;

/// <summary>
/// The batched int8-dynamic product (src/RnnRuntime/Kernels/PackedGemv.Int8DotBatch.cs; docs/kernels.md, "Dynamic
/// int8"): every input quantized alone and the weights read once per 16 inputs, yet each output bit for bit the
/// single product of that input at the same width (and so the integer definition), including ±0.
/// </summary>
public sealed class Int8DotBatchTests
{
    private static readonly int[] s_rows = [1, 15, 17, 37, 64, 65, 148];
    private static readonly int[] s_cols = [1, 3, 5, 13, 64, 257];

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

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryOutput_EqualsItsSingleProduct_BitForBit_ForCounts1To20(VectorWidth width, bool accumulate)
    {
        var random = new Random(31);
        int checkedOutputs = 0;
        foreach (int rows in s_rows)
        {
            foreach (int cols in s_cols)
            {
                (sbyte[] q, float[] scales) = Int8DotGemvTests.RandomWeights(random, rows, cols);
                var matrix = new PackedInt8DotMatrix(Int8DotGemvTests.Pack(q, rows, cols), scales);
                int padded = Panels.PaddedRows(rows);
                for (int count = 1; count <= 20; count++)
                {
                    float[] xs = Inputs(random, count, cols);
                    float[] ys0 = Uniform(random, count * padded, -3f, 3f);
                    ys0[0] = -0f; // accumulating +0 into −0 gives +0: the batch must skip a zero input as the single product does
                    float[] batch = (float[])ys0.Clone();
                    Run(matrix, xs, batch, count, width, accumulate);
                    for (int b = 0; b < count; b++)
                    {
                        float[] single = ys0.AsSpan(b * padded, padded).ToArray();
                        ReadOnlySpan<float> x = xs.AsSpan(b * cols, cols);
                        if (accumulate)
                        {
                            PackedGemv.MultiplyAdd(matrix, x, single, width);
                        }
                        else
                        {
                            PackedGemv.Multiply(matrix, x, single, width);
                        }

                        AssertBits(single, batch.AsSpan(b * padded, padded), $"{width} rows {rows} cols {cols} count {count} input {b}");
                        checkedOutputs++;
                    }
                }
            }
        }

        Assert.Equal(s_rows.Length * s_cols.Length * 20 * 21 / 2, checkedOutputs);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void WideInputs_UseThePooledBuffers_AndEqualTheDefinition(VectorWidth width, bool accumulate)
    {
        // 17 inputs of 5,000 columns: past the 16 KB stack buffer of quantized inputs and the 4,096-byte row buffer,
        // and past one chunk of 16 inputs.
        var random = new Random(32);
        const int rows = 37, cols = 5000, count = 17;
        (sbyte[] q, float[] scales) = Int8DotGemvTests.RandomWeights(random, rows, cols);
        var matrix = new PackedInt8DotMatrix(Int8DotGemvTests.Pack(q, rows, cols), scales);
        int padded = Panels.PaddedRows(rows);
        float[] xs = Inputs(random, count, cols);
        float[] ys0 = Uniform(random, count * padded, -1f, 1f);
        float[] batch = (float[])ys0.Clone();
        Run(matrix, xs, batch, count, width, accumulate);
        for (int b = 0; b < count; b++)
        {
            float[] expected = Int8DotGemvTests.Expected(q, scales, rows, cols, xs.AsSpan(b * cols, cols).ToArray(), ys0.AsSpan(b * padded, padded).ToArray(), accumulate);
            AssertBits(expected, batch.AsSpan(b * padded, padded), $"{width} input {b}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void AllZeroInputs_LeaveOrClearTheirOutputs(VectorWidth width)
    {
        var random = new Random(33);
        const int rows = 20, cols = 9, count = 3;
        (sbyte[] q, float[] scales) = Int8DotGemvTests.RandomWeights(random, rows, cols);
        var matrix = new PackedInt8DotMatrix(Int8DotGemvTests.Pack(q, rows, cols), scales);
        float[] ys = Uniform(random, count * 32, -1f, 1f);
        float[] before = (float[])ys.Clone();
        PackedGemv.MultiplyAddBatch(matrix, new float[count * cols], ys, count, width);
        Assert.Equal(before, ys);
        PackedGemv.MultiplyBatch(matrix, new float[count * cols], ys, count, width);
        Assert.All(ys, v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v)));
    }

    [Fact]
    public void Batch_AllocatesNothing_AtEveryWidth()
    {
        var random = new Random(34);
        const int rows = 148, cols = 1100, count = 20; // quantized inputs (16 × 1,100 bytes) in the pooled array
        (sbyte[] q, float[] scales) = Int8DotGemvTests.RandomWeights(random, rows, cols);
        var matrix = new PackedInt8DotMatrix(Int8DotGemvTests.Pack(q, rows, cols), scales);
        float[] xs = Inputs(random, count, cols);
        float[] small = Inputs(random, count, 64);
        (sbyte[] qs, float[] ss) = Int8DotGemvTests.RandomWeights(random, rows, 64);
        var smallMatrix = new PackedInt8DotMatrix(Int8DotGemvTests.Pack(qs, rows, 64), ss);
        var ys = new float[count * Panels.PaddedRows(rows)];
        foreach (VectorWidth width in SupportedWidths())
        {
            for (int i = 0; i < 3; i++)
            {
                PackedGemv.MultiplyBatch(matrix, xs, ys, count, width);
                PackedGemv.MultiplyAddBatch(smallMatrix, small, ys, count, width);
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 200; i++)
            {
                PackedGemv.MultiplyBatch(matrix, xs, ys, count, width);
                PackedGemv.MultiplyAddBatch(smallMatrix, small, ys, count, width);
            }

            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Fact]
    public void WrongShapes_ThrowNamingTheArgument()
    {
        var weights = new sbyte[16 * 8];
        var scales = new float[16];
        ArgumentException e = Assert.ThrowsAny<ArgumentException>(() => PackedGemv.MultiplyAddBatch(new PackedInt8DotMatrix(weights, scales), new float[2 * 5], new float[2 * 15], 2, VectorWidth.V128));
        Assert.Equal("ys", e.ParamName);
        e = Assert.ThrowsAny<ArgumentException>(() => PackedGemv.MultiplyAddBatch(new PackedInt8DotMatrix(weights, scales), new float[2 * 9], new float[2 * 16], 2, VectorWidth.V256));
        Assert.Equal("packed", e.ParamName);
        Assert.Contains("multiple of 4", e.Message, StringComparison.Ordinal);
        e = Assert.ThrowsAny<ArgumentException>(() => PackedGemv.MultiplyAddBatch(new PackedInt8DotMatrix(new sbyte[16 * 8], new float[15]), new float[5], new float[16], 1, VectorWidth.Scalar));
        Assert.Equal("packed", e.ParamName);
        Assert.Contains("row scales", e.Message, StringComparison.Ordinal);
        e = Assert.ThrowsAny<ArgumentException>(() => PackedGemv.MultiplyAddBatch(new PackedInt8DotMatrix(weights, scales), new float[11], new float[32], 2, VectorWidth.Scalar));
        Assert.Equal("count", e.ParamName);
    }

    // count inputs of cols values in [-2, 2]: every 5th input all zero (from the second on), every other value of every
    // 3rd input zero, one input with a single non-zero value (its q_x is ±127 there and 0 elsewhere).
    private static float[] Inputs(Random random, int count, int cols)
    {
        float[] xs = Uniform(random, count * cols, -2f, 2f);
        for (int b = 0; b < count; b++)
        {
            Span<float> x = xs.AsSpan(b * cols, cols);
            if (b % 5 == 1)
            {
                x.Clear();
            }
            else if (b % 3 == 2)
            {
                for (int j = 0; j < cols; j += 2)
                {
                    x[j] = 0f;
                }
            }
            else if (b == 3)
            {
                float keep = x[cols / 2];
                x.Clear();
                x[cols / 2] = keep;
            }
        }

        return xs;
    }

    private static void Run(PackedInt8DotMatrix matrix, float[] xs, float[] ys, int count, VectorWidth width, bool accumulate)
    {
        if (accumulate)
        {
            PackedGemv.MultiplyAddBatch(matrix, xs, ys, count, width);
        }
        else
        {
            PackedGemv.MultiplyBatch(matrix, xs, ys, count, width);
        }
    }

    private static void AssertBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            int e = BitConverter.SingleToInt32Bits(expected[i]);
            int a = BitConverter.SingleToInt32Bits(actual[i]);
            Assert.True(e == a, $"{what}, row {i}: expected {expected[i]:R} (0x{e:X8}), got {actual[i]:R} (0x{a:X8})");
        }
    }
}
