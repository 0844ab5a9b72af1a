using System;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Reference;

// int8-dynamic products (docs/model-format.md, "Weight types"): the math of the runtime's PackedInt8DotMatrix kernels,
// written plainly. x is quantized with the shared Int8DotPacking definition (the kernels compile the same source).
public sealed partial class ReferenceEngine
{
    /// <summary>
    /// One step in lockstep with another engine (int8-dynamic parity, docs/kernels.md "Dynamic int8: parity"): like
    /// <see cref="Step(int, float[])"/>, but layer l ≥ 1 takes <paramref name="otherHidden"/>[l − 1] — the other engine's
    /// new h of layer l − 1 in this step — as its input, and the head takes the last one, so every product between
    /// layers quantizes the other engine's bits. This engine's own new h stays in its state (compare it with the other's).
    /// </summary>
    public void StepLockstep(int token, float[][] otherHidden, float[] output)
    {
        RequireUnidirectional();
        CheckToken(_spec, token, nameof(token));
        StepLayersLockstep(TokenInput(_spec, token), otherHidden, output);
    }

    /// <summary>Dense-input form of <see cref="StepLockstep(int, float[][], float[])"/>.</summary>
    public void StepLockstep(float[] input, float[][] otherHidden, float[] output)
    {
        RequireUnidirectional();
        CheckDense(_spec, input, nameof(input));
        StepLayersLockstep(ApplyInputLayers(_spec, input), otherHidden, output);
    }

    private void StepLayersLockstep(float[] x, float[][] otherHidden, float[] output)
    {
        if (otherHidden is null || otherHidden.Length != _spec.Layers.Count)
        {
            throw new ArgumentException($"otherHidden needs one h per layer ({_spec.Layers.Count}).", nameof(otherHidden));
        }

        CheckOutput(output);
        for (int k = 0; k < _spec.Layers.Count; k++)
        {
            LayerSpec layer = _spec.Layers[k];
            CellStep(layer, layer.Forward, x, _h[k], _c[k]);
            x = otherHidden[k];
        }

        float[] y = ApplyHead(_spec, x);
        Array.Copy(y, output, y.Length);
    }

    /// <summary>
    /// A product's whole input x quantized: s_x = max|x| / 127, q_x = round-to-even(x · (127 / max|x|)); s_x is 0 (and
    /// q_x all zeros) when x is all zeros.
    /// </summary>
    private static sbyte[] QuantizeInput(float[] x, out float scale)
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

        var q = new sbyte[x.Length];
        if (!(maxAbs > 0f))
        {
            scale = 0f;
            return q;
        }

        float inverse = Int8DotPacking.Inverse(maxAbs);
        for (int j = 0; j < x.Length; j++)
        {
            q[j] = Int8DotPacking.Quantize(x[j], inverse);
        }

        scale = Int8DotPacking.Scale(maxAbs);
        return q;
    }

    /// <summary>(float)(Σ_j q_w[r, j]·q_x[j]) · (s_w[r] · s_x), the sum exact in int32; 0 for a zero input.</summary>
    private static float DynamicRowDot(QuantizedMatrix w, int cols, int row, sbyte[] qx, float sx)
    {
        if (sx == 0f)
        {
            return 0f;
        }

        int sum = 0;
        long offset = (long)row * cols;
        for (int j = 0; j < cols; j++)
        {
            sum += w.Int8![offset + j] * qx[j];
        }

        return sum * (w.Scales![row] * sx);
    }
}
