using System.Collections.Generic;
using System.Text;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Emit;

/// <summary>Planning layer stacks: input layers, the head MLP and the output function (docs/model-format.md).</summary>
public static partial class ModelPlanner
{
    private static IReadOnlyList<DenseLayerPlan> PlanDenseLayers(IReadOnlyList<DenseSpec> layers, string prefix, string what, List<WeightEntry> weights)
    {
        var plans = new List<DenseLayerPlan>(layers.Count);
        for (int i = 0; i < layers.Count; i++)
        {
            DenseSpec d = layers[i];
            string name = prefix + Int(i);
            string act = MetadataKeys.ToText(d.Activation);
            weights.Add(Packed(name + "_W", $"{what} {i} W ({d.W.Rows}, {d.W.Cols}) packed", d.W));
            weights.Add(new WeightEntry(name + "_b", $"{what} {i} b ({d.W.Rows},) padded", PadVector(d.b, d.W.Rows)));
            plans.Add(new DenseLayerPlan
            {
                Prefix = name,
                Description = $"{what} {i}: {act}(W x + b), W ({d.W.Rows}, {d.W.Cols}){(d.b is null ? ", no bias" : "")}",
                InputSize = d.InputSize,
                OutputSize = d.OutputSize,
                PaddedOutputSize = Pad(d.OutputSize),
                ActivationKernel = ActivationKernel(d.Activation),
            });
        }

        return plans;
    }

    /// <summary>The runtime kernel for a dense activation (<c>Activations.*</c>), null for identity.</summary>
    private static string? ActivationKernel(DenseActivation activation) => activation switch
    {
        DenseActivation.Relu => "Activations.Relu",
        DenseActivation.Tanh => "Activations.Tanh",
        DenseActivation.Sigmoid => "Activations.Sigmoid",
        _ => null,
    };

    private static void AppendDenseShapes(StringBuilder sb, IReadOnlyList<DenseSpec> layers)
    {
        foreach (DenseSpec d in layers)
        {
            sb.Append(" → Dense (").Append(Int(d.OutputSize));
            if (d.Activation != DenseActivation.Identity)
            {
                sb.Append(", ").Append(MetadataKeys.ToText(d.Activation));
            }

            sb.Append(')');
        }
    }

    private static void AppendOutputShape(StringBuilder sb, OutputFunction output)
    {
        if (output != OutputFunction.None)
        {
            sb.Append(" → ").Append(MetadataKeys.ToText(output));
        }
    }
}
