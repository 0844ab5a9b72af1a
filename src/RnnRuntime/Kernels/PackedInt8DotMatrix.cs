using System.ComponentModel;

namespace RnnEmbedded.Runtime.CompilerServices;

/// <summary>
/// An int8-dynamic matrix: int8 weights with one float32 scale per (padded) row, W[r, j] ≈ <c>RowScales[r] · q[r, j]</c>,
/// in the dot layout (4 columns of a row together; docs/kernels.md, "Dynamic int8: int8 dot products"). Its products
/// quantize x per call to int8 too and multiply in integers (AVX-VNNI, ARM sdot, or scalar; all exact). Generated
/// code builds one per matrix of a model built with <c>WeightType="int8-dynamic"</c>; it holds two spans and copies
/// nothing.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly ref struct PackedInt8DotMatrix
{
    /// <summary>Wraps int8 weights in the dot layout and their per-row scales.</summary>
    /// <param name="weights">PaddedRows · PaddedCols int8 values (PaddedCols = cols rounded up to a multiple of 4).</param>
    /// <param name="rowScales">PaddedRows scales (padding rows 0).</param>
    public PackedInt8DotMatrix(ReadOnlySpan<sbyte> weights, ReadOnlySpan<float> rowScales)
    {
        Weights = weights;
        RowScales = rowScales;
    }

    /// <summary>The int8 weights, dot layout.</summary>
    public ReadOnlySpan<sbyte> Weights { get; }

    /// <summary>One scale per padded row.</summary>
    public ReadOnlySpan<float> RowScales { get; }
}
