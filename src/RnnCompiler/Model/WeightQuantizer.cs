using System;
using System.Collections.Generic;
using RnnEmbedded.Compiler.Emit;

namespace RnnEmbedded.Compiler.Model;

/// <summary>One matrix in a <see cref="WeightType"/>: the stored values and the float32 values they stand for.</summary>
public sealed class QuantizedMatrix
{
    internal QuantizedMatrix(WeightType type, Matrix dequantized, ushort[]? bfloat16, sbyte[]? int8, float[]? scales)
    {
        Type = type;
        Dequantized = dequantized;
        BFloat16 = bfloat16;
        Int8 = int8;
        Scales = scales;
    }

    public WeightType Type { get; }

    /// <summary>The exact float32 value of every stored weight, row-major: what the reference engine multiplies by.</summary>
    public Matrix Dequantized { get; }

    /// <summary>BFloat16: the bit patterns, row-major (rows, cols).</summary>
    public ushort[]? BFloat16 { get; }

    /// <summary>Int8: the values, row-major (rows, cols).</summary>
    public sbyte[]? Int8 { get; }

    /// <summary>Int8: one scale per row.</summary>
    public float[]? Scales { get; }
}

/// <summary>
/// The quantization of docs/model-format.md ("Weight types"), the one definition both the emitter (which stores
/// the quantized values) and the reference engine (which runs on <see cref="Apply"/>'s dequantized spec) use, so the
/// generated model and the oracle compute the same math.
/// </summary>
public static class WeightQuantizer
{
    /// <summary>float32 → bfloat16 bits, round to nearest, ties to even; NaN stays a (quiet) NaN, ±∞ stays ±∞.</summary>
    public static ushort ToBFloat16(float value)
    {
        uint bits = FloatBits(value);
        if ((bits & 0x7FFF_FFFFu) > 0x7F80_0000u)
        {
            return (ushort)((bits >> 16) | 0x0040u); // NaN: keep sign and payload top, force quiet
        }

        uint rounded = bits + 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)(rounded >> 16);
    }

    /// <summary>bfloat16 bits → float32 (exact).</summary>
    public static float FromBFloat16(ushort bits) => BitsFloat((uint)bits << 16);

    /// <summary>
    /// Int8 per row: s = max|W[r, :]| / 127 (0 for an all-zero row), q = round(W / s) to nearest-even, clamped to
    /// [−127, 127]; the dequantized value is the float32 product s·q.
    /// </summary>
    public static QuantizedMatrix Quantize(Matrix m, WeightType type)
    {
        switch (type)
        {
            case WeightType.Float32:
                return new QuantizedMatrix(type, m, null, null, null);
            case WeightType.BFloat16:
            {
                var bits = new ushort[m.Data.Length];
                var values = new float[m.Data.Length];
                for (int k = 0; k < bits.Length; k++)
                {
                    bits[k] = ToBFloat16(m.Data[k]);
                    values[k] = FromBFloat16(bits[k]);
                }

                return new QuantizedMatrix(type, new Matrix(m.Rows, m.Cols, values), bits, null, null);
            }

            case WeightType.Int8:
            {
                var q = new sbyte[m.Data.Length];
                var values = new float[m.Data.Length];
                var scales = new float[m.Rows];
                for (int r = 0; r < m.Rows; r++)
                {
                    long start = (long)r * m.Cols;
                    float max = 0f;
                    for (int j = 0; j < m.Cols; j++)
                    {
                        float a = Math.Abs(m.Data[start + j]);
                        if (a > max)
                        {
                            max = a;
                        }
                    }

                    float s = max / 127f;
                    scales[r] = s;
                    for (int j = 0; j < m.Cols; j++)
                    {
                        double v = s == 0f ? 0.0 : Math.Round(m.Data[start + j] / (double)s, MidpointRounding.ToEven);
                        sbyte qv = (sbyte)Math.Max(-127.0, Math.Min(127.0, v));
                        q[start + j] = qv;
                        values[start + j] = s * qv;
                    }
                }

                return new QuantizedMatrix(type, new Matrix(m.Rows, m.Cols, values), null, q, scales);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "not a WeightType.");
        }
    }

    /// <summary>
    /// The spec the generated model with weights of <paramref name="type"/> computes: every streamed matrix
    /// replaced by its dequantized values; everything else (embedding, biases, peepholes, and layer 0's W_ih when
    /// the emitter has a float32 token table for it) unchanged; a seq2seq encoder is quantized by the same rules.
    /// Float32 returns <paramref name="spec"/> itself.
    /// </summary>
    public static ModelSpec Apply(ModelSpec spec, WeightType type)
    {
        if (type == WeightType.Float32)
        {
            return spec;
        }

        bool tokenTable = ModelPlanner.UsesTokenTable(spec);
        Matrix Q(Matrix m) => Quantize(m, type).Dequantized;
        DirectionWeights Direction(DirectionWeights d, bool keepInput) => new()
        {
            W_ih = keepInput ? d.W_ih : Q(d.W_ih),
            W_hh = Q(d.W_hh),
            b_ih = d.b_ih,
            b_hh = d.b_hh,
            W_hr = d.W_hr is null ? null : Q(d.W_hr),
            Peepholes = d.Peepholes,
        };

        var layers = new List<LayerSpec>();
        for (int l = 0; l < spec.Layers.Count; l++)
        {
            LayerSpec layer = spec.Layers[l];
            // With a token table, layer 0's W_ih is folded into it (float32); a one-hot caption decoder also multiplies
            // the projected image by W_ih, once per caption, and keeps it float32 so table and product agree.
            bool keepInput = l == 0 && tokenTable;
            layers.Add(new LayerSpec
            {
                Cell = layer.Cell,
                InputSize = layer.InputSize,
                HiddenSize = layer.HiddenSize,
                ProjectionSize = layer.ProjectionSize,
                Activation = layer.Activation,
                GruForm = layer.GruForm,
                Cifg = layer.Cifg,
                Clip = layer.Clip,
                Forward = Direction(layer.Forward, keepInput),
                Backward = layer.Backward is null ? null : Direction(layer.Backward, keepInput),
                Reverse = layer.Reverse,
            });
        }

        return new ModelSpec
        {
            InputKind = spec.InputKind,
            InputSize = spec.InputSize,
            Embedding = spec.Embedding,
            ImageProjection = spec.ImageProjection is null ? null : new DenseSpec { W = Q(spec.ImageProjection.W), b = spec.ImageProjection.b },
            Layers = layers,
            Head = spec.Head is null ? null : new DenseSpec { W = Q(spec.Head.W), b = spec.Head.b, Activation = spec.Head.Activation },
            Vocabulary = spec.Vocabulary,
            Task = spec.Task,
            Labels = spec.Labels,

            // A seq2seq encoder is planned as a model of its own with the same weight type (ModelPlanner.Seq2Seq.cs).
            Encoder = spec.Encoder is null ? null : Apply(spec.Encoder, type),
            Metadata = spec.Metadata,

            // Input and head hidden layers (docs/model-format.md, layer stacks) stay float32: the planner packs them as is.
            InputLayers = spec.InputLayers,
            HeadLayers = spec.HeadLayers,
            Output = spec.Output,
        };
    }

    private static unsafe uint FloatBits(float value) => *(uint*)&value;

    private static unsafe float BitsFloat(uint bits) => *(float*)&bits;
}
