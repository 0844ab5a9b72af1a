using System.Globalization;
using System.Text;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Runtime;

using ModelVocabularyKind = RnnEmbedded.Compiler.Model.ModelVocabularyKind;

namespace RnnEmbedded.Trainer;

public sealed partial class Dataset
{
    /// <summary>
    /// Reads a classification corpus: one <c>text&lt;TAB&gt;label</c> per line (blank lines skipped). The lines are
    /// shuffled with <paramref name="seed"/> (corpora are often sorted by label) and the last
    /// <paramref name="validationFraction"/> of them held out. Errors name the file, the line and the rule broken.
    /// </summary>
    public static Dataset LoadClassification(string path, ClassifyTokens tokens, double validationFraction, int validationLimit, int vocabularySize,
        bool lowercase, ulong seed)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, new UTF8Encoding(false, true));
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidDataException($"{path}: the corpus is not valid UTF-8 text");
        }

        return ClassificationFromText(text, path, tokens, validationFraction, validationLimit, vocabularySize, lowercase, seed);
    }

    /// <summary><see cref="LoadClassification"/> on text already read; <paramref name="name"/> names it in errors.</summary>
    public static Dataset ClassificationFromText(string text, string name, ClassifyTokens tokens, double validationFraction, int validationLimit,
        int vocabularySize, bool lowercase, ulong seed)
    {
        if (validationFraction < 0 || validationFraction >= 1)
        {
            throw new ArgumentException($"--val-fraction must be in [0, 1), not {validationFraction.ToString(CultureInfo.InvariantCulture)}");
        }

        var samples = new List<(string Text, string Label)>();
        foreach ((int lineNumber, string sample, string rest) in TabSeparatedLines(text, name, "classify", "text<TAB>label"))
        {
            string label = rest.Trim();
            if (label.Length == 0)
            {
                throw new InvalidDataException($"{name}:{lineNumber}: the label after the tab is empty");
            }

            if (label.Contains('\t', StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{name}:{lineNumber}: a classify line has one tab ('text<TAB>label'); found a second one in the label");
            }

            bool empty = tokens == ClassifyTokens.Words ? WordTokenizer.Count(sample) == 0 : sample.Length == 0;
            if (empty)
            {
                throw new InvalidDataException($"{name}:{lineNumber}: the text before the tab is empty");
            }

            samples.Add((sample, label));
        }

        var labels = samples.Select(s => s.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (labels.Count < 2)
        {
            throw new InvalidDataException(labels.Count == 0
                ? $"{name}: a classify corpus needs 'text<TAB>label' lines; found none"
                : $"{name}: every line has the label '{labels[0]}'; a classifier needs at least 2 labels");
        }

        var labelIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < labels.Count; i++)
        {
            labelIndex[labels[i]] = i;
        }

        // Fisher–Yates with the run's seed: the split and the training order depend only on the file and --seed.
        var rng = new Xoshiro128StarStar(seed ^ 0x9E3779B97F4A7C15UL);
        for (int i = samples.Count - 1; i > 0; i--)
        {
            int j = (int)(rng.NextDouble() * (i + 1));
            (samples[i], samples[j]) = (samples[j], samples[i]);
        }

        int split = SplitIndex(samples.Count, validationFraction);
        if (split < 1)
        {
            throw new InvalidDataException($"{name}: {samples.Count} lines leave no training line after the validation split");
        }

        Vocabulary vocabulary;
        Func<string, int[]> encode;
        if (tokens == ClassifyTokens.Words)
        {
            WordVocabulary words = BuildVocabulary(samples.GetRange(0, split).Select(s => s.Text).ToList(), vocabularySize, lowercase);
            vocabulary = ToModelVocabulary(words);
            encode = sample =>
            {
                var ids = new int[words.GetEncodedLength(sample)];
                int count = words.Encode(sample, ids);
                return ids[..count];
            };
        }
        else
        {
            // The distinct characters of the training texts, ordinal order; characters never seen in training are
            // skipped (what the runtime's CharVocabulary does with UnknownCharPolicy.Skip).
            var seen = new SortedSet<char>();
            for (int i = 0; i < split; i++)
            {
                seen.UnionWith(samples[i].Text);
            }

            var chars = seen.ToList();
            var index = new Dictionary<char, int>();
            for (int i = 0; i < chars.Count; i++)
            {
                index[chars[i]] = i;
            }

            if (chars.Count < 2)
            {
                throw new InvalidDataException($"{name}: the training texts use {chars.Count} distinct character; a character vocabulary needs at least 2");
            }

            vocabulary = new Vocabulary(ModelVocabularyKind.Characters, chars.Select(c => c.ToString()).ToList());
            encode = sample => sample.Where(index.ContainsKey).Select(c => index[c]).ToArray();
        }

        TokenStream Stream(int from, int to)
        {
            var inputs = new List<int>();
            var targets = new List<int>();
            var reset = new List<bool>();
            for (int i = from; i < to; i++)
            {
                int[] ids = encode(samples[i].Text);
                for (int t = 0; t < ids.Length; t++)
                {
                    inputs.Add(ids[t]);
                    targets.Add(t == ids.Length - 1 ? labelIndex[samples[i].Label] : -1);
                    reset.Add(t == 0);
                }
            }

            return new TokenStream(inputs.ToArray(), targets.ToArray(), reset.ToArray());
        }

        TokenStream validation = Stream(split, samples.Count);
        if (validationLimit > 0)
        {
            validation = validation.Take(validationLimit);
        }

        return new Dataset(TrainTask.Classify, vocabulary, Stream(0, split), validation, 0, tokens == ClassifyTokens.Words && lowercase)
        {
            Labels = labels,
        };
    }
}
