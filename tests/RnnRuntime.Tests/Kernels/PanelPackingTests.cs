using RnnEmbedded.Runtime.CompilerServices;

namespace RnnEmbedded.Tests.Kernels;

public sealed class PanelPackingTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 16)]
    [InlineData(15, 16)]
    [InlineData(16, 16)]
    [InlineData(17, 32)]
    [InlineData(148, 160)]
    [InlineData(1024, 1024)]
    public void PaddedRows_RoundsUpToMultipleOf16(int rows, int expected) =>
        Assert.Equal(expected, PanelPacking.PaddedRows(rows));

    [Fact]
    public void Pack_148x3_PlacesElementsByPanelFormula_HandComputed()
    {
        // 148 rows → 160 padded → panels of 64, 64, 32 rows. Element (r, c) gets value 1000·r + c + 1.
        const int Rows = 148, Cols = 3;
        var data = new float[Rows * Cols];
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Cols; c++)
            {
                data[(r * Cols) + c] = (1000 * r) + c + 1;
            }
        }

        float[] packed = PanelPacking.Pack(data, Rows, Cols);

        Assert.Equal(160 * 3, packed.Length);
        Assert.Equal(1f, packed[0]);                      // (0, 0): panel 0, column 0, lane 0
        Assert.Equal(1000f + 1, packed[1]);               // (1, 0): next lane of the same column
        Assert.Equal(63_000f + 1, packed[63]);            // (63, 0): last lane of panel 0's column 0
        Assert.Equal(2f, packed[64]);                     // (0, 1): panel 0, column 1 starts at 1·64
        Assert.Equal((1000f * 5) + 3, packed[(2 * 64) + 5]); // (5, 2)
        Assert.Equal(64_000f + 1, packed[192]);           // (64, 0): panel 1 starts at 64·3
        Assert.Equal(100_000f + 2, packed[192 + 64 + 36]); // (100, 1)
        Assert.Equal(130_000f + 3, packed[384 + (2 * 32) + 2]); // (130, 2): panel 2 (width 32) at 128·3 = 384
        Assert.Equal(147_000f + 1, packed[384 + 19]);     // (147, 0): last real row
        Assert.Equal(0f, packed[384 + 20]);               // (148, 0): padding
        Assert.Equal(0f, packed[384 + 64 + 31]);          // (159, 2): last padding lane
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(17, 5)]
    [InlineData(37, 13)]
    [InlineData(65, 3)]
    [InlineData(200, 7)]
    public void Pack_EveryElementAtDocumentedIndex_AndPaddingIsZero(int rows, int cols)
    {
        var data = new float[rows * cols];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = i + 1; // all non-zero, all distinct
        }

        float[] packed = PanelPacking.Pack(data, rows, cols);
        int padded = PanelPacking.PaddedRows(rows);
        Assert.Equal(padded * cols, packed.Length);
        var seen = new bool[packed.Length];
        for (int r = 0; r < padded; r++)
        {
            int p = r / 64;
            int width = Math.Min(64, padded - (64 * p));
            for (int c = 0; c < cols; c++)
            {
                int index = (64 * p * cols) + (c * width) + (r - (64 * p)); // docs/architecture.md formula
                Assert.Equal(index, PanelPacking.PackedIndex(r, c, rows, cols));
                Assert.False(seen[index], $"index {index} used twice");
                seen[index] = true;
                Assert.Equal(r < rows ? data[(r * cols) + c] : 0f, packed[index]);
            }
        }

        Assert.All(seen, Assert.True); // a bijection onto the packed array
    }

    [Fact]
    public void Pack_RejectsWrongDataLength_NamingRowMajor()
    {
        var e = Assert.Throws<ArgumentException>(() => PanelPacking.Pack(new float[10], 3, 4));
        Assert.Equal("rowMajor", e.ParamName);
        Assert.Contains("rows 3 × cols 4", e.Message);
    }

    [Fact]
    public void Pack_RejectsNegativeRows()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PanelPacking.Pack(new float[0], -1, 0));
        Assert.Equal("rows", e.ParamName);
    }
}
