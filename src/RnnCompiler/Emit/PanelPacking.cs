using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Emit;

// TEMPORARY lead copy; replaced by the kernels branch version on merge.
public static class PanelPacking
{
    public const int PanelRows = 64;
    public const int RowAlign = 16;

    public static int PaddedRows(int rows) => (rows + RowAlign - 1) / RowAlign * RowAlign;

    public static float[] Pack(Matrix m) => Pack(m.Data, m.Rows, m.Cols);

    public static float[] Pack(float[] rowMajor, int rows, int cols)
    {
        int padded = PaddedRows(rows);
        var packed = new float[(long)padded * cols];
        for (int p0 = 0; p0 < padded; p0 += PanelRows)
        {
            int w = System.Math.Min(PanelRows, padded - p0);
            long baseOffset = (long)p0 * cols;
            for (int j = 0; j < cols; j++)
            {
                for (int r = 0; r < w; r++)
                {
                    int row = p0 + r;
                    packed[baseOffset + (long)j * w + r] = row < rows ? rowMajor[(long)row * cols + j] : 0f;
                }
            }
        }

        return packed;
    }
}
