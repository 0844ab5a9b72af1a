using System.ComponentModel;

namespace RnnEmbedded.Runtime.CompilerServices;

/// <summary>
/// An int8 matrix in the panel layout of <see cref="PackedGemv"/> with one float32 scale per (padded) row:
/// W[r, j] ≈ <c>RowScales[r] · Weights[PackedIndex(r, j)]</c> (symmetric, per output row; docs/kernels.md,
/// "Quantized weights"). Generated code builds one per int8 weight matrix over its embedded data; it holds two
/// spans and copies nothing.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly ref struct PackedInt8Matrix
{
    /// <summary>Wraps packed int8 weights and their per-row scales.</summary>
    /// <param name="weights">PaddedRows · cols int8 values in the panel layout.</param>
    /// <param name="rowScales">PaddedRows scales (padding rows 0).</param>
    public PackedInt8Matrix(ReadOnlySpan<sbyte> weights, ReadOnlySpan<float> rowScales)
    {
        Weights = weights;
        RowScales = rowScales;
    }

    /// <summary>The int8 weights, panel layout.</summary>
    public ReadOnlySpan<sbyte> Weights { get; }

    /// <summary>One scale per padded row.</summary>
    public ReadOnlySpan<float> RowScales { get; }
}
