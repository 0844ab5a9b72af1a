using System.CommandLine;
using System.Globalization;
using System.Text;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Cli.Commands;

/// <summary><c>rnn inspect FILE</c>: architecture, head, parameter count, vocabulary and metadata of a weight file.</summary>
public static class InspectCommand
{
    /// <summary>Metadata values longer than this are cut in the listing.</summary>
    public const int MaxMetadataValueLength = 100;

    /// <summary>How many vocabulary tokens the summary lists.</summary>
    public const int VocabularyPreviewCount = 20;

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The .safetensors weight file or .onnx model." };
        var command = new Command("inspect", "Show a model's architecture, parameter count, vocabulary and metadata.")
        {
            file,
        };
        command.SetAction(parseResult =>
        {
            string path = parseResult.GetValue(file)!;
            WeightFile weights = ModelLoader.ReadWeights(path); // safetensors, or ONNX (.onnx) imported with canonical names
            if (TrainingCheckpoint.IsCheckpoint(weights))
            {
                // A training checkpoint: the model at the checkpoint's step, then what the trainer saved beside it.
                parseResult.InvocationConfiguration.Output.Write(Describe(TrainingCheckpoint.ModelOf(weights), path));
                parseResult.InvocationConfiguration.Output.Write(DescribeCheckpoint(weights));
            }
            else
            {
                parseResult.InvocationConfiguration.Output.Write(Describe(ModelBuilder.Build(weights), path));
            }

            return Cli.ExitOk;
        });
        return command;
    }

    /// <summary>The text <c>rnn inspect</c> prints for <paramref name="spec"/>.</summary>
    public static string Describe(ModelSpec spec, string fileName)
    {
        var w = new StringBuilder();
        w.AppendLine(fileName);
        w.AppendLine($"task: {TaskName(spec.Task)}");
        if (spec.Encoder is { } encoder)
        {
            // Seq2seq (docs/model-format.md): the encoder's final state starts the decoder described below.
            w.AppendLine($"encoder input: {InputText(encoder)}");
            AppendLayers(w, encoder, "encoder layers");
            w.AppendLine("encoder source vocabulary:");
            AppendVocabulary(w, encoder.Vocabulary);
            w.AppendLine("decoder (its initial state per layer: the encoder's final h, and c when both are LSTM of equal H):");
        }

        w.AppendLine($"input: {InputText(spec)}");
        if (spec.ImageProjection is { } projection)
        {
            w.AppendLine($"image projection: dense {projection.InputSize} -> {projection.OutputSize}, {(projection.b is null ? "no bias" : "bias")}");
        }

        if (spec.InputLayers.Count > 0)
        {
            w.AppendLine($"input layers: {spec.InputLayers.Count}");
            AppendDenseLayers(w, spec.InputLayers);
        }

        AppendLayers(w, spec, "layers");

        if (spec.HeadLayers.Count > 0 || spec.Head?.Activation is DenseActivation.Relu or DenseActivation.Tanh or DenseActivation.Sigmoid)
        {
            w.AppendLine($"head: MLP, {spec.HeadStack.Count} dense layers");
            AppendDenseLayers(w, spec.HeadStack);
        }
        else
        {
            w.AppendLine(spec.Head is { } head
                ? $"head: dense {head.InputSize} -> {head.OutputSize}, {(head.b is null ? "no bias" : "bias")}"
                : "head: none (output is the last layer's state)");
        }

        if (spec.Output != OutputFunction.None)
        {
            w.AppendLine($"output function: {OutputName(spec.Output)}");
        }

        w.AppendLine($"output: {spec.OutputSize} per step");
        w.AppendLine($"parameters: {spec.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)}");
        AppendVocabulary(w, spec.Vocabulary);

        w.AppendLine($"metadata: {spec.Metadata.Count} {(spec.Metadata.Count == 1 ? "entry" : "entries")}");
        var keys = spec.Metadata.Keys.ToList();
        keys.Sort(StringComparer.Ordinal);
        foreach (string key in keys)
        {
            string value = TextFormat.Truncate(TextFormat.Printable(spec.Metadata[key]), MaxMetadataValueLength);
            w.AppendLine($"  {TextFormat.Printable(key)} = {value}");
        }

        return w.ToString();
    }

    /// <summary>The lines <c>rnn inspect</c> adds for a training checkpoint: its position and the trainer state it holds.</summary>
    public static string DescribeCheckpoint(WeightFile file)
    {
        string Meta(string key) => file.Metadata.TryGetValue(TrainingCheckpoint.MetadataPrefix + key, out string? v) ? v : "?";
        int stateTensors = file.Tensors.Count(t => t.Name.StartsWith(TrainingCheckpoint.StatePrefix, StringComparison.Ordinal));
        var w = new StringBuilder();
        w.AppendLine($"checkpoint: step {Meta("step")}, epoch {Meta("epoch")}, format {Meta("format")} (continue with rnn train --resume)");
        w.AppendLine($"  trainer state: {stateTensors} tensors ({TrainingCheckpoint.StatePrefix}*), {file.Metadata.Keys.Count(k => k.StartsWith(TrainingCheckpoint.MetadataPrefix, StringComparison.Ordinal))} metadata entries ({TrainingCheckpoint.MetadataPrefix}*)");
        return w.ToString();
    }

    private static void AppendLayers(StringBuilder w, ModelSpec spec, string title)
    {
        w.AppendLine($"{title}: {spec.Layers.Count}");
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            w.AppendLine(
                $"  {i}: {CellNames.DisplayName(layer.Cell)} ({CellNames.Variant(layer)})  in {layer.InputSize}  H {layer.HiddenSize}  " +
                $"P {(layer.ProjectionSize > 0 ? layer.ProjectionSize.ToString(CultureInfo.InvariantCulture) : "-")}  " +
                $"{(layer.Bidirectional ? "bidirectional" : layer.Reverse ? "reverse" : "unidirectional")}  {(layer.HasBias ? "bias" : "no bias")}  out {layer.OutputSize}"
                + (layer.Clip is float clip ? $"  clip {clip.ToString("R", CultureInfo.InvariantCulture)}" : ""));
        }
    }

    private static void AppendVocabulary(StringBuilder w, Vocabulary? vocabulary)
    {
        if (vocabulary is null)
        {
            w.AppendLine("vocabulary: none");
            return;
        }

        string kind = vocabulary.Kind switch
        {
            ModelVocabularyKind.Characters => "characters",
            ModelVocabularyKind.Words => "words",
            _ => "unspecified",
        };
        w.AppendLine($"vocabulary: {kind}, {vocabulary.Count} tokens");
        if (vocabulary.Count > 0)
        {
            var first = new StringBuilder();
            int shown = Math.Min(VocabularyPreviewCount, vocabulary.Count);
            for (int i = 0; i < shown; i++)
            {
                first.Append(i == 0 ? "" : " ").Append(Json.Quote(vocabulary.Tokens[i]));
            }

            if (shown < vocabulary.Count)
            {
                first.Append(" ...");
            }

            w.AppendLine($"  first: {first}");
        }

        w.AppendLine($"  special: <start> {Special(vocabulary.StartToken)}, <stop> {Special(vocabulary.StopToken)}, <unk> {Special(vocabulary.UnknownToken)}");
    }

    /// <summary>One line per dense layer: "  0: dense 6 -> 12, bias, relu".</summary>
    private static void AppendDenseLayers(StringBuilder w, IReadOnlyList<DenseSpec> layers)
    {
        for (int i = 0; i < layers.Count; i++)
        {
            DenseSpec d = layers[i];
            w.AppendLine($"  {i}: dense {d.InputSize} -> {d.OutputSize}, {(d.b is null ? "no bias" : "bias")}, {ActivationName(d.Activation)}");
        }
    }

    private static string ActivationName(DenseActivation activation) => activation switch
    {
        DenseActivation.Relu => "relu",
        DenseActivation.Tanh => "tanh",
        DenseActivation.Sigmoid => "sigmoid",
        _ => "identity",
    };

    private static string OutputName(OutputFunction output) => output switch
    {
        OutputFunction.Softmax => "softmax",
        OutputFunction.LogSoftmax => "log-softmax",
        OutputFunction.Sigmoid => "sigmoid",
        _ => "none",
    };

    private static string Special(int id) => id < 0 ? "none" : id.ToString(CultureInfo.InvariantCulture);

    private static string InputText(ModelSpec spec) => spec.InputKind switch
    {
        InputKind.Embedding => $"embedding, {spec.InputSize} tokens -> {spec.FirstLayerInputSize} (token ids 0..{spec.InputSize - 1})",
        InputKind.OneHot => $"one-hot, {spec.InputSize} tokens (token ids 0..{spec.InputSize - 1})",
        _ => $"dense, {spec.InputSize} features per step",
    };

    private static string TaskName(ModelTask task) => task switch
    {
        ModelTask.CharLm => "char-lm",
        ModelTask.WordLm => "word-lm",
        ModelTask.Caption => "caption",
        ModelTask.Seq2Seq => "seq2seq",
        _ => "generic",
    };
}
