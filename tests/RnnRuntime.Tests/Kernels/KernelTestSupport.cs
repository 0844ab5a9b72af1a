using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;

namespace RnnEmbedded.Tests.Kernels;

/// <summary>Widths, lengths and seeded data shared by the kernel tests.</summary>
internal static class KernelTestSupport
{
    /// <summary>Pointwise lengths: every length 0..256 plus an odd large one (6·512 + 7).</summary>
    public static IEnumerable<int> PointwiseLengths()
    {
        for (int n = 0; n <= 256; n++)
        {
            yield return n;
        }

        yield return (6 * 512) + 7;
    }

    /// <summary>Every width this machine runs in hardware (Scalar and V128 always on x64/arm64; V256/V512 when present).</summary>
    public static readonly VectorWidth[] AllWidths = [VectorWidth.Scalar, VectorWidth.V128, VectorWidth.V256, VectorWidth.V512];

    public static IEnumerable<VectorWidth> SupportedWidths() => AllWidths.Where(Simd.IsSupported);

    public static TheoryData<VectorWidth> Widths()
    {
        var data = new TheoryData<VectorWidth>();
        foreach (VectorWidth w in SupportedWidths())
        {
            data.Add(w);
        }

        return data;
    }

    public static float[] Uniform(Random random, int length, float low, float high)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = low + ((high - low) * (float)random.NextDouble());
        }

        return values;
    }

    public static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));

    /// <summary>A buffer with <paramref name="guard"/> sentinel floats before and after the <paramref name="length"/> floats under test.</summary>
    public sealed class Guarded
    {
        public const float Sentinel = -12345.5f;
        private const int GuardLength = 19;
        private readonly float[] _buffer;

        public Guarded(int length)
        {
            Length = length;
            _buffer = new float[length + (2 * GuardLength)];
            Array.Fill(_buffer, Sentinel);
        }

        public Guarded(float[] contents)
            : this(contents.Length)
        {
            contents.CopyTo(Span);
        }

        public int Length { get; }

        public Span<float> Span => _buffer.AsSpan(GuardLength, Length);

        public float[] ToArray() => Span.ToArray();

        public void AssertGuardsIntact(string name)
        {
            for (int i = 0; i < GuardLength; i++)
            {
                Assert.True(_buffer[i] == Sentinel, $"{name}: wrote before the span (guard {i}).");
                Assert.True(_buffer[GuardLength + Length + i] == Sentinel, $"{name}: wrote past the span (guard {i}).");
            }
        }
    }

    /// <summary>
    /// The float32 batched product's exact order (docs/kernels.md, "Batched float32 tiles"): runs it twice on the same
    /// packed W (a W of 256 KB or more is walked front to back, then back to front: PackedGemv.PassOrder.cs), from y0
    /// (<paramref name="accumulate"/>) or from 0, and checks both passes equal and every output of every input bit for
    /// bit equal to one chain of multiply-adds over the columns in order (fused where the width uses FMA).
    /// </summary>
    public static void AssertBatchEqualsChain(
        ReadOnlySpan<float> packed, float[] w, int rows, int cols, float[] xs, float[] y0, int count, bool accumulate,
        VectorWidth width, string where)
    {
        bool fused = width == VectorWidth.V512 || Fma.IsSupported || AdvSimd.IsSupported;
        int padded = PanelPacking.PaddedRows(rows);
        float[] ys = (float[])y0.Clone();
        float[] again = (float[])y0.Clone();
        foreach (float[] output in new[] { ys, again })
        {
            if (accumulate)
            {
                PackedGemv.MultiplyAddBatch(packed, xs, output, count, width);
            }
            else
            {
                PackedGemv.MultiplyBatch(packed, xs, output, count, width);
            }
        }

        Assert.Equal(ys, again);
        for (int b = 0; b < count; b++)
        {
            for (int r = 0; r < padded; r++)
            {
                float sum = accumulate ? y0[(b * padded) + r] : 0f;
                for (int j = 0; j < cols; j++)
                {
                    float wrj = r < rows ? w[(r * cols) + j] : 0f;
                    float xbj = xs[(b * cols) + j];
                    sum = fused ? MathF.FusedMultiplyAdd(wrj, xbj, sum) : (wrj * xbj) + sum;
                }

                float got = ys[(b * padded) + r];
                Assert.True(BitConverter.SingleToInt32Bits(got) == BitConverter.SingleToInt32Bits(sum),
                    $"{width} {rows}x{cols} count {count} {where} input {b} row {r}: batched {got}, chain {sum}");
            }
        }
    }
}
