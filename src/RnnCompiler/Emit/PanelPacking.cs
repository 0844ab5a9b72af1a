using System;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Emit;

/// <summary>
/// Packs a row-major matrix into the panel layout that <c>RnnEmbedded.Runtime.Kernels.PackedGemv</c> streams
/// (docs/architecture.md, "Packed weights"):
/// rows zero-padded to a multiple of <see cref="RowAlign"/> (<see cref="PaddedRows"/>); panels of
/// <see cref="PanelRows"/> rows, panel p covering rows [64p, min(64p + 64, PaddedRows)) with width w_p ∈ {16, 32, 48, 64};
/// column-major inside a panel: element (r, j) is at <c>64p·cols + j·w_p + (r − 64p)</c>.
/// The runtime's <c>PackedGemv.PanelRows</c>, <c>RowAlign</c>, <c>PaddedRows</c> and <c>PackedIndex</c> are the same
/// definitions (a test checks they agree).
/// </summary>
public static class PanelPacking
{
    /// <summary>Rows per panel.</summary>
    public const int PanelRows = 64;

    /// <summary>Rows are zero-padded to a multiple of this.</summary>
    public const int RowAlign = 16;

    /// <summary>rows rounded up to a multiple of <see cref="RowAlign"/>.</summary>
    public static int PaddedRows(int rows)
    {
        if (rows < 0 || rows > int.MaxValue - (RowAlign - 1))
        {
            throw new ArgumentOutOfRangeException(nameof(rows), $"rows: {rows} must be in [0, {int.MaxValue - (RowAlign - 1)}].");
        }

        return (rows + (RowAlign - 1)) & ~(RowAlign - 1);
    }

    /// <summary>Index of element (row, col) of a (rows, cols) matrix in its packed form (row may reach into the padding).</summary>
    public static int PackedIndex(int row, int col, int rows, int cols)
    {
        int padded = PaddedRows(rows);
        if (row < 0 || row >= padded)
        {
            throw new ArgumentOutOfRangeException(nameof(row), $"row: {row} must be in [0, {padded}).");
        }

        if (col < 0 || col >= cols)
        {
            throw new ArgumentOutOfRangeException(nameof(col), $"col: {col} must be in [0, {cols}).");
        }

        int panelStart = row - (row % PanelRows);
        int panelWidth = Math.Min(PanelRows, padded - panelStart);
        return (panelStart * cols) + (col * panelWidth) + (row - panelStart);
    }

    /// <summary>Packs <paramref name="matrix"/>; the result has PaddedRows(Rows)·Cols floats.</summary>
    public static float[] Pack(Matrix matrix)
    {
        if (matrix is null)
        {
            throw new ArgumentNullException(nameof(matrix));
        }

        return Pack(matrix.Data, matrix.Rows, matrix.Cols);
    }

    /// <summary>Packs a row-major (rows, cols) matrix: element (r, c) is rowMajor[r·cols + c].</summary>
    public static float[] Pack(float[] rowMajor, int rows, int cols)
    {
        if (rowMajor is null)
        {
            throw new ArgumentNullException(nameof(rowMajor));
        }

        if (cols < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(cols), $"cols: {cols} must be ≥ 0.");
        }

        int padded = PaddedRows(rows);
        if ((long)rows * cols != rowMajor.Length)
        {
            throw new ArgumentException($"rowMajor: length {rowMajor.Length} must equal rows {rows} × cols {cols}.", nameof(rowMajor));
        }

        long length = (long)padded * cols;
        if (length > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(cols), $"cols: PaddedRows({rows})·{cols} = {length} floats exceeds int.MaxValue.");
        }

        var packed = new float[length];
        for (int panelStart = 0; panelStart < padded; panelStart += PanelRows)
        {
            int panelWidth = Math.Min(PanelRows, padded - panelStart);
            int panelBase = panelStart * cols;
            int realRows = Math.Min(panelWidth, rows - panelStart); // padding rows stay 0
            for (int j = 0; j < cols; j++)
            {
                int column = panelBase + (j * panelWidth);
                for (int r = 0; r < realRows; r++)
                {
                    packed[column + r] = rowMajor[((panelStart + r) * cols) + j];
                }
            }
        }

        return packed;
    }
}
