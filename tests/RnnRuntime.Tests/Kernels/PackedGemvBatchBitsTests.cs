using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;
using static RnnEmbedded.Tests.Kernels.KernelTestSupport;

namespace RnnEmbedded.Tests.Kernels;

/// <summary>
/// The float32 batched product's exact order (docs/kernels.md, "Batched float32 tiles"): every output of every input is
/// one chain of fused multiply-adds over the columns in order, from y (MultiplyAddBatch) or from 0 (MultiplyBatch),
/// whatever the tile shape, the count, the vector width, or where the weights sit relative to a 64-byte line (the
/// Vector512 stream tile reads full panels in aligned blocks). Compared bit for bit with that chain written out here.
/// </summary>
public sealed class PackedGemvBatchBitsTests
{
    private static readonly (int Rows, int Cols)[] s_shapes =
    [
        (64, 1), (64, 3), (16, 5), (128, 37), (192, 128), (112, 300), (256, 257), (208, 600),
    ];

    private static readonly int[] s_counts = [1, 2, 3, 4, 5, 6, 7, 8, 9, 17];

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
    public void Batch_EqualsTheColumnOrderFmaChain_BitForBit_AtEveryWeightMisalignment(
        VectorWidth width, bool accumulate)
    {
        var random = new Random(4242);
        int shapeIndex = 0;
        foreach ((int rows, int cols) in s_shapes)
        {
            float[] w = Uniform(random, rows * cols, -1f, 1f);
            float[] packed = PanelPacking.Pack(w, rows, cols);
            int padded = PanelPacking.PaddedRows(rows);

            // The packed weights at 16 offsets of 4 bytes inside a NaN-filled buffer: every position relative to a
            // 64-byte line, and any float the kernel read outside the matrix would turn a result into NaN.
            var buffer = new float[packed.Length + 32];
            for (int offset = 0; offset < 16; offset++)
            {
                Array.Fill(buffer, float.NaN);
                packed.CopyTo(buffer, offset);
                ReadOnlySpan<float> weights = buffer.AsSpan(offset, packed.Length);
                int count = s_counts[(offset + shapeIndex) % s_counts.Length];
                float[] xs = Uniform(random, count * cols, -2f, 2f);
                float[] y0 = Uniform(random, count * padded, -3f, 3f);
                // Twice on the same weights: a W of 256 KB or more (the last shape) is walked front to back, then back
                // to front (PackedGemv.PassOrder.cs); both passes must give the chain's bits.
                AssertBatchEqualsChain(weights, w, rows, cols, xs, y0, count, accumulate, width, $"offset {offset}");
            }

            shapeIndex++;
        }
    }
}
