using System;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Reference;

// int8-dynamic products (docs/model-format.md, "Weight types"): the math of the runtime's PackedInt8DotMatrix kernels,
// written plainly. x is quantized with the shared Int8DotPacking definition (the kernels compile the same source).
public sealed partial class ReferenceEngine
{
    /// <summary>
    /// (float)(Σ_j q_w[r, j]·q_x[j]) · (s_w[r] · s_x): x (the whole vector of this product) quantized with
    /// s_x = max|x| / 127, q_x = round-to-even(x · (127 / max|x|)); 0 when x is all zeros.
    /// </summary>
    private static float DynamicRowDot(QuantizedMatrix w, int cols, int row, float[] x)
    {
        float maxAbs = 0f;
        foreach (float v in x)
        {
            float a = Math.Abs(v);
            if (a > maxAbs)
            {
                maxAbs = a;
            }
        }

        if (!(maxAbs > 0f))
        {
            return 0f;
        }

        float inverse = Int8DotPacking.Inverse(maxAbs);
        int sum = 0;
        long offset = (long)row * cols;
        for (int j = 0; j < cols; j++)
        {
            sum += w.Int8![offset + j] * Int8DotPacking.Quantize(x[j], inverse);
        }

        return sum * (w.Scales![row] * Int8DotPacking.Scale(maxAbs));
    }
}
