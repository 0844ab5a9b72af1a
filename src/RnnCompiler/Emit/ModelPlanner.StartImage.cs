using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Emit;

/// <summary>
/// The caption decoder's start from the zero state (<c>StartImage</c>, docs/decoding.md "Caption decoding"): which
/// recurrent products it may skip without changing a bit.
/// </summary>
public static partial class ModelPlanner
{
    /// <summary>
    /// True when W_hh·h with h = 0 leaves the layer's gate buffers bit for bit as they are. Every product term is then
    /// w·0 = ±0 (w finite; the kernels' scales, bfloat16 widening and int8 dequantization keep it finite), and in
    /// round-to-nearest y + (±0) = y for every y except y = −0, which may turn into +0 (and whether it does depends on
    /// the kernel's summation order). A gate buffer starts at the bias (b_ih + b_hh where exact, and (0, 0, b_hn) for
    /// the reset-after GRU's W_hh buffer) and an IEEE sum is −0 only when every addend is, so a gate is never −0 before
    /// the recurrent product unless its bias entry is: no −0 bias and finite stored W_hh make the skip exact.
    /// int8-dynamic products leave y untouched for x = 0 (PackedGemv.Int8Dot.cs) and need no condition, but the check
    /// is the same for every weight type.
    /// </summary>
    internal static bool ZeroStateSkipsRecurrent(LayerSpec layer, DirectionWeights d, float[] bias, WeightType weightType)
    {
        if (HasNegativeZero(bias))
        {
            return false;
        }

        if (Variant(layer) == CellVariant.GruResetAfter && d.b_hh is { } bhh)
        {
            int h = layer.HiddenSize;
            for (int r = 2 * h; r < 3 * h; r++)
            {
                if (IsNegativeZero(bhh[r]))
                {
                    return false;
                }
            }
        }

        foreach (float w in d.W_hh.Data)
        {
            float stored = weightType == WeightType.BFloat16 ? WeightQuantizer.FromBFloat16(WeightQuantizer.ToBFloat16(w)) : w;
            if (float.IsNaN(stored) || float.IsInfinity(stored))
            {
                return false;
            }
        }

        return true;
    }

    private static bool HasNegativeZero(float[] values)
    {
        foreach (float v in values)
        {
            if (IsNegativeZero(v))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsNegativeZero(float v) => v == 0f && float.IsNegativeInfinity(1f / v); // netstandard2.0: no IsNegative
}
