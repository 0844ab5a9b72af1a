using System.CommandLine;
using System.Globalization;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Cli.Commands;

/// <summary>
/// <c>rnn eval FILE --corpus TEXT [--weight-type float32,bfloat16,int8]</c>: cross-entropy and perplexity of a token
/// model on a slice of a text, computed by the reference engine with the model's streamed matrices in each given
/// weight type (docs/cli.md, "rnn eval"; the quantization is docs/model-format.md's "Weight types"). Character models
/// read the slice as one stream from the zero state; word models read it line by line, each line
/// <c>&lt;start&gt; w1 … wn</c> → <c>w1 … wn &lt;stop&gt;</c> from the zero state, split into words by the runtime's
/// <see cref="RnnEmbedded.Runtime.WordTokenizer"/>, as the trainer validates.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The .safetensors weight file (a token model with a vocabulary)." };
        var corpus = new Option<string>("--corpus") { Description = "UTF-8 text to score.", Required = true };
        var weightType = new Option<string>("--weight-type")
        {
            Description = "Weight types to score, comma-separated: float32, bfloat16, int8, int8-dynamic (default float32).",
            DefaultValueFactory = _ => "float32",
        };
        var fraction = new Option<double>("--fraction")
        {
            Description = "Score the last FRACTION of the text (default 0.1, the trainer's validation split; 1 = all of it).",
            DefaultValueFactory = _ => 0.1,
        };
        var limit = new Option<int>("--limit")
        {
            Description = "Then at most this many characters (char models) or lines (word models) of it; 0 = all (default 100000 / 10000).",
            DefaultValueFactory = _ => -1,
        };
        var command = new Command("eval", "Cross-entropy and perplexity of a model on a text, per weight type (reference engine).")
        {
            file,
            corpus,
            weightType,
            fraction,
            limit,
        };
        command.SetAction(parseResult =>
        {
            string path = parseResult.GetValue(file)!;
            ModelSpec spec = TrainingCheckpoint.LoadModel(path);
            Execute(spec, path, parseResult.GetValue(corpus)!, parseResult.GetValue(weightType)!, parseResult.GetValue(fraction),
                parseResult.GetValue(limit), parseResult.InvocationConfiguration.Output);
            return Cli.ExitOk;
        });
        return command;
    }

    /// <summary>One weight type's result.</summary>
    public sealed record Result(WeightType Type, long Predictions, double MeanCrossEntropy)
    {
        public double Perplexity => Math.Exp(MeanCrossEntropy);

        public double BitsPerToken => MeanCrossEntropy / Math.Log(2.0);
    }

    /// <summary>Scores <paramref name="spec"/> on the slice for each weight type and prints a table.</summary>
    public static IReadOnlyList<Result> Execute(ModelSpec spec, string modelPath, string corpusPath, string weightTypes, double fraction, int limit, TextWriter output)
    {
        if (!spec.HasTokenInput || spec.RunOnly || spec.Vocabulary is null || spec.Head is null || spec.OutputSize != spec.InputSize)
        {
            throw new CommandException($"{modelPath}: rnn eval scores next-token predictions, so it needs a forward (not bidirectional or reverse) token model with a vocabulary and a head with one logit per token");
        }

        if (!(fraction > 0 && fraction <= 1))
        {
            throw new CommandException($"--fraction must be in (0, 1], not {fraction.ToString(CultureInfo.InvariantCulture)}");
        }

        var types = new List<WeightType>();
        foreach (string part in weightTypes.Split(','))
        {
            if (!WeightTypes.TryParse(part, out WeightType t) || part.Trim().Length == 0)
            {
                throw new CommandException($"--weight-type item '{TextFormat.Printable(part.Trim())}' is not one of {WeightTypes.Names}");
            }

            types.Add(t);
        }

        string text = File.ReadAllText(corpusPath);
        bool chars = spec.Vocabulary.Kind == ModelVocabularyKind.Characters;
        List<int[]> sequences;
        string slice;
        if (chars)
        {
            int start = text.Length - (int)(text.Length * fraction);
            int count = text.Length - start;
            int max = limit < 0 ? 100_000 : limit;
            if (max > 0 && count > max)
            {
                count = max;
            }

            sequences = new List<int[]> { Chars(spec.Vocabulary, text.Substring(start, count), corpusPath, start) };
            slice = $"characters {start:N0}..{start + count:N0} of {text.Length:N0}";
        }
        else
        {
            // The trainer's split of a word corpus: lines with at least one word (RnnTrainer Dataset, "Words").
            string[] lines = text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => RnnEmbedded.Runtime.WordTokenizer.Count(l) > 0).ToArray();
            int start = lines.Length - (int)(lines.Length * fraction);
            int count = lines.Length - start;
            int max = limit < 0 ? 10_000 : limit;
            if (max > 0 && count > max)
            {
                count = max;
            }

            RnnEmbedded.Runtime.WordVocabulary words = WordsOf(spec.Vocabulary);
            sequences = lines.Skip(start).Take(count).Select(l => Words(words, l)).ToList();
            slice = $"non-empty lines {start:N0}..{start + count:N0} of {lines.Length:N0}";
        }

        long predictions = sequences.Sum(s => (long)s.Length - 1);
        if (predictions < 1)
        {
            throw new CommandException($"{corpusPath}: the slice has no token to predict");
        }

        output.WriteLine($"model: {modelPath}");
        output.WriteLine($"corpus: {corpusPath}, {slice} (the last {fraction.ToString(CultureInfo.InvariantCulture)}), {predictions:N0} predictions");
        output.WriteLine("weights        nats/token  bits/token  perplexity  vs first");
        var results = new List<Result>();
        foreach (WeightType type in types)
        {
            ModelSpec quantized = WeightQuantizer.Apply(spec, type);
            double total = 0;
            var logits = new float[quantized.OutputSize];
            foreach (int[] sequence in sequences)
            {
                var engine = new ReferenceEngine(quantized);
                for (int i = 0; i + 1 < sequence.Length; i++)
                {
                    engine.Step(sequence[i], logits);
                    total += CrossEntropy(logits, sequence[i + 1]);
                }
            }

            var result = new Result(type, predictions, total / predictions);
            results.Add(result);
            string relative = results.Count == 1 ? "" : (result.Perplexity / results[0].Perplexity - 1).ToString("+0.000%;-0.000%", CultureInfo.InvariantCulture);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{WeightTypes.Name(type),-14} {result.MeanCrossEntropy,10:F5}  {result.BitsPerToken,10:F5}  {result.Perplexity,10:F5}  {relative}"));
        }

        return results;
    }

    /// <summary>log Σ exp(logits) − logits[target], in double.</summary>
    private static double CrossEntropy(float[] logits, int target)
    {
        double max = double.NegativeInfinity;
        foreach (float v in logits)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        foreach (float v in logits)
        {
            sum += Math.Exp(v - max);
        }

        return max + Math.Log(sum) - logits[target];
    }

    private static int[] Chars(Vocabulary vocabulary, string text, string path, int offset)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < vocabulary.Tokens.Count; i++)
        {
            ids[vocabulary.Tokens[i]] = i;
        }

        var result = new List<int>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            string ch = char.IsHighSurrogate(text[i]) && i + 1 < text.Length ? text.Substring(i++, 2) : text[i].ToString();
            if (!ids.TryGetValue(ch, out int id))
            {
                if (vocabulary.UnknownToken < 0)
                {
                    throw new CommandException($"{path}: character {offset + i:N0} '{TextFormat.Printable(ch)}' is not in the model's vocabulary, which has no unknown token");
                }

                id = vocabulary.UnknownToken;
            }

            result.Add(id);
        }

        return result.ToArray();
    }

    /// <summary>
    /// The runtime's word vocabulary over the model's tokens, lower-casing input exactly when every stored word is
    /// lower case (as <c>WordVocabulary.FromModel</c> does for a compiled model).
    /// </summary>
    private static RnnEmbedded.Runtime.WordVocabulary WordsOf(Vocabulary vocabulary)
    {
        if (vocabulary.StartToken < 0 || vocabulary.StopToken < 0)
        {
            throw new CommandException("a word model needs <start> and <stop> tokens in its vocabulary to score lines");
        }

        var offsets = new int[vocabulary.Tokens.Count + 1];
        for (int i = 0; i < vocabulary.Tokens.Count; i++)
        {
            offsets[i + 1] = offsets[i] + vocabulary.Tokens[i].Length;
        }

        bool lowercase = vocabulary.Tokens.All(t => t == t.ToLowerInvariant());
        return new RnnEmbedded.Runtime.WordVocabulary(string.Concat(vocabulary.Tokens), offsets, vocabulary.StartToken, vocabulary.StopToken, vocabulary.UnknownToken, lowercase);
    }

    /// <summary>
    /// One line as the trainer and a compiled word model's app encode it (the runtime's <see cref="RnnEmbedded.Runtime.WordTokenizer"/>:
    /// punctuation marks are words of their own): &lt;start&gt; words &lt;stop&gt;, unknown words → &lt;unk&gt;.
    /// </summary>
    private static int[] Words(RnnEmbedded.Runtime.WordVocabulary vocabulary, string line)
    {
        var ids = new int[vocabulary.GetEncodedLength(line)];
        int n = vocabulary.Encode(line, ids);
        int position = 0;
        for (int k = 1; k + 1 < n; k++)
        {
            RnnEmbedded.Runtime.WordTokenizer.Next(line, ref position, out int start, out int length);
            if (ids[k] < 0)
            {
                throw new CommandException($"word '{TextFormat.Printable(line.Substring(start, length))}' is not in the model's vocabulary, which has no <unk>");
            }
        }

        return ids.AsSpan(0, n).ToArray();
    }
}
