// Shared source: the one definition of the int8-dynamic weight layout and of the per-step quantization of a
// kernel's input vector (docs/kernels.md, "Dynamic int8: int8 dot products"), compiled into RnnEmbedded.Runtime
// (the kernels) and into RnnEmbedded.Compiler (the planner packs with it, the reference engine quantizes with it), so
// the generated model and the oracle cannot disagree on either.
using System;

#if RNN_RUNTIME
namespace RnnEmbedded.Runtime.CompilerServices;
#else
namespace RnnEmbedded.Compiler.Emit;
#endif

/// <summary>
/// The dot layout of an int8-dynamic matrix W (rows, cols): rows zero-padded to <c>PaddedRows(rows)</c>, columns
/// zero-padded to a multiple of 4, cut into the panels of <see cref="PanelPacking"/> (64 rows, the last one 16, 32, 48
/// or 64 wide); inside a panel of width w_p, the 4 columns of group g = j / 4 lie together per row:
/// element (r, j) of panel p is at <c>64p·C + g·4w_p + (r − 64p)·4 + j mod 4</c>, C the padded column count. One 32-bit
/// lane of a loaded vector is then one row's 4 weights of one group, which is what <c>vpdpbusd</c> and <c>sdot</c>
/// multiply by 4 bytes of x.
/// </summary>
internal static class Int8DotPacking
{
    /// <summary>The widest input a product takes: 127·127·cols stays below 2^31, so the int32 sums are exact.</summary>
    public const int MaxCols = 131_072;

    /// <summary>cols rounded up to a multiple of 4.</summary>
    public static int PaddedCols(int cols)
    {
        if (cols < 0 || cols > MaxCols)
        {
            ThrowHelper.OutOfRange(nameof(cols), $"{cols} must be in [0, {MaxCols}] (int8-dynamic sums stay exact in int32).");
        }

        return (cols + 3) & ~3;
    }

    /// <summary>Bytes in the packed form of a (rows, cols) matrix: PaddedRows(rows)·PaddedCols(cols).</summary>
    public static int PackedLength(int rows, int cols)
    {
        long length = (long)PanelPacking.PaddedRows(rows) * PaddedCols(cols);
        if (length > int.MaxValue)
        {
            ThrowHelper.OutOfRange(nameof(cols), $"PaddedRows({rows})·PaddedCols({cols}) = {length} bytes exceeds int.MaxValue.");
        }

        return (int)length;
    }

    /// <summary>Index of element (row, col) of a (rows, cols) matrix in its packed form (row and col may reach into the padding).</summary>
    public static int PackedIndex(int row, int col, int rows, int cols)
    {
        int padded = PanelPacking.PaddedRows(rows);
        int paddedCols = PaddedCols(cols);
        if ((uint)row >= (uint)padded)
        {
            ThrowHelper.OutOfRange(nameof(row), $"{row} must be in [0, {padded}).");
        }

        if ((uint)col >= (uint)paddedCols)
        {
            ThrowHelper.OutOfRange(nameof(col), $"{col} must be in [0, {paddedCols}).");
        }

        int panelStart = row - (row % PanelPacking.PanelRows);
        int panelWidth = Math.Min(PanelPacking.PanelRows, padded - panelStart);
        return (panelStart * paddedCols) + ((col >> 2) * 4 * panelWidth) + ((row - panelStart) * 4) + (col & 3);
    }

    /// <summary>
    /// The scale of an input whose largest magnitude is <paramref name="maxAbs"/>: s_x = maxAbs / 127 (float32
    /// division). An input with maxAbs 0 (or NaN) quantizes to zeros and contributes nothing.
    /// </summary>
    public static float Scale(float maxAbs) => maxAbs / 127f;

    /// <summary>The multiplier of <see cref="Quantize"/>: 127 / maxAbs (float32 division).</summary>
    public static float Inverse(float maxAbs) => 127f / maxAbs;

    /// <summary>
    /// One input value: q = round(x · inverse) to nearest, ties to even (one float32 multiply, then the rounding),
    /// clamped to [−127, 127]; NaN gives 0. Every kernel and the reference engine quantize with this.
    /// </summary>
    public static sbyte Quantize(float x, float inverse)
    {
        float t = x * inverse;
#if RNN_RUNTIME
        t = MathF.Round(t);
#else
        t = (float)Math.Round((double)t, MidpointRounding.ToEven); // exact: t is a float32, the rounding is the same
#endif
        return t >= 127f ? (sbyte)127 : t <= -127f ? (sbyte)(-127) : float.IsNaN(t) ? (sbyte)0 : (sbyte)t;
    }
}
