using System.CommandLine;
using System.Globalization;
using RnnEmbedded.Cli.Visualize;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Cli.Commands;

/// <summary>
/// <c>rnn visualize MODEL --text FILE --out page.html</c>: runs a character model over a text with the reference
/// engine and writes one self-contained HTML page that shades every character by a chosen cell's h or c and ranks
/// the cells most correlated with features of the text (docs/cli.md).
/// </summary>
public static class VisualizeCommand
{
    /// <summary>Cells printed per feature in the summary.</summary>
    public const int SummaryTopCount = 3;

    public static Command Create()
    {
        var file = new Argument<string>("model") { Description = "The .safetensors weight file of a character model." };
        var text = new Option<string>("--text") { Description = "The text file to run the model over (UTF-8)." };
        var output = new Option<string>("--out") { Description = "The HTML page to write." };
        var layer = new Option<int?>("--layer") { Description = "Show only this layer's cells (default: every layer)." };
        var maxChars = new Option<int?>("--max-chars")
        {
            Description = $"Visualize at most this many characters of the text (default {Visualization.DefaultMaxChars:N0}).",
        };
        var command = new Command("visualize", "Write an HTML page that shades a text by the activations of a character model's cells.")
        {
            file,
            text,
            output,
            layer,
            maxChars,
        };
        command.SetAction(parseResult =>
        {
            Execute(
                parseResult.GetValue(file)!,
                parseResult.GetValue(text),
                parseResult.GetValue(output),
                parseResult.GetValue(layer),
                parseResult.GetValue(maxChars),
                parseResult.InvocationConfiguration.Output);
            return Cli.ExitOk;
        });
        return command;
    }

    /// <summary>Checks the arguments, builds the visualization, writes the page and prints a summary.</summary>
    public static Visualization Execute(string modelPath, string? textPath, string? outPath, int? layer, int? maxChars, TextWriter output)
    {
        if (textPath is null)
        {
            throw new CommandException("--text FILE is required: the text to run the model over");
        }

        if (outPath is null)
        {
            throw new CommandException("--out FILE is required: where to write the HTML page");
        }

        int cap = maxChars ?? Visualization.DefaultMaxChars;
        if (cap < 1)
        {
            throw new CommandException($"--max-chars is {cap}; it must be at least 1");
        }

        ModelSpec spec = ModelLoader.Load(modelPath);
        CheckModel(spec, modelPath);
        if (layer is { } l && (l < 0 || l >= spec.Layers.Count))
        {
            throw new CommandException(
                $"--layer is {l}, out of range; the model has {spec.Layers.Count} layer{(spec.Layers.Count == 1 ? "" : "s")} (0..{spec.Layers.Count - 1})");
        }

        string text;
        try
        {
            text = File.ReadAllText(textPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CommandException($"--text {textPath}: cannot read the text file: {e.Message}");
        }

        if (text.Length == 0)
        {
            throw new CommandException($"--text {textPath}: the file is empty");
        }

        Visualization visualization = Visualization.Build(spec, text, cap, layer);
        if (visualization.Trace.Steps == 0)
        {
            throw new CommandException(
                $"--text {textPath}: none of its first {visualization.Trace.Text.Length:N0} characters is in the model's " +
                $"{spec.Vocabulary!.Count}-character vocabulary");
        }

        try
        {
            using var stream = new FileStream(outPath, FileMode.Create, FileAccess.Write);
            visualization.WriteHtml(stream, Path.GetFileName(modelPath), Visualization.Architecture(spec), Path.GetFileName(textPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CommandException($"--out {outPath}: cannot write the page: {e.Message}");
        }

        WriteSummary(visualization, textPath, outPath, output);
        return visualization;
    }

    /// <summary>
    /// The viewer reads a text left to right, one character per step, from the zero state: it needs a
    /// unidirectional model with token input and a character vocabulary, and no image projection.
    /// </summary>
    public static void CheckModel(ModelSpec spec, string path)
    {
        const string Rule = "rnn visualize needs a unidirectional character model (token input, rnn.vocab.kind = chars)";
        if (!spec.HasTokenInput)
        {
            throw new CommandException($"{path}: the model takes dense inputs ({spec.InputSize} features per step); {Rule}");
        }

        if (spec.Vocabulary is null)
        {
            throw new CommandException($"{path}: the model has no vocabulary (metadata rnn.vocab) to turn text into token ids; {Rule}");
        }

        if (spec.Vocabulary.Kind != ModelVocabularyKind.Characters)
        {
            throw new CommandException($"{path}: the model has a word vocabulary, but the page shades single characters; {Rule}");
        }

        if (spec.RunOnly)
        {
            throw new CommandException(
                $"{path}: the model is {(spec.Bidirectional ? "bidirectional" : "reverse")}, so its state at a character depends on the text after it; {Rule}");
        }

        if (spec.ImageProjection is not null)
        {
            throw new CommandException($"{path}: the model is a caption decoder that starts from an image; {Rule}");
        }
    }

    private static void WriteSummary(Visualization visualization, string textPath, string outPath, TextWriter output)
    {
        ActivationTrace trace = visualization.Trace;
        if (visualization.Truncated)
        {
            output.WriteLine(
                $"note: {textPath} has {visualization.TotalCharacters:N0} characters; the page shows the first {trace.Text.Length:N0} " +
                $"(--max-chars {visualization.MaxChars.ToString(CultureInfo.InvariantCulture)})");
        }

        int skipped = trace.Text.Length - trace.Steps;
        if (skipped > 0)
        {
            output.WriteLine(
                $"note: skipped {skipped:N0} character{(skipped == 1 ? "" : "s")} not in the model's vocabulary ({visualization.SkippedSummary()}); " +
                "the page shows them grey, the state carries over them");
        }

        int cells = 0;
        foreach (LayerActivations layer in trace.Layers)
        {
            cells += layer.H.Length + layer.C.Length;
        }

        output.WriteLine($"{trace.Steps:N0} steps, {cells:N0} cells ({Layers(trace)})");
        foreach (FeatureResult result in visualization.Features)
        {
            string cellsText = result.Constant
                ? "constant in this text, no correlation"
                : string.Join(", ", result.Top.Take(SummaryTopCount).Select(Name));
            output.WriteLine($"  {result.Feature.Name}: {cellsText}");
        }

        output.WriteLine($"wrote {outPath} ({new FileInfo(outPath).Length / 1024.0 / 1024.0:0.0} MB)");
    }

    private static string Layers(ActivationTrace trace) => string.Join(", ", trace.Layers.Select(l =>
        $"layer {l.Layer} {CellNames.DisplayName(l.Cell)}: h {l.H.Length}" + (l.C.Length > 0 ? $", c {l.C.Length}" : "")));

    /// <summary>"L0 c 117 r=+0.712".</summary>
    public static string Name(RankedCell cell) =>
        $"L{cell.Layer} {cell.Kind} {cell.Cell} r={(cell.R < 0 ? "-" : "+")}{Math.Abs(cell.R).ToString("0.000", CultureInfo.InvariantCulture)}";
}
