using System.Collections.Generic;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Emit;

// Seq2seq models: the decoder is planned like any token model; the encoder like a token model of its own, written
// as the nested struct SourceEncoder, whose final state Encode copies into the decoder (docs/model-format.md).
public static partial class ModelPlanner
{
    /// <summary>The nested struct a seq2seq model's encoder stack becomes.</summary>
    public const string EncoderTypeName = "SourceEncoder";

    private static ModelPlan? PlanEncoder(ModelSpec spec, EmitOptions options)
    {
        if (spec.Encoder is not { } encoder)
        {
            return null;
        }

        if (encoder.RunOnly || spec.RunOnly || !encoder.HasTokenInput || encoder.Layers.Count != spec.Layers.Count)
        {
            throw new CSharpEmitter.EmitException(
                "unsupported",
                "a seq2seq model needs a forward token-input encoder with as many layers as its forward decoder.");
        }

        for (int l = 0; l < encoder.Layers.Count; l++)
        {
            if (encoder.Layers[l].StateSize != spec.Layers[l].StateSize)
            {
                throw new CSharpEmitter.EmitException(
                    "unsupported",
                    $"seq2seq layer {l}: the encoder's h has {encoder.Layers[l].StateSize} values, the decoder's {spec.Layers[l].StateSize}; they must be equal.");
            }
        }

        var encoderOptions = new EmitOptions
        {
            TypeName = EncoderTypeName,
            MaxVectorWidth = options.MaxVectorWidth,
            SourceName = options.SourceName,
            GeneratorVersion = options.GeneratorVersion,
            Storage = options.Storage, // resource storage: the encoder's entries are placed in the decoder's blob
            WeightType = options.WeightType, // a quantized seq2seq model quantizes its encoder's matrices too
        };
        return Plan(encoder, encoderOptions, nested: true);
    }

    private static IReadOnlyList<bool> PlanCarryCell(ModelSpec spec)
    {
        if (spec.Encoder is not { } encoder)
        {
            return System.Array.Empty<bool>();
        }

        var carry = new List<bool>();
        for (int l = 0; l < spec.Layers.Count; l++)
        {
            carry.Add(ModelBuilder.CarriesCellState(encoder.Layers[l], spec.Layers[l]));
        }

        return carry;
    }
}
