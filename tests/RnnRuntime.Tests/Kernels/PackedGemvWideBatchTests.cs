using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;
using static RnnEmbedded.Tests.Kernels.KernelTestSupport;

namespace RnnEmbedded.Tests.Kernels;

/// <summary>
/// The batched product for 9..16 inputs (at Vector512 PackedGemv.Batch512Wide.cs: 8 + 1..8 inputs per 64-column block,
/// the next block prefetched): every count from 9 to 16 over W shapes with full and narrower last panels, several
/// blocks per panel, a second column chunk (600 columns) and a W of 256 KB or more walked front to back and then back
/// to front — each output bit for bit the chain of fused multiply-adds over the columns in order.
/// </summary>
public sealed class PackedGemvWideBatchTests
{
    private static readonly (int Rows, int Cols)[] s_shapes = [(176, 384), (208, 600), (64, 130)];

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
    public void Batch_NineToSixteenInputs_EqualsTheColumnOrderFmaChain_BitForBit(VectorWidth width, bool accumulate)
    {
        var random = new Random(916);
        foreach ((int rows, int cols) in s_shapes)
        {
            float[] w = Uniform(random, rows * cols, -1f, 1f);
            float[] packed = PanelPacking.Pack(w, rows, cols);
            int padded = PanelPacking.PaddedRows(rows);
            for (int count = 9; count <= 16; count++)
            {
                float[] xs = Uniform(random, count * cols, -2f, 2f);
                float[] y0 = Uniform(random, count * padded, -3f, 3f);
                AssertBatchEqualsChain(packed, w, rows, cols, xs, y0, count, accumulate, width, "");
            }
        }
    }
}
