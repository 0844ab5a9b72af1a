using System.CommandLine;
using System.Globalization;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Cli.Commands;

/// <summary>
/// <c>rnn run FILE --tokens 3,1,4</c> (token models) or <c>--inputs steps.csv</c> (dense models): streams the inputs
/// through the reference engine and prints one line per step, the output vector as space-separated round-trip
/// floats. Models with a vocabulary also take <c>--text</c> (characters or space-separated words). Caption decoders
/// may take <c>--image features.csv</c> (one line), fed before the tokens.
/// Bidirectional and reverse models (docs/model-format.md, "Layer directions") see the whole sequence at once.
/// </summary>
public static class RunCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The .safetensors weight file or .onnx model." };
        var tokens = new Option<string>("--tokens") { Description = "Token ids for token models, comma-separated: 3,1,4." };
        var inputs = new Option<string>("--inputs") { Description = "CSV file for dense models (RFC 4180, no header): one step per record, comma-separated floats." };
        var text = new Option<string>("--text") { Description = "Text for models with a vocabulary: characters (char models) or space-separated words." };
        var image = new Option<string>("--image") { Description = "CSV file with one record of image features, for caption decoders." };
        var command = new Command("run", "Run a model with the scalar reference engine and print the output of every step.")
        {
            file,
            tokens,
            text,
            inputs,
            image,
        };
        command.SetAction(parseResult =>
        {
            string path = parseResult.GetValue(file)!;
            ModelSpec spec = TrainingCheckpoint.LoadModel(path); // a weight file, or the model part of a training checkpoint
            string? tokensText = parseResult.GetValue(tokens);
            string? textValue = parseResult.GetValue(text);
            if (textValue is not null)
            {
                if (tokensText is not null)
                {
                    throw new CommandException("give either --tokens or --text, not both");
                }

                tokensText = string.Join(",", Tokenize(spec, textValue));
            }

            Execute(spec, tokensText, parseResult.GetValue(inputs), parseResult.GetValue(image),
                parseResult.InvocationConfiguration.Output);
            return Cli.ExitOk;
        });
        return command;
    }

    /// <summary>Runs <paramref name="spec"/> on the given inputs, writing one line per step to <paramref name="output"/>.</summary>
    public static void Execute(ModelSpec spec, string? tokensText, string? inputsPath, string? imagePath, TextWriter output)
    {
        if (tokensText is not null && inputsPath is not null)
        {
            throw new CommandException("give either --tokens or --inputs, not both");
        }

        float[]? image = null;
        if (imagePath is not null)
        {
            if (spec.ImageProjection is null)
            {
                throw new CommandException("--image is only for caption decoders; this model has no image projection");
            }

            float[][] rows = ReadCsv(imagePath, spec.ImageProjection.InputSize, "image features");
            if (rows.Length != 1)
            {
                throw new CommandException($"{imagePath}: expected one line of {spec.ImageProjection.InputSize} image features, got {rows.Length} lines");
            }

            image = rows[0]; // a caption decoder is unidirectional: ModelBuilder rejects a bidirectional one
        }

        if (spec.HasTokenInput)
        {
            if (inputsPath is not null)
            {
                throw new CommandException(
                    $"this model takes token ids ({InputName(spec)} input, {spec.InputSize} tokens); use --tokens 3,1,4 instead of --inputs");
            }

            if (tokensText is null && image is null)
            {
                throw new CommandException($"this model takes token ids ({spec.InputSize} tokens); give them with --tokens 3,1,4");
            }

            int[] ids = tokensText is null ? [] : ParseTokens(tokensText, spec.InputSize);
            RunTokens(spec, ids, image, output);
        }
        else
        {
            if (tokensText is not null)
            {
                throw new CommandException(
                    $"this model takes dense inputs ({spec.InputSize} features per step); use --inputs steps.csv instead of --tokens");
            }

            if (inputsPath is null)
            {
                throw new CommandException($"this model takes dense inputs ({spec.InputSize} features per step); give them with --inputs steps.csv");
            }

            // No image here: the builder admits an image projection only with rnn.task=caption, which needs token input.
            float[][] steps = ReadCsv(inputsPath, spec.InputSize, "inputs");
            RunDense(spec, steps, output);
        }
    }

    /// <summary>Parses "3,1,4" (spaces allowed) and checks every id against [0, vocabularySize).</summary>
    public static int[] ParseTokens(string text, int vocabularySize)
    {
        string[] parts = text.Split(',');
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i].Trim();
            if (!int.TryParse(part, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int id))
            {
                throw new CommandException(
                    $"--tokens item {i + 1} is '{TextFormat.Truncate(TextFormat.Printable(part), 40)}'; expected comma-separated integer token ids such as 3,1,4");
            }

            if (id < 0 || id >= vocabularySize)
            {
                throw new CommandException(
                    $"--tokens item {i + 1} is {id}, out of range; the model has {vocabularySize} tokens (ids 0..{vocabularySize - 1})");
            }

            ids[i] = id;
        }

        return ids;
    }

    /// <summary>
    /// Token ids for <paramref name="text"/>: one per character (Unicode scalar) for a character vocabulary, one per
    /// space-separated word for a word vocabulary (unknown words become &lt;unk&gt; when the vocabulary has it).
    /// </summary>
    public static int[] Tokenize(ModelSpec spec, string text)
    {
        Vocabulary vocabulary = spec.Vocabulary
            ?? throw new CommandException("--text needs a model with a vocabulary (metadata rnn.vocab); this one has none, use --tokens");
        if (!spec.HasTokenInput)
        {
            throw new CommandException($"this model takes dense inputs ({spec.InputSize} features per step); use --inputs steps.csv instead of --text");
        }

        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < vocabulary.Count; i++)
        {
            ids.TryAdd(vocabulary.Tokens[i], i);
        }

        var result = new List<int>();
        if (vocabulary.Kind == ModelVocabularyKind.Words)
        {
            string[] words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            for (int i = 0; i < words.Length; i++)
            {
                if (ids.TryGetValue(words[i], out int id))
                {
                    result.Add(id);
                }
                else if (vocabulary.UnknownToken >= 0)
                {
                    result.Add(vocabulary.UnknownToken);
                }
                else
                {
                    throw new CommandException(
                        $"--text word {i + 1} '{TextFormat.Truncate(TextFormat.Printable(words[i]), 40)}' is not in the vocabulary, which has no <unk> token");
                }
            }
        }
        else
        {
            int position = 0;
            foreach (System.Text.Rune rune in text.EnumerateRunes())
            {
                position++;
                if (!ids.TryGetValue(rune.ToString(), out int id))
                {
                    throw new CommandException(
                        $"--text character {position} '{TextFormat.Printable(rune.ToString())}' is not in the model's {vocabulary.Count}-character vocabulary");
                }

                result.Add(id);
            }
        }

        if (result.Count == 0)
        {
            throw new CommandException("--text is empty");
        }

        return result.ToArray();
    }

    /// <summary>
    /// Reads a CSV of floats (RFC 4180 through <see cref="CsvRecords"/>: quoted cells, CRLF, a byte-order mark): one
    /// row per record, blank lines skipped, exactly <paramref name="width"/> values each. Errors name the file, the
    /// line the record starts on and the column.
    /// </summary>
    public static float[][] ReadCsv(string path, int width, string what)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CommandException($"{path}: cannot read the {what} file: {e.Message}");
        }

        var rows = new List<float[]>();
        try
        {
            foreach (CsvRecord record in CsvRecords.Read(text, path))
            {
                string[] cells = record.Cells;
                if (cells.Length != width)
                {
                    throw new CommandException($"{path} line {record.Line}: expected {width} comma-separated values, got {cells.Length}");
                }

                var row = new float[width];
                for (int c = 0; c < width; c++)
                {
                    string cell = cells[c];
                    if (!float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
                    {
                        throw new CommandException(
                            $"{path} line {record.Line} column {c + 1}: '{TextFormat.Truncate(TextFormat.Printable(cell), 40)}' is not a finite number");
                    }

                    row[c] = value;
                }

                rows.Add(row);
            }
        }
        catch (CsvSyntaxException e)
        {
            throw new CommandException($"{path} line {e.Line} column {e.Column}: {e.Rule}");
        }

        return rows.ToArray();
    }

    private static void RunTokens(ModelSpec spec, int[] ids, float[]? image, TextWriter output)
    {
        if (spec.RunOnly)
        {
            if (ids.Length == 0)
            {
                throw new CommandException($"a {(spec.Bidirectional ? "bidirectional" : "reverse")} model needs at least one token");
            }

            WriteAll(ReferenceEngine.Run(spec, ids), output);
            return;
        }

        var engine = new ReferenceEngine(spec);
        var result = new float[spec.OutputSize];
        if (image is not null)
        {
            engine.StepImage(image, result);
            output.WriteLine(TextFormat.Vector(result));
        }

        foreach (int id in ids)
        {
            engine.Step(id, result);
            output.WriteLine(TextFormat.Vector(result));
        }
    }

    private static void RunDense(ModelSpec spec, float[][] steps, TextWriter output)
    {
        if (spec.RunOnly)
        {
            if (steps.Length == 0)
            {
                throw new CommandException($"a {(spec.Bidirectional ? "bidirectional" : "reverse")} model needs at least one input step");
            }

            WriteAll(ReferenceEngine.Run(spec, steps), output);
            return;
        }

        var engine = new ReferenceEngine(spec);
        var result = new float[spec.OutputSize];
        foreach (float[] step in steps)
        {
            engine.Step(step, result);
            output.WriteLine(TextFormat.Vector(result));
        }
    }

    private static void WriteAll(float[][] outputs, TextWriter output)
    {
        foreach (float[] step in outputs)
        {
            output.WriteLine(TextFormat.Vector(step));
        }
    }

    private static string InputName(ModelSpec spec) => spec.InputKind == InputKind.OneHot ? "one-hot" : "embedding";
}
