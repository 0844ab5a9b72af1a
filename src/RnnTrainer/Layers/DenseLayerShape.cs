using System.Globalization;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Trainer;

/// <summary>
/// One dense layer of a layer stack (docs/model-format.md, "Layer stacks"): <c>y = act(W x + b)</c> with
/// <see cref="Outputs"/> outputs. The trainer's input layers (<c>--input-layers</c>) and head layers
/// (<c>--head-layers</c>) are lists of these; docs/training.md, "Layer stacks".
/// </summary>
public readonly record struct DenseLayerShape(int Outputs, DenseActivation Activation)
{
    /// <summary>The activation names the options take, in <see cref="DenseActivation"/> order (the weight file's names).</summary>
    public static IReadOnlyList<string> ActivationNames { get; } = ["identity", "relu", "tanh", "sigmoid"];

    /// <summary>
    /// Parses <c>"32:tanh,16:relu"</c>: comma-separated <c>size[:activation]</c> entries (the activation defaults to
    /// identity); empty text is no layers. Throws ArgumentException naming <paramref name="option"/>, the entry and the rule.
    /// </summary>
    public static IReadOnlyList<DenseLayerShape> ParseList(string? text, string option)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        string[] items = text.Split(',');
        var layers = new DenseLayerShape[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            string item = items[i].Trim();
            int colon = item.IndexOf(':', StringComparison.Ordinal);
            string size = (colon < 0 ? item : item[..colon]).Trim();
            string activation = colon < 0 ? "identity" : item[(colon + 1)..].Trim().ToLowerInvariant();
            if (!int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out int outputs) || outputs < 1)
            {
                throw new ArgumentException(
                    $"{option} '{text}': entry {i} '{item}' does not start with a layer size of at least 1; expected comma-separated size[:activation] entries, e.g. 32:tanh,16:relu");
            }

            int kind = -1;
            for (int a = 0; a < ActivationNames.Count; a++)
            {
                if (ActivationNames[a] == activation)
                {
                    kind = a;
                }
            }

            if (kind < 0)
            {
                throw new ArgumentException(
                    $"{option} '{text}': entry {i} '{item}': activation '{activation}' is not one of {string.Join(", ", ActivationNames)}");
            }

            layers[i] = new DenseLayerShape(outputs, (DenseActivation)kind);
        }

        return layers;
    }

    /// <summary>The list as <see cref="ParseList"/> reads it: "32:tanh,16:relu".</summary>
    public static string ToText(IReadOnlyList<DenseLayerShape> layers) =>
        string.Join(",", layers.Select(l => l.Outputs.ToString(CultureInfo.InvariantCulture) + ":" + ActivationNames[(int)l.Activation]));

    /// <summary>The <c>--input-layers</c> and <c>--head-layers</c> rules that need only the options.</summary>
    internal static void CheckOptions(TrainOptions o)
    {
        IReadOnlyList<DenseLayerShape> inputs = ParseList(o.InputLayers, "--input-layers");
        IReadOnlyList<DenseLayerShape> head = ParseList(o.HeadLayers, "--head-layers");
        if (inputs.Count > 0 && o.Task != TrainTask.Regress)
        {
            throw new ArgumentException("--input-layers needs dense input (--task regress): a token model starts from its embedding");
        }

        if (head.Count > 0 && o.Task is TrainTask.Seq2Seq or TrainTask.Caption)
        {
            throw new ArgumentException($"--head-layers is not supported with --task {o.Task.ToString().ToLowerInvariant()} (regress, classify, char and word models take it)");
        }

        foreach (DenseLayerShape layer in inputs.Concat(head))
        {
            SizeLimits.CheckArray($"--batch {o.Batch} × --seq-len {o.SeqLen} with a dense layer of {layer.Outputs}", "the layer's output buffer (B·T × O)",
                o.Batch, o.SeqLen, layer.Outputs);
        }
    }
}
