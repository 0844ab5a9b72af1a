using System.Globalization;
using System.Text;
using RnnEmbedded.Compiler.Model;

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
}

/// <summary>
/// A token stream ready for truncated BPTT: at position i the model reads <see cref="Inputs"/>[i] and is trained to
/// predict <see cref="Targets"/>[i] (−1: no loss); <see cref="Reset"/>[i] starts a new sequence from the zero state.
/// Caption streams read image features at negative inputs −1−sample.
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

        return new TokenStream(Inputs[..count], Targets[..count], Reset[..count], Features);
    }
}

/// <summary>Training and validation streams and the vocabulary, built from a corpus file.</summary>
public sealed class Dataset
{
    public const string Start = "<start>";
    public const string Stop = "<stop>";
    public const string Unknown = "<unk>";

    private Dataset(TrainTask task, Vocabulary vocabulary, TokenStream train, TokenStream validation, int imageFeatures, bool lowercase)
    {
        Task = task;
        Vocabulary = vocabulary;
        Train = train;
        Validation = validation;
        ImageFeatures = imageFeatures;
        Lowercase = lowercase;
    }

    public TrainTask Task { get; }

    public Vocabulary Vocabulary { get; }

    public TokenStream Train { get; }

    public TokenStream Validation { get; }

    /// <summary>F, the feature count of the caption task (0 otherwise).</summary>
    public int ImageFeatures { get; }

    public bool Lowercase { get; }

    public ModelTask TaskKind => Task switch
    {
        TrainTask.Char => ModelTask.CharLm,
        TrainTask.Word => ModelTask.WordLm,
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
        List<List<string>> lines = new();
        foreach (string line in SplitLines(text))
        {
            List<string> words = Tokenize(line, lowercase);
            if (words.Count > 0)
            {
                lines.Add(words);
            }
        }

        if (lines.Count < 2)
        {
            throw new InvalidDataException($"{name}: a word corpus needs at least 2 non-empty lines");
        }

        int split = SplitIndex(lines.Count, validationFraction);
        var (vocabulary, index) = BuildVocabulary(lines.GetRange(0, split), vocabularySize);
        TokenStream Stream(int from, int to)
        {
            var inputs = new List<int>();
            var targets = new List<int>();
            var reset = new List<bool>();
            for (int l = from; l < to; l++)
            {
                AppendSentence(lines[l], index, inputs, targets, reset);
            }

            return new TokenStream(inputs.ToArray(), targets.ToArray(), reset.ToArray());
        }

        TokenStream validation = Stream(split, lines.Count);
        if (validationLimit > 0)
        {
            validation = validation.Take(validationLimit);
        }

        return new Dataset(TrainTask.Word, vocabulary, Stream(0, split), validation, 0, lowercase);
    }

    private static Dataset Captions(string text, string name, double validationFraction, int validationLimit, int vocabularySize, bool lowercase)
    {
        var features = new List<float[]>();
        var captions = new List<List<string>>();
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

            List<string> words = Tokenize(line[(tab + 1)..], lowercase);
            if (words.Count == 0)
            {
                throw new InvalidDataException($"{name}:{lineNumber}: the caption after the tab is empty");
            }

            features.Add(vector);
            captions.Add(words);
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
        var (vocabulary, index) = BuildVocabulary(captions.GetRange(0, split), vocabularySize);
        TokenStream Stream(int from, int to)
        {
            var inputs = new List<int>();
            var targets = new List<int>();
            var reset = new List<bool>();
            for (int s = from; s < to; s++)
            {
                // Image step (output ignored), then <start> w1 … wn → targets w1 … wn <stop>.
                inputs.Add(-1 - s);
                targets.Add(-1);
                reset.Add(true);
                AppendSentence(captions[s], index, inputs, targets, reset);
                reset[^(captions[s].Count + 1)] = false;
            }

            return new TokenStream(inputs.ToArray(), targets.ToArray(), reset.ToArray(), all);
        }

        TokenStream validation = Stream(split, captions.Count);
        if (validationLimit > 0)
        {
            validation = validation.Take(validationLimit);
        }

        return new Dataset(TrainTask.Caption, vocabulary, Stream(0, split), validation, f, lowercase);
    }

    /// <summary>
    /// Word splitting as RnnRuntime's WordTokenizer: whitespace separates; every punctuation or symbol character is
    /// its own token, except an apostrophe between two letters or digits ("don't").
    /// </summary>
    public static List<string> Tokenize(string line, bool lowercase)
    {
        var words = new List<string>();
        int i = 0;
        while (i < line.Length)
        {
            if (char.IsWhiteSpace(line[i]))
            {
                i++;
                continue;
            }

            int start = i;
            if (IsSymbol(line[i]))
            {
                i++;
            }
            else
            {
                i++;
                while (i < line.Length && !char.IsWhiteSpace(line[i]))
                {
                    char c = line[i];
                    if (IsSymbol(c) && !((c == '\'' || c == '\u2019') && i + 1 < line.Length
                        && char.IsLetterOrDigit(line[i - 1]) && char.IsLetterOrDigit(line[i + 1])))
                    {
                        break;
                    }

                    i++;
                }
            }

            string word = line[start..i];
            words.Add(lowercase ? word.ToLowerInvariant() : word);
        }

        return words;
    }

    private static bool IsSymbol(char c) => char.IsPunctuation(c) || char.IsSymbol(c);

    private static IEnumerable<string> SplitLines(string text) => text.Split('\n').Select(l => l.TrimEnd('\r'));

    private static int SplitIndex(int count, double validationFraction)
    {
        int validation = validationFraction > 0 ? Math.Max(1, (int)(count * validationFraction)) : 0;
        return count - validation;
    }

    // <start>, <stop>, <unk>, then the most frequent words (ties in ordinal order).
    private static (Vocabulary, Dictionary<string, int>) BuildVocabulary(List<List<string>> sentences, int size)
    {
        if (size < 1)
        {
            throw new ArgumentException("--vocab-size must be at least 1");
        }

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (List<string> sentence in sentences)
        {
            foreach (string w in sentence)
            {
                counts[w] = counts.TryGetValue(w, out int c) ? c + 1 : 1;
            }
        }

        var tokens = new List<string> { Start, Stop, Unknown };
        foreach (KeyValuePair<string, int> e in counts
            .Where(e => e.Key is not (Start or Stop or Unknown))
            .OrderByDescending(e => e.Value).ThenBy(e => e.Key, StringComparer.Ordinal).Take(size))
        {
            tokens.Add(e.Key);
        }

        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++)
        {
            index[tokens[i]] = i;
        }

        return (new Vocabulary(ModelVocabularyKind.Words, tokens), index);
    }

    private static void AppendSentence(List<string> words, Dictionary<string, int> index, List<int> inputs, List<int> targets, List<bool> reset)
    {
        int unk = index[Unknown];
        inputs.Add(index[Start]);
        reset.Add(true);
        foreach (string w in words)
        {
            int id = index.TryGetValue(w, out int x) ? x : unk;
            targets.Add(id);
            inputs.Add(id);
            reset.Add(false);
        }

        targets.Add(index[Stop]);
    }
}
