using System;

namespace RnnEmbedded.Compiler.Model;

/// <summary>
/// How a model's streamed matrices (every W the step multiplies by: W_ih, W_hh, W_hr, the head's and the image
/// projection's W) are stored in the generated assembly (docs/model-format.md, "Weight types"). Embedding rows,
/// folded token tables, biases and peepholes stay float32: a step reads one row or one vector of them.
/// </summary>
public enum WeightType
{
    /// <summary>IEEE float32, as trained (the default).</summary>
    Float32,

    /// <summary>bfloat16: float32 rounded to nearest-even in its upper 16 bits (exact for bf16 files).</summary>
    BFloat16,

    /// <summary>int8, symmetric, one float32 scale per output row: W[r, j] ≈ s[r]·q[r, j], |q| ≤ 127.</summary>
    Int8,

    /// <summary>
    /// int8 weights as <see cref="Int8"/>, and each product's input vector quantized per step to int8 as well
    /// (s_x = max|x| / 127), multiplied in integers: AVX-VNNI, ARM sdot or scalar (dynamic quantization).
    /// </summary>
    Int8Dynamic,
}

/// <summary>The spelling of <see cref="WeightType"/> in MSBuild metadata and on the command line.</summary>
public static class WeightTypes
{
    /// <summary>The accepted names, for messages.</summary>
    public const string Names = "float32, bfloat16, int8, int8-dynamic";

    /// <summary>Parses float32 (also fp32, f32, empty), bfloat16 (bf16), int8 (i8) or int8-dynamic (int8dynamic, int8-dyn), case-insensitive.</summary>
    public static bool TryParse(string? text, out WeightType type)
    {
        switch ((text ?? "").Trim().ToLowerInvariant())
        {
            case "":
            case "float32":
            case "fp32":
            case "f32":
                type = WeightType.Float32;
                return true;
            case "bfloat16":
            case "bf16":
                type = WeightType.BFloat16;
                return true;
            case "int8":
            case "i8":
                type = WeightType.Int8;
                return true;
            case "int8-dynamic":
            case "int8dynamic":
            case "int8-dyn":
                type = WeightType.Int8Dynamic;
                return true;
            default:
                type = WeightType.Float32;
                return false;
        }
    }

    /// <summary>The canonical name: float32, bfloat16, int8 or int8-dynamic.</summary>
    public static string Name(WeightType type) => type switch
    {
        WeightType.BFloat16 => "bfloat16",
        WeightType.Int8 => "int8",
        WeightType.Int8Dynamic => "int8-dynamic",
        WeightType.Float32 => "float32",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a WeightType."),
    };
}
