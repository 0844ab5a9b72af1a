// Shared source: the one definition of the packed-weight layout, compiled into RnnEmbedded.Runtime (namespace
// RnnEmbedded.Runtime.CompilerServices, beside PackedGemv, which streams it) and into RnnEmbedded.Compiler and the
// generator (namespace RnnEmbedded.Compiler.Emit, where the emitter packs weights at build time).
using System;
#if !RNN_RUNTIME
using RnnEmbedded.Compiler.Model;
#endif

#if RNN_RUNTIME
namespace RnnEmbedded.Runtime.CompilerServices;
#else
namespace RnnEmbedded.Compiler.Emit;
#endif

/// <summary>
/// The panel layout of docs/architecture.md ("Packed weights"). A matrix W (rows, cols) is stored with rows
/// zero-padded to <c>PaddedRows(rows)</c> (a multiple of <see cref="RowAlign"/>), cut into panels of
/// <see cref="PanelRows"/> rows (the last one 16, 32, 48 or 64 wide), column-major inside a panel: element (r, j)
/// of panel p (width w_p) is at <c>64p·cols + j·w_p + (r − 64p)</c>.
/// </summary>
internal static class PanelPacking
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
            ThrowHelper.OutOfRange(nameof(rows), $"{rows} must be in [0, {int.MaxValue - (RowAlign - 1)}].");
        }

        return (rows + (RowAlign - 1)) & ~(RowAlign - 1);
    }

    /// <summary>Floats in the packed form of a (rows, cols) matrix: PaddedRows(rows)·cols.</summary>
    public static int PackedLength(int rows, int cols)
    {
        if (cols < 0)
        {
            ThrowHelper.OutOfRange(nameof(cols), $"{cols} must be ≥ 0.");
        }

        long length = (long)PaddedRows(rows) * cols;
        if (length > int.MaxValue)
        {
            ThrowHelper.OutOfRange(nameof(cols), $"PaddedRows({rows})·{cols} = {length} floats exceeds int.MaxValue.");
        }

        return (int)length;
    }

    /// <summary>Index of element (row, col) of a (rows, cols) matrix in its packed form (row may reach into the padding).</summary>
    public static int PackedIndex(int row, int col, int rows, int cols)
    {
        int padded = PaddedRows(rows);
        if ((uint)row >= (uint)padded)
        {
            ThrowHelper.OutOfRange(nameof(row), $"{row} must be in [0, {padded}).");
        }

        if ((uint)col >= (uint)cols)
        {
            ThrowHelper.OutOfRange(nameof(col), $"{col} must be in [0, {cols}).");
        }

        int panelStart = row - (row % PanelRows);
        int panelWidth = Math.Min(PanelRows, padded - panelStart);
        return (panelStart * cols) + (col * panelWidth) + (row - panelStart);
    }

    /// <summary>
    /// Packs a row-major (rows, cols) matrix (element (r, c) is rowMajor[r·cols + c]) into
    /// <paramref name="packed"/>, PackedLength(rows, cols) floats; the padding is written as 0.
    /// </summary>
#if RNN_RUNTIME
    public static void Pack(ReadOnlySpan<float> rowMajor, int rows, int cols, Span<float> packed)
#else
    public static void Pack(float[] rowMajor, int rows, int cols, float[] packed)
#endif
    {
        int length = PackedLength(rows, cols);
        if (rowMajor.Length != (long)rows * cols)
        {
            ThrowHelper.Length(nameof(rowMajor), $"length {rowMajor.Length} must equal rows {rows} × cols {cols}.");
        }

        if (packed.Length != length)
        {
            ThrowHelper.Length(nameof(packed), $"length {packed.Length} must equal PaddedRows({rows}) × cols {cols} = {length}.");
        }

        int padded = PaddedRows(rows);
        for (int panelStart = 0; panelStart < padded; panelStart += PanelRows)
        {
            int panelWidth = Math.Min(PanelRows, padded - panelStart);
            int panelBase = panelStart * cols;
            for (int j = 0; j < cols; j++)
            {
                int column = panelBase + (j * panelWidth);
                for (int r = 0; r < panelWidth; r++)
                {
                    int row = panelStart + r;
                    packed[column + r] = row < rows ? rowMajor[(row * cols) + j] : 0f;
                }
            }
        }
    }

    /// <summary>Packs a row-major (rows, cols) matrix into a new array of PackedLength(rows, cols) floats.</summary>
    public static float[] Pack(float[] rowMajor, int rows, int cols)
    {
        if (rowMajor is null)
        {
            throw new ArgumentNullException(nameof(rowMajor));
        }

        var packed = new float[PackedLength(rows, cols)];
        Pack(rowMajor, rows, cols, packed);
        return packed;
    }
#if !RNN_RUNTIME

    /// <summary>Packs <paramref name="matrix"/>; the result has PaddedRows(Rows)·Cols floats.</summary>
    public static float[] Pack(Matrix matrix)
    {
        if (matrix is null)
        {
            throw new ArgumentNullException(nameof(matrix));
        }

        return Pack(matrix.Data, matrix.Rows, matrix.Cols);
    }
#endif
}
