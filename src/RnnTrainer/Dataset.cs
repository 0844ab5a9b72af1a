using System.Globalization;
using System.Text;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Runtime;

using ModelTask = RnnEmbedded.Compiler.Model.ModelTask;
using ModelVocabularyKind = RnnEmbedded.Compiler.Model.ModelVocabularyKind;

namespace RnnEmbedded.Trainer;

/// <summary>What <c>rnn train</c> learns.</summary>
public enum TrainTask
{
    /// <summary>Character-level language model over a text file.</summary>
    Char,

    /// <summary>Word-level language model: one line per sequence, &lt;start&gt; words &lt;stop&gt;.</summary>
    Word,

    /// <summary>Caption decoder: each line "f1 f2 … fF&lt;TAB&gt;caption words".</summary>
    Caption,

    /// <summary>Sequence classifier (many-to-one): each line "text&lt;TAB&gt;label", the label read after the last token.</summary>
    Classify,

    /// <summary>
    /// Regression over dense-input sequences: a CSV file, one row per time step, real-valued targets (empty where a
    /// step has none), mean squared error (docs/training.md, "Regression").
    /// </summary>
    Regress,

    /// <summary>Sequence to sequence: each line "source&lt;TAB&gt;target"; an encoder reads the source, its final state starts the decoder.</summary>
    Seq2Seq,
}

/// <summary>
/// A token stream ready for truncated BPTT: at position i the model reads <see cref="Inputs"/>[i] and is trained to
/// predict <see cref="Targets"/>[i] (−1: no loss); <see cref="Reset"/>[i] starts a new sequence from the zero state.
/// Caption streams read image features at negative inputs −1−sample. Regression streams (dense input) read row
/// Inputs[i] of <see cref="InputValues"/> and, where Targets[i] ≥ 0, are trained towards row Targets[i] of
/// <see cref="TargetValues"/>.
/// </summary>
public sealed class TokenStream
{
    public TokenStream(int[] inputs, int[] targets, bool[] reset, float[]? features = null)
    {
        Inputs = inputs;
        Targets = targets;
        Reset = reset;
        Features = features;
    }

    /// <summary>Regression: (rows, F) input values and (rows with a target, O) target values.</summary>
    public float[]? InputValues { get; init; }

    /// <summary>Regression: (rows with a target, O) target values, indexed by <see cref="Targets"/>.</summary>
    public float[]? TargetValues { get; init; }

    public int[] Inputs { get; }

    public int[] Targets { get; }

    public bool[] Reset { get; }

    public float[]? Features { get; }

    public int Length => Inputs.Length;

    /// <summary>The first <paramref name="count"/> positions.</summary>
    public TokenStream Take(int count)
    {
        if (count >= Length)
        {
            return this;
        }

        return new TokenStream(Inputs[..count], Targets[..count], Reset[..count], Features)
        {
            InputValues = InputValues,
            TargetValues = TargetValues,
        };
    }
}

/// <summary>
/// Training and validation streams and the vocabulary, built from a corpus file. Word and caption text is split
/// and encoded by the runtime's <see cref="WordTokenizer"/> and <see cref="WordVocabulary"/> (built with
/// <see cref="WordVocabulary.Build(IEnumerable{string}, int, bool)"/> from the training lines), so a trained model
/// sees exactly the ids a deployed decoder produces for the same text.
/// </summary>
public sealed partial class Dataset
{
    public const string Start = WordVocabulary.StartWord;
    public const string Stop = WordVocabulary.StopWord;
    public const string Unknown = WordVocabulary.UnknownWord;

    private readonly Vocabulary? _vocabulary;

    private Dataset(TrainTask task, Vocabulary? vocabulary, TokenStream train, TokenStream validation, int imageFeatures, bool lowercase)
    {
        Task = task;
        _vocabulary = vocabulary;
        Train = train;
        Validation = validation;
        ImageFeatures = imageFeatures;
        Lowercase = lowercase;
    }

    public TrainTask Task { get; }

    /// <summary>The token vocabulary (every task but <see cref="TrainTask.Regress"/>, which has dense input and none).</summary>
    public Vocabulary Vocabulary => _vocabulary ?? throw new InvalidOperationException("The regress task has dense input and no vocabulary.");

    /// <summary>The regress task's input column names (F of them, in file order), else null.</summary>
    public IReadOnlyList<string>? InputColumns { get; private init; }

    /// <summary>The regress task's target column names (O of them), else null.</summary>
    public IReadOnlyList<string>? TargetColumns { get; private init; }

    /// <summary>What a checkpoint must match to resume on this data: the vocabulary, or the regress task's columns.</summary>
    public IReadOnlyList<string> Signature => _vocabulary?.Tokens
        ?? [.. InputColumns!.Select(c => "input:" + c), .. TargetColumns!.Select(c => "target:" + c)];

    /// <summary>Token count V for token tasks, 0 for the regress task (dense input).</summary>
    public int VocabularySize => _vocabulary?.Count ?? 0;

    public TokenStream Train { get; }

    public TokenStream Validation { get; }

    /// <summary>F, the feature count of the caption task (0 otherwise).</summary>
    public int ImageFeatures { get; }

    public bool Lowercase { get; }

    /// <summary>The classify task's label names (ordinal order; index = head output), else null.</summary>
    public IReadOnlyList<string>? Labels { get; private init; }

    public ModelTask TaskKind => Task switch
    {
        TrainTask.Char => ModelTask.CharLm,
        TrainTask.Word => ModelTask.WordLm,
        TrainTask.Classify => ModelTask.Classify,
        TrainTask.Regress => ModelTask.Generic,
        TrainTask.Seq2Seq => ModelTask.Seq2Seq,
        _ => ModelTask.Caption,
    };

    /// <summary>Reads and tokenizes <paramref name="path"/>; errors name the file and the rule broken.</summary>
    public static Dataset Load(string path, TrainTask task, double validationFraction, int validationLimit, int vocabularySize, bool lowercase)
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

        return FromText(text, path, task, validationFraction, validationLimit, vocabularySize, lowercase);
    }

    public static Dataset FromText(string text, string name, TrainTask task, double validationFraction, int validationLimit, int vocabularySize, bool lowercase)
    {
        if (validationFraction < 0 || validationFraction >= 1)
        {
            throw new ArgumentException($"--val-fraction must be in [0, 1), not {validationFraction.ToString(CultureInfo.InvariantCulture)}");
        }

        return task switch
        {
            TrainTask.Char => Chars(text, name, validationFraction, validationLimit),
            TrainTask.Word => Words(text, name, validationFraction, validationLimit, vocabularySize, lowercase),
            TrainTask.Regress => throw new ArgumentException("The regress task reads a CSV file: use Dataset.LoadRegression or RegressionFromText."),
            _ => Captions(text, name, validationFraction, validationLimit, vocabularySize, lowercase),
        };
    }

    private static Dataset Chars(string text, string name, double validationFraction, int validationLimit)
    {
        // Vocabulary: the distinct UTF-16 code units of the whole corpus, in ordinal order.
        var seen = new SortedSet<char>();
        foreach (char ch in text)
        {
            seen.Add(ch);
        }

        if (text.Length < 3 || seen.Count < 2)
        {
            throw new InvalidDataException($"{name}: a character corpus needs at least 3 characters and 2 distinct ones");
        }

        var tokens = new List<string>();
        var index = new Dictionary<char, int>();
        foreach (char ch in seen)
        {
            index[ch] = tokens.Count;
            tokens.Add(ch.ToString());
        }

        int split = text.Length - (int)(text.Length * validationFraction);
        if (validationFraction > 0 && text.Length - split < 2)
        {
            throw new InvalidDataException($"{name}: the corpus is too short for a validation split of {validationFraction.ToString(CultureInfo.InvariantCulture)}");
        }

        TokenStream Stream(int from, int to)
        {
            int n = Math.Max(0, to - from - 1);
            var inputs = new int[n];
            var targets = new int[n];
            for (int i = 0; i < n; i++)
            {
                inputs[i] = index[text[from + i]];
                targets[i] = index[text[from + i + 1]];
            }

            return new TokenStream(inputs, targets, new bool[n]);
        }

        TokenStream validation = Stream(split, text.Length);
        if (validationLimit > 0)
        {
            validation = validation.Take(validationLimit);
        }

        return new Dataset(TrainTask.Char, new Vocabulary(ModelVocabularyKind.Characters, tokens), Stream(0, split), validation, 0, false);
    }

    private static Dataset Words(string text, string name, double validationFraction, int validationLimit, int vocabularySize, bool lowercase)
    {
        List<string> lines = SplitLines(text).Where(l => WordTokenizer.Count(l) > 0).ToList();
        if (lines.Count < 2)
        {
            throw new InvalidDataException($"{name}: a word corpus needs at least 2 non-empty lines");
        }

        int split = SplitIndex(lines.Count, validationFraction);
        WordVocabulary vocabulary = BuildVocabulary(lines.GetRange(0, split), vocabularySize, lowercase);
        TokenStream Stream(int from, int to)
        {
            var inputs = new List<int>();
            var targets = new List<int>();
            var reset = new List<bool>();
            for (int l = from; l < to; l++)
            {
                AppendSentence(vocabulary, lines[l], inputs, targets, reset);
            }

            return new TokenStream(inputs.ToArray(), targets.ToArray(), reset.ToArray());
        }

        TokenStream validation = Stream(split, lines.Count);
        if (validationLimit > 0)
        {
            validation = validation.Take(validationLimit);
        }

        return new Dataset(TrainTask.Word, ToModelVocabulary(vocabulary), Stream(0, split), validation, 0, lowercase);
    }

    private static Dataset Captions(string text, string name, double validationFraction, int validationLimit, int vocabularySize, bool lowercase)
    {
        var features = new List<float[]>();
        var captions = new List<string>();
        int lineNumber = 0;
        int f = -1;
        foreach (string line in SplitLines(text))
        {
            lineNumber++;
            if (line.Trim().Length == 0)
            {
                continue;
            }

            int tab = line.IndexOf('\t');
            if (tab < 0)
            {
                throw new InvalidDataException($"{name}:{lineNumber}: a caption line is 'f1 f2 ... fF<TAB>caption words'; no tab found");
            }

            string[] parts = line[..tab].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            var vector = new float[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out vector[i]) || !float.IsFinite(vector[i]))
                {
                    throw new InvalidDataException($"{name}:{lineNumber}: feature {i + 1} '{parts[i]}' is not a finite number");
                }
            }

            if (f < 0)
            {
                f = vector.Length;
            }

            if (vector.Length == 0 || vector.Length != f)
            {
                throw new InvalidDataException($"{name}:{lineNumber}: expected {Math.Max(f, 1)} features, found {vector.Length}");
            }

            string caption = line[(tab + 1)..];
            if (WordTokenizer.Count(caption) == 0)
            {
                throw new InvalidDataException($"{name}:{lineNumber}: the caption after the tab is empty");
            }

            features.Add(vector);
            captions.Add(caption);
        }

        if (captions.Count < 2)
        {
            throw new InvalidDataException($"{name}: a caption corpus needs at least 2 lines");
        }

        var all = new float[captions.Count * f];
        for (int s = 0; s < captions.Count; s++)
        {
            Array.Copy(features[s], 0, all, s * f, f);
        }

        int split = SplitIndex(captions.Count, validationFraction);
        WordVocabulary vocabulary = BuildVocabulary(captions.GetRange(0, split), vocabularySize, lowercase);
        TokenStream Stream(int from, int to)
        {
            var inputs = new List<int>();
            var targets = new List<int>();
            var reset = new List<bool>();
            for (int s = from; s < to; s++)
            {
                // Image step (output ignored), then <start> w1 … wn → targets w1 … wn <stop>, in the image's sequence.
                inputs.Add(-1 - s);
                targets.Add(-1);
                reset.Add(true);
                int startAt = reset.Count;
                AppendSentence(vocabulary, captions[s], inputs, targets, reset);
                reset[startAt] = false;
            }

            return new TokenStream(inputs.ToArray(), targets.ToArray(), reset.ToArray(), all);
        }

        TokenStream validation = Stream(split, captions.Count);
        if (validationLimit > 0)
        {
            validation = validation.Take(validationLimit);
        }

        return new Dataset(TrainTask.Caption, ToModelVocabulary(vocabulary), Stream(0, split), validation, f, lowercase);
    }

    private static IEnumerable<string> SplitLines(string text) => text.Split('\n').Select(l => l.TrimEnd('\r'));

    /// <summary>
    /// The non-blank lines of a tab-separated corpus (classify, seq2seq) with their 1-based line numbers, split at the
    /// first tab; a line without one is an error naming <paramref name="name"/>, the line and <paramref name="form"/>.
    /// </summary>
    private static IEnumerable<(int Line, string Left, string Right)> TabSeparatedLines(string text, string name, string task, string form)
    {
        int lineNumber = 0;
        foreach (string line in SplitLines(text))
        {
            lineNumber++;
            if (line.Trim().Length == 0)
            {
                continue;
            }

            int tab = line.IndexOf('\t');
            if (tab < 0)
            {
                throw new InvalidDataException($"{name}:{lineNumber}: a {task} line is '{form}'; no tab found");
            }

            yield return (lineNumber, line[..tab], line[(tab + 1)..]);
        }
    }

    private static int SplitIndex(int count, double validationFraction)
    {
        int validation = validationFraction > 0 ? Math.Max(1, (int)(count * validationFraction)) : 0;
        return count - validation;
    }

    // <start>, <stop>, <unk>, then the most frequent training words (ties in ordinal order): WordVocabulary's rule.
    private static WordVocabulary BuildVocabulary(List<string> sentences, int size, bool lowercase)
    {
        if (size < 1)
        {
            throw new ArgumentException("--vocab-size must be at least 1");
        }

        return WordVocabulary.Build(sentences, size, lowercase);
    }

    private static Vocabulary ToModelVocabulary(WordVocabulary vocabulary)
    {
        var tokens = new List<string>(vocabulary.Count);
        for (int id = 0; id < vocabulary.Count; id++)
        {
            tokens.Add(vocabulary.GetWord(id).ToString());
        }

        return new Vocabulary(ModelVocabularyKind.Words, tokens);
    }

    // <start> w1 … wn as inputs, w1 … wn <stop> as targets (unknown words → <unk>), encoded as the runtime encodes.
    private static void AppendSentence(WordVocabulary vocabulary, string sentence, List<int> inputs, List<int> targets, List<bool> reset)
    {
        var ids = new int[vocabulary.GetEncodedLength(sentence)];
        int count = vocabulary.Encode(sentence, ids);
        for (int i = 0; i + 1 < count; i++)
        {
            inputs.Add(ids[i]);
            targets.Add(ids[i + 1]);
            reset.Add(i == 0);
        }
    }
}
