using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using RnnEmbedded.Compiler.Formats;

namespace RnnEmbedded.Compiler.Model;

/// <summary>
/// Writes a <see cref="ModelSpec"/> as tensors with canonical names and the metadata that rebuilds the same
/// spec: <c>embedding.weight</c>, <c>image_proj.weight</c>/<c>.bias</c>, <c>rnn.weight_ih_l{k}[_reverse]</c>,
/// <c>rnn.weight_hh_l{k}</c>, <c>rnn.bias_ih_l{k}</c>, <c>rnn.bias_hh_l{k}</c>, <c>rnn.weight_hr_l{k}</c>,
/// <c>rnn.peephole_l{k}</c>, <c>head.weight</c>, <c>head.bias</c>. The tensors share the spec's arrays.
/// </summary>
public static partial class ModelWriter
{
    public const string EmbeddingModule = "embedding";
    public const string RecurrentModule = "rnn";
    public const string HeadModule = "head";
    public const string ImageProjectionModule = "image_proj";

    /// <summary>Input layers are written as <c>input.0</c>, <c>input.2</c>, ... (nn.Sequential of Linear, activation pairs).</summary>
    public const string InputLayersModule = "input";

    /// <summary>Tensors and metadata for <paramref name="spec"/>; <see cref="ModelBuilder.Build"/> of them gives an equal spec.</summary>
    /// <exception cref="ArgumentException">The spec is inconsistent or uses per-layer variants the metadata cannot express.</exception>
    public static (IReadOnlyList<Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata) ToTensors(ModelSpec spec)
    {
        if (spec is null)
        {
            throw new ArgumentNullException(nameof(spec));
        }

        if (spec.Layers is null || spec.Layers.Count == 0)
        {
            throw new ArgumentException("A model needs at least one recurrent layer.", nameof(spec));
        }

        if (spec.Encoder is not null)
        {
            return SequenceToSequenceTensors(spec); // ModelWriter.Seq2Seq.cs
        }

        LayerSpec first = spec.Layers[0];
        for (int k = 1; k < spec.Layers.Count; k++)
        {
            LayerSpec layer = spec.Layers[k];
            if (layer.Cell != first.Cell || layer.Activation != first.Activation || layer.GruForm != first.GruForm
                || layer.Cifg != first.Cifg || layer.Bidirectional != first.Bidirectional || layer.Reverse != first.Reverse)
            {
                throw new ArgumentException(
                    $"Layer {k} differs from layer 0 in cell kind, nonlinearity, GRU form, CIFG or direction; the weight file's metadata describes them once for all layers.",
                    nameof(spec));
            }
        }

        if (spec.HeadLayers.Count > 0 && spec.Head is null)
        {
            throw new ArgumentException("The spec has head layers but no Head: the head MLP is HeadLayers followed by Head, its output layer.", nameof(spec));
        }

        var tensors = new List<Tensor>();
        if (spec.Embedding is not null)
        {
            tensors.Add(MatrixTensor(EmbeddingModule + ".weight", spec.Embedding));
        }

        if (spec.ImageProjection is not null)
        {
            AddDense(tensors, ImageProjectionModule, spec.ImageProjection);
        }

        string? inputLayers = AddDenseStack(tensors, InputLayersModule, spec.InputLayers);
        for (int k = 0; k < spec.Layers.Count; k++)
        {
            LayerSpec layer = spec.Layers[k];
            AddDirection(tensors, k, layer.Reverse ? "_reverse" : "", layer.Forward); // reverse-only: '_reverse' tensors alone
            if (layer.Backward is not null)
            {
                AddDirection(tensors, k, "_reverse", layer.Backward);
            }
        }

        // A plain linear head keeps the name 'head'; an MLP head (or one with an activation) is head.0, head.2, ...
        bool headStack = spec.HeadLayers.Count > 0 || (spec.Head is not null && spec.Head.Activation != DenseActivation.Identity);
        string? headLayers = headStack ? AddDenseStack(tensors, HeadModule, spec.HeadStack) : null;
        if (spec.Head is not null && !headStack)
        {
            AddDense(tensors, HeadModule, spec.Head);
        }

        var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> entry in spec.Metadata)
        {
            // Keep foreign keys and the training record; every interpreted key is re-derived from the spec below.
            if (!entry.Key.StartsWith(MetadataKeys.Namespace, StringComparison.Ordinal)
                || entry.Key.StartsWith(MetadataKeys.TrainPrefix, StringComparison.Ordinal))
            {
                metadata[entry.Key] = entry.Value;
            }
        }

        metadata[MetadataKeys.Format] = MetadataKeys.CurrentFormat;
        metadata[MetadataKeys.Task] = MetadataKeys.ToText(spec.Task);
        metadata[MetadataKeys.Input] = MetadataKeys.ToText(spec.InputKind);
        if (spec.Embedding is not null)
        {
            metadata[MetadataKeys.Embedding] = EmbeddingModule;
        }

        if (spec.Head is not null && !headStack)
        {
            metadata[MetadataKeys.Head] = HeadModule;
        }

        if (inputLayers is not null)
        {
            metadata[MetadataKeys.InputLayers] = inputLayers;
        }

        if (headLayers is not null)
        {
            metadata[MetadataKeys.HeadLayers] = headLayers;
        }

        if (spec.Output != OutputFunction.None)
        {
            metadata[MetadataKeys.Output] = MetadataKeys.ToText(spec.Output);
        }

        if (spec.ImageProjection is not null)
        {
            metadata[MetadataKeys.ImageProjection] = ImageProjectionModule;
        }

        if (ModelBuilder.ClipText(spec.Layers.Select(l => l.Clip).ToArray()) is string clip)
        {
            metadata[MetadataKeys.Clip] = clip;
        }

        if (spec.Vocabulary is not null)
        {
            metadata[MetadataKeys.VocabularyKind] = MetadataKeys.ToText(spec.Vocabulary.Kind);
            metadata[MetadataKeys.Vocabulary] = Json.StringArray(spec.Vocabulary.Tokens);
        }

        if (spec.Labels is not null)
        {
            metadata[MetadataKeys.Labels] = Json.StringArray(spec.Labels);
        }

        switch (first.Cell)
        {
            case CellKind.Rnn:
                metadata[MetadataKeys.Nonlinearity] = MetadataKeys.ToText(first.Activation);
                break;
            case CellKind.Gru:
                metadata[MetadataKeys.GruForm] = MetadataKeys.ToText(first.GruForm);
                break;
            default:
                metadata[MetadataKeys.LstmCifg] = first.Cifg ? "true" : "false";
                break;
        }

        // The builder is the one definition of a valid model: a spec it would reject is not written.
        ModelSpec rebuilt;
        try
        {
            rebuilt = ModelBuilder.Build(new WeightFile("<ModelWriter>", tensors, metadata));
        }
        catch (RnnFormatException e)
        {
            throw new ArgumentException("The spec does not describe a valid model: " + e.Message, nameof(spec), e);
        }

        string? difference = ModelSpecComparer.FirstDifference(spec, rebuilt);
        if (difference is not null)
        {
            throw new ArgumentException("The spec is inconsistent (its sizes disagree with its weights): " + difference, nameof(spec));
        }

        return (tensors, metadata);
    }
#if !RNN_GENERATOR // file I/O: not compiled into the Roslyn generator (RS1035)

    /// <summary>Writes <paramref name="spec"/> to a safetensors file (temp file + rename).</summary>
    public static void WriteFile(string path, ModelSpec spec)
    {
        (IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string> metadata) = ToTensors(spec);
        SafeTensorsWriter.WriteFile(path, tensors, metadata);
    }
#endif

    private static void AddDirection(List<Tensor> tensors, int layer, string suffix, DirectionWeights w)
    {
        string l = layer.ToString(CultureInfo.InvariantCulture) + suffix;
        string p = RecurrentModule + ".";
        tensors.Add(MatrixTensor(p + "weight_ih_l" + l, w.W_ih));
        tensors.Add(MatrixTensor(p + "weight_hh_l" + l, w.W_hh));
        if (w.b_ih is not null)
        {
            tensors.Add(new Tensor(p + "bias_ih_l" + l, new[] { w.b_ih.Length }, w.b_ih));
        }

        if (w.b_hh is not null)
        {
            tensors.Add(new Tensor(p + "bias_hh_l" + l, new[] { w.b_hh.Length }, w.b_hh));
        }

        if (w.W_hr is not null)
        {
            tensors.Add(MatrixTensor(p + "weight_hr_l" + l, w.W_hr));
        }

        if (w.Peepholes is not null)
        {
            tensors.Add(MatrixTensor(p + "peephole_l" + l, w.Peepholes));
        }
    }

    private static void AddDense(List<Tensor> tensors, string module, DenseSpec dense)
    {
        tensors.Add(MatrixTensor(module + ".weight", dense.W));
        if (dense.b is not null)
        {
            tensors.Add(new Tensor(module + ".bias", new[] { dense.b.Length }, dense.b));
        }
    }

    /// <summary>Adds <c>&lt;module&gt;.{2i}</c> per layer; returns the rnn.*.layers value, or null for no layers.</summary>
    private static string? AddDenseStack(List<Tensor> tensors, string module, IReadOnlyList<DenseSpec> layers)
    {
        if (layers.Count == 0)
        {
            return null;
        }

        var entries = new string[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            string name = module + "." + (2 * i).ToString(CultureInfo.InvariantCulture);
            AddDense(tensors, name, layers[i]);
            entries[i] = name + ":" + MetadataKeys.ToText(layers[i].Activation);
        }

        return string.Join(",", entries);
    }

    private static Tensor MatrixTensor(string name, Matrix m) => new(name, new[] { m.Rows, m.Cols }, m.Data);
}
