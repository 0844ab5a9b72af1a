using System.Globalization;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Trainer;

// Layer stacks (docs/training.md, "Layer stacks"): dense input layers before recurrent layer 0 (dense input only)
// and the head's hidden layers before its output layer.
public sealed partial record NetworkShape
{
    private void ValidateLayerStacks()
    {
        IReadOnlyList<DenseLayerShape> inputs = InputLayers ?? [], head = HeadLayers ?? [];
        Check(inputs.Count == 0 || IsRegression, "--input-layers needs dense input (--task regress): a token model starts from its embedding");
        Check(head.Count == 0 || Head, "--head-layers needs a network with a head");
        Check(head.Count == 0 || Encoder is null, "--head-layers is not supported with --task seq2seq");
        foreach (DenseLayerShape layer in inputs.Concat(head))
        {
            Check(layer.Outputs >= 1 && Enum.IsDefined(layer.Activation), "a dense layer needs at least 1 output and a defined activation");
        }
    }
}

public sealed partial class Network
{
    /// <summary>Per input layer (O_i, In_i) weights, first to last (dense input only; empty without input layers).</summary>
    public Parameter[] InputW { get; }

    /// <summary>Per input layer (O_i) biases.</summary>
    public Parameter[] InputB { get; }

    /// <summary>Per head hidden layer (O_i, In_i) weights, first to last; the output layer is <see cref="HeadW"/>.</summary>
    public Parameter[] HeadLayerW { get; }

    /// <summary>Per head hidden layer (O_i) biases.</summary>
    public Parameter[] HeadLayerB { get; }

    // module.0, module.2, ... as ModelWriter names an nn.Sequential of Linear + activation modules.
    private (Parameter[] W, Parameter[] B) AddDenseLayers(string module, int inputs, IReadOnlyList<DenseLayerShape> layers)
    {
        var w = new Parameter[layers.Count];
        var b = new Parameter[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            string name = module + "." + (2 * i).ToString(CultureInfo.InvariantCulture);
            w[i] = Add(new Parameter(name + ".weight", layers[i].Outputs, inputs, true));
            b[i] = Add(new Parameter(name + ".bias", layers[i].Outputs, 1, false));
            inputs = layers[i].Outputs;
        }

        return (w, b);
    }

    // The fan-in of an input or head hidden layer's weight or bias (PyTorch's nn.Linear bound 1/√fan_in), else null.
    private int? DenseFanIn(Parameter p)
    {
        for (int i = 0; i < InputW.Length; i++)
        {
            if (ReferenceEquals(p, InputW[i]) || ReferenceEquals(p, InputB[i]))
            {
                return InputW[i].Cols;
            }
        }

        for (int i = 0; i < HeadLayerW.Length; i++)
        {
            if (ReferenceEquals(p, HeadLayerW[i]) || ReferenceEquals(p, HeadLayerB[i]))
            {
                return HeadLayerW[i].Cols;
            }
        }

        return null;
    }

    private static DenseSpec[] DenseSpecs(Parameter[] w, Parameter[] b, IReadOnlyList<DenseLayerShape>? layers)
    {
        var specs = new DenseSpec[w.Length];
        for (int i = 0; i < w.Length; i++)
        {
            specs[i] = new DenseSpec { W = ToMatrix(w[i]), b = (float[])b[i].Value.Clone(), Activation = layers![i].Activation };
        }

        return specs;
    }
}
