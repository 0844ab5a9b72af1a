using System.Globalization;
using System.Text;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Runtime;

using ModelVocabularyKind = RnnEmbedded.Compiler.Model.ModelVocabularyKind;

namespace RnnEmbedded.Trainer;

/// <summary>One seq2seq example: the source's token ids and the target's, without the start and stop tokens.</summary>
public sealed record SequencePair(int[] Source, int[] Target);

public sealed partial class Dataset
{
    /// <summary>The seq2seq task's source (encoder) vocabulary, else null.</summary>
    public Vocabulary? SourceVocabulary { get; private init; }

    /// <summary>The seq2seq task's training pairs, else null.</summary>
    public IReadOnlyList<SequencePair>? TrainPairs { get; private init; }

    /// <summary>The seq2seq task's held-out pairs, else null.</summary>
    public IReadOnlyList<SequencePair>? ValidationPairs { get; private init; }

    /// <summary>
    /// The vocabulary a checkpoint records to check a resume against: the (target) vocabulary's tokens (the regress
    /// task's columns, <see cref="Signature"/>), and for seq2seq a marker and the source vocabulary's.
    /// </summary>
    public IReadOnlyList<string> CheckpointVocabulary => SourceVocabulary is null
        ? Signature
        : [.. Vocabulary.Tokens, "<source vocabulary>", .. SourceVocabulary.Tokens];

    /// <summary>Seq2seq: the longest source (tokens) of either split: the encoder window's length.</summary>
    public int MaxSourceLength { get; private init; }

    /// <summary>Seq2seq: the longest target (tokens, without start and stop) of either split.</summary>
    public int MaxTargetLength { get; private init; }

    /// <summary>
    /// Reads a seq2seq corpus: one <c>source&lt;TAB&gt;target</c> per line (blank lines skipped). Without
    /// <paramref name="validationPath"/> the lines are shuffled with <paramref name="seed"/> and the last
    /// <paramref name="validationFraction"/> held out; with it, every line of <paramref name="path"/> trains and the
    /// other file is held out. Errors name the file, the line and the rule broken.
    /// </summary>
    public static Dataset LoadSequencePairs(string path, string? validationPath, ClassifyTokens tokens, double validationFraction, int validationLimit,
        int vocabularySize, bool lowercase, ulong seed)
    {
        string validationText = validationPath is null ? "" : ReadCorpus(validationPath);
        return SequencePairsFromText(ReadCorpus(path), path, validationPath is null ? null : validationText, validationPath, tokens, validationFraction,
            validationLimit, vocabularySize, lowercase, seed);
    }

    /// <summary><see cref="LoadSequencePairs"/> on text already read; the names name the texts in errors.</summary>
    public static Dataset SequencePairsFromText(string text, string name, string? validationText, string? validationName, ClassifyTokens tokens,
        double validationFraction, int validationLimit, int vocabularySize, bool lowercase, ulong seed)
    {
        if (validationFraction < 0 || validationFraction >= 1)
        {
            throw new ArgumentException($"--val-fraction must be in [0, 1), not {validationFraction.ToString(CultureInfo.InvariantCulture)}");
        }

        if (vocabularySize < 1)
        {
            throw new ArgumentException("--vocab-size must be at least 1");
        }

        bool words = tokens == ClassifyTokens.Words;
        List<(string Source, string Target)> train = ReadPairs(text, name, words);
        List<(string Source, string Target)> held;
        if (validationText is not null)
        {
            held = ReadPairs(validationText, validationName ?? "validation", words);
        }
        else
        {
            // Fisher–Yates with the run's seed (corpora are often sorted): the split depends only on the file and --seed.
            var rng = new Xoshiro128StarStar(seed ^ 0x9E3779B97F4A7C15UL);
            for (int i = train.Count - 1; i > 0; i--)
            {
                int j = (int)(rng.NextDouble() * (i + 1));
                (train[i], train[j]) = (train[j], train[i]);
            }

            int split = SplitIndex(train.Count, validationFraction);
            if (split < 1)
            {
                throw new InvalidDataException($"{name}: {train.Count} lines leave no training line after the validation split");
            }

            held = train.GetRange(split, train.Count - split);
            train = train.GetRange(0, split);
        }

        if (validationLimit > 0 && held.Count > validationLimit)
        {
            held = held.GetRange(0, validationLimit);
        }

        Vocabulary source, target;
        Func<string, int[]> encodeSource, encodeTarget;
        if (words)
        {
            // The word task's rules: WordTokenizer, <start>, <stop>, <unk>, then the --vocab-size most frequent training words.
            WordVocabulary sourceWords = BuildVocabulary(train.Select(p => p.Source).ToList(), vocabularySize, lowercase);
            WordVocabulary targetWords = BuildVocabulary(train.Select(p => p.Target).ToList(), vocabularySize, lowercase);
            source = ToModelVocabulary(sourceWords);
            target = ToModelVocabulary(targetWords);
            encodeSource = s => EncodeWords(sourceWords, s); // <start> w1 … wn <stop>, as the classify task reads text
            encodeTarget = t => EncodeWords(targetWords, t)[1..^1]; // w1 … wn; the decoder adds <start> and <stop>
        }
        else
        {
            // Sources: the training sources' distinct characters, ordinal order; a character never seen in training is
            // skipped (the runtime's CharVocabulary with UnknownCharPolicy.Skip). Targets: U+0002 (start), U+0003 (stop)
            // and every target character of either split, so every held-out target can be written.
            var sourceChars = new SortedSet<char>();
            foreach ((string s, _) in train)
            {
                sourceChars.UnionWith(s);
            }

            if (sourceChars.Count < 2)
            {
                throw new InvalidDataException($"{name}: the training sources use {sourceChars.Count} distinct character; a character vocabulary needs at least 2");
            }

            var targetChars = new SortedSet<char> { StartCharacter, StopCharacter };
            foreach ((_, string t) in train.Concat(held))
            {
                targetChars.UnionWith(t);
            }

            source = new Vocabulary(ModelVocabularyKind.Characters, sourceChars.Select(c => c.ToString()).ToList());
            target = new Vocabulary(ModelVocabularyKind.Characters, targetChars.Select(c => c.ToString()).ToList());
            Dictionary<char, int> sourceIndex = Index(sourceChars), targetIndex = Index(targetChars);
            encodeSource = s => s.Where(sourceIndex.ContainsKey).Select(c => sourceIndex[c]).ToArray();
            encodeTarget = t => t.Select(c => targetIndex[c]).ToArray();
        }

        List<SequencePair> Encode(List<(string Source, string Target)> pairs) =>
            pairs.Select(p => new SequencePair(encodeSource(p.Source), encodeTarget(p.Target))).ToList();

        List<SequencePair> trainPairs = Encode(train), heldPairs = Encode(held);
        TokenStream Stream(List<SequencePair> pairs)
        {
            // The decoder's view, as the word task lays a sentence out: <start> t1 … tn → t1 … tn <stop>.
            var inputs = new List<int>();
            var targets = new List<int>();
            var reset = new List<bool>();
            foreach (SequencePair p in pairs)
            {
                for (int t = 0; t <= p.Target.Length; t++)
                {
                    inputs.Add(t == 0 ? target.StartToken : p.Target[t - 1]);
                    targets.Add(t < p.Target.Length ? p.Target[t] : target.StopToken);
                    reset.Add(t == 0);
                }
            }

            return new TokenStream(inputs.ToArray(), targets.ToArray(), reset.ToArray());
        }

        IEnumerable<SequencePair> all = trainPairs.Concat(heldPairs);
        return new Dataset(TrainTask.Seq2Seq, target, Stream(trainPairs), Stream(heldPairs), 0, words && lowercase)
        {
            SourceVocabulary = source,
            TrainPairs = trainPairs,
            ValidationPairs = heldPairs,
            MaxSourceLength = all.Max(p => p.Source.Length),
            MaxTargetLength = all.Max(p => p.Target.Length),
        };
    }

    /// <summary>The start token of a character target vocabulary (U+0002, start of text).</summary>
    public const char StartCharacter = '\u0002';

    /// <summary>The stop token of a character target vocabulary (U+0003, end of text).</summary>
    public const char StopCharacter = '\u0003';

    private static string ReadCorpus(string path)
    {
        try
        {
            return File.ReadAllText(path, new UTF8Encoding(false, true));
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidDataException($"{path}: the corpus is not valid UTF-8 text");
        }
    }

    private static List<(string Source, string Target)> ReadPairs(string text, string name, bool words)
    {
        var pairs = new List<(string, string)>();
        foreach ((int lineNumber, string source, string target) in TabSeparatedLines(text, name, "seq2seq", "source<TAB>target"))
        {
            if (target.Contains('\t', StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{name}:{lineNumber}: a seq2seq line has one tab ('source<TAB>target'); found a second one in the target");
            }

            if (words ? WordTokenizer.Count(source) == 0 : source.Length == 0)
            {
                throw new InvalidDataException($"{name}:{lineNumber}: the source before the tab is empty");
            }

            if (words ? WordTokenizer.Count(target) == 0 : target.Length == 0)
            {
                throw new InvalidDataException($"{name}:{lineNumber}: the target after the tab is empty");
            }

            if (!words && (target.Contains(StartCharacter, StringComparison.Ordinal) || target.Contains(StopCharacter, StringComparison.Ordinal)))
            {
                throw new InvalidDataException(
                    $"{name}:{lineNumber}: the target contains U+0002 or U+0003, the decoder's start and stop characters");
            }

            pairs.Add((source, target));
        }

        if (pairs.Count == 0)
        {
            throw new InvalidDataException($"{name}: a seq2seq corpus needs 'source<TAB>target' lines; found none");
        }

        return pairs;
    }

    private static int[] EncodeWords(WordVocabulary vocabulary, string text)
    {
        var ids = new int[vocabulary.GetEncodedLength(text)];
        int count = vocabulary.Encode(text, ids);
        return ids[..count];
    }

    private static Dictionary<char, int> Index(SortedSet<char> chars)
    {
        var index = new Dictionary<char, int>();
        foreach (char c in chars)
        {
            index[c] = index.Count;
        }

        return index;
    }
}
