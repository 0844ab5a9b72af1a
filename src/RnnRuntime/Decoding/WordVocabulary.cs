namespace RnnEmbedded.Runtime;

/// <summary>
/// A word vocabulary. All words live in one contiguous char buffer with V + 1 offsets; lookups hash the caller's
/// span (FNV-1a, open addressing) and allocate nothing. Immutable and thread-safe.
/// </summary>
/// <remarks>
/// <para><see cref="Build(IEnumerable{string}, int, bool)"/> is the classic construction: ids 0, 1, 2 are
/// <c>&lt;start&gt;</c>, <c>&lt;stop&gt;</c>, <c>&lt;unk&gt;</c>, then the <c>maxWords</c> most frequent words by count
/// descending, ties by ordinal string order, so the same corpus always gives the same ids.</para>
/// <para>A sentence encodes as <c>&lt;start&gt;</c> (when the vocabulary has one), its words (unknown →
/// <c>&lt;unk&gt;</c>), <c>&lt;stop&gt;</c> (when it has one); words are split by <see cref="WordTokenizer"/>.
/// With <see cref="Lowercase"/>, input is lower-cased (invariant) before lookup, so stored words should be lower
/// case (the constructor rejects upper-case words when <c>lowercase</c> is true). Decoding writes the words separated by single spaces, leaving out <c>&lt;start&gt;</c> and
/// <c>&lt;stop&gt;</c>; decoding then encoding gives back the same ids.</para>
/// <para>Rules checked at construction (ArgumentException naming the argument): at least one token; offsets start at
/// 0, never decrease, end at the text length; no empty token; no token twice; special ids in range or −1.</para>
/// </remarks>
public sealed class WordVocabulary
{
    /// <summary>The text of the start token, which begins every sentence.</summary>
    public const string StartWord = "<start>";

    /// <summary>The text of the stop token, which ends every sentence.</summary>
    public const string StopWord = "<stop>";

    /// <summary>The text of the token that stands for every word the vocabulary lacks.</summary>
    public const string UnknownWord = "<unk>";

    private readonly char[] _text;     // all words concatenated
    private readonly int[] _offsets;   // (V + 1,) word t is _text[_offsets[t].._offsets[t + 1]]
    private readonly int[] _slots;     // open-addressing table: id + 1, 0 = empty; length a power of two ≥ 2V
    private readonly int _maxWordLength;

    /// <summary>A vocabulary from token texts and V + 1 offsets plus the special token ids (−1 when absent).</summary>
    public WordVocabulary(
        ReadOnlySpan<char> text,
        ReadOnlySpan<int> offsets,
        int startToken = -1,
        int stopToken = -1,
        int unknownToken = -1,
        bool lowercase = true)
    {
        if (offsets.Length < 2)
        {
            ThrowHelper.Argument(nameof(offsets), "offsets needs V + 1 ≥ 2 entries (an empty vocabulary is not allowed).");
        }

        if (offsets[0] != 0)
        {
            ThrowHelper.Argument(nameof(offsets), $"offsets[0] is {offsets[0]}; it must be 0.");
        }

        int count = offsets.Length - 1;
        for (int t = 0; t < count; t++)
        {
            if (offsets[t + 1] < offsets[t])
            {
                ThrowHelper.Argument(nameof(offsets), $"offsets are not monotonic at token {t} ({offsets[t]} then {offsets[t + 1]}).");
            }

            if (offsets[t + 1] == offsets[t])
            {
                ThrowHelper.Argument(nameof(offsets), $"token {t} is empty; every word has at least one character.");
            }
        }

        if (offsets[count] != text.Length)
        {
            ThrowHelper.Argument(nameof(offsets), $"the last offset is {offsets[count]}; it must equal the text length {text.Length}.");
        }

        CheckSpecial(nameof(startToken), startToken, count);
        CheckSpecial(nameof(stopToken), stopToken, count);
        CheckSpecial(nameof(unknownToken), unknownToken, count);

        _text = text.ToArray();
        _offsets = offsets.ToArray();
        StartToken = startToken;
        StopToken = stopToken;
        UnknownToken = unknownToken;
        Lowercase = lowercase;

        if (lowercase)
        {
            for (int i = 0; i < _text.Length; i++)
            {
                if (char.ToLowerInvariant(_text[i]) != _text[i])
                {
                    int id = 0;
                    while (_offsets[id + 1] <= i)
                    {
                        id++;
                    }

                    throw new ArgumentException(
                        $"token {id} (\"{GetWord(id).ToString()}\") has upper-case characters, which lower-cased input can never match; pass lowercase: false for a cased vocabulary.",
                        nameof(lowercase));
                }
            }
        }

        int capacity = 4;
        while (capacity < 2 * count)
        {
            capacity <<= 1;
        }

        _slots = new int[capacity];
        int mask = capacity - 1;
        for (int t = 0; t < count; t++)
        {
            ReadOnlySpan<char> word = GetWord(t);
            _maxWordLength = Math.Max(_maxWordLength, word.Length);
            int slot = (int)Hash(word, lowercase: false) & mask;
            while (_slots[slot] != 0)
            {
                int other = _slots[slot] - 1;
                if (GetWord(other).SequenceEqual(word))
                {
                    throw new ArgumentException(
                        $"tokens {other} and {t} are both \"{word.ToString()}\"; a vocabulary must not repeat a token.", nameof(text));
                }

                slot = (slot + 1) & mask;
            }

            _slots[slot] = t + 1;
        }
    }

    /// <summary>
    /// The word vocabulary a compiled model carries, with its start, stop and unknown ids. <paramref name="lowercase"/>
    /// null (the default) lower-cases input exactly when every stored word is already lower case.
    /// </summary>
    public static WordVocabulary FromModel<TModel>(bool? lowercase = null)
        where TModel : struct, IVocabularyModel<TModel>
    {
        if (TModel.VocabularyKind != ModelVocabularyKind.Words)
        {
            ThrowHelper.Argument(nameof(TModel), $"{typeof(TModel).Name} has vocabulary kind {TModel.VocabularyKind}; a WordVocabulary needs Words.");
        }

        bool fold = lowercase ?? IsLowerCase(TModel.VocabularyText);
        return new WordVocabulary(
            TModel.VocabularyText, TModel.VocabularyOffsets, TModel.StartToken, TModel.StopToken, TModel.UnknownToken, fold);
    }

    /// <summary>The classic vocabulary of a corpus: &lt;start&gt;, &lt;stop&gt;, &lt;unk&gt;, then the maxWords most frequent words.</summary>
    public static WordVocabulary Build(string corpus, int maxWords, bool lowercase = true)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        return Build([corpus], maxWords, lowercase);
    }

    /// <summary>The classic vocabulary of a corpus of sentences (see the type's remarks for the id order).</summary>
    public static WordVocabulary Build(IEnumerable<string> corpus, int maxWords, bool lowercase = true)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        if (maxWords < 1)
        {
            ThrowHelper.OutOfRange(nameof(maxWords), maxWords, "maxWords must be ≥ 1.");
        }

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string sentence in corpus)
        {
            if (sentence is null)
            {
                continue;
            }

            int position = 0;
            while (WordTokenizer.Next(sentence, ref position, out int start, out int length))
            {
                string word = lowercase ? sentence.Substring(start, length).ToLowerInvariant() : sentence.Substring(start, length);
                counts[word] = counts.TryGetValue(word, out int n) ? n + 1 : 1;
            }
        }

        if (counts.Count == 0)
        {
            ThrowHelper.Argument(nameof(corpus), "the corpus has no words; a vocabulary needs at least one.");
        }

        var entries = new List<KeyValuePair<string, int>>(counts);
        entries.Sort(static (a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.Key, b.Key));
        int taken = Math.Min(maxWords, entries.Count);

        var text = new System.Text.StringBuilder();
        var offsets = new int[taken + 4];
        text.Append(StartWord);
        offsets[1] = text.Length;
        text.Append(StopWord);
        offsets[2] = text.Length;
        text.Append(UnknownWord);
        offsets[3] = text.Length;
        for (int i = 0; i < taken; i++)
        {
            text.Append(entries[i].Key);
            offsets[i + 4] = text.Length;
        }

        return new WordVocabulary(text.ToString(), offsets, startToken: 0, stopToken: 1, unknownToken: 2, lowercase);
    }

    /// <summary>V, the number of tokens including the special ones.</summary>
    public int Count => _offsets.Length - 1;

    /// <summary>Id of &lt;start&gt;, or −1.</summary>
    public int StartToken { get; }

    /// <summary>Id of &lt;stop&gt;, or −1.</summary>
    public int StopToken { get; }

    /// <summary>Id of &lt;unk&gt;, or −1.</summary>
    public int UnknownToken { get; }

    /// <summary>Whether input words are lower-cased (invariant) before lookup.</summary>
    public bool Lowercase { get; }

    /// <summary>All words concatenated (the contiguous buffer).</summary>
    public ReadOnlySpan<char> Text => _text;

    /// <summary>V + 1 offsets into <see cref="Text"/>.</summary>
    public ReadOnlySpan<int> Offsets => _offsets;

    /// <summary>The text of token <paramref name="id"/> (a slice of the shared buffer).</summary>
    public ReadOnlySpan<char> GetWord(int id)
    {
        if ((uint)id >= (uint)Count)
        {
            ThrowHelper.Token(nameof(id), id, Count);
        }

        return _text.AsSpan(_offsets[id], _offsets[id + 1] - _offsets[id]);
    }

    /// <summary>Looks <paramref name="word"/> up (lower-cased first when <see cref="Lowercase"/>).</summary>
    public bool TryGetId(ReadOnlySpan<char> word, out int id)
    {
        if (word.Length == 0 || word.Length > _maxWordLength)
        {
            id = -1;
            return false;
        }

        int mask = _slots.Length - 1;
        int slot = (int)Hash(word, Lowercase) & mask;
        while (true)
        {
            int entry = _slots[slot];
            if (entry == 0)
            {
                id = -1;
                return false;
            }

            if (EqualsStored(word, entry - 1))
            {
                id = entry - 1;
                return true;
            }

            slot = (slot + 1) & mask;
        }
    }

    /// <summary>The id of <paramref name="word"/>, or <see cref="UnknownToken"/>; throws when absent and there is no &lt;unk&gt;.</summary>
    public int GetIdOrUnknown(ReadOnlySpan<char> word)
    {
        if (TryGetId(word, out int id))
        {
            return id;
        }

        if (UnknownToken < 0)
        {
            throw new ArgumentException($"\"{word.ToString()}\" is not in the vocabulary, which has no <unk> token.", nameof(word));
        }

        return UnknownToken;
    }

    /// <summary>Number of ids <see cref="Encode"/> writes for <paramref name="sentence"/>.</summary>
    public int GetEncodedLength(ReadOnlySpan<char> sentence) =>
        WordTokenizer.Count(sentence) + (StartToken >= 0 ? 1 : 0) + (StopToken >= 0 ? 1 : 0);

    /// <summary>Encodes a sentence as &lt;start&gt;, its words (unknown → &lt;unk&gt;), &lt;stop&gt;; returns the count written.</summary>
    public int Encode(ReadOnlySpan<char> sentence, Span<int> ids)
    {
        int required = GetEncodedLength(sentence);
        if (ids.Length < required)
        {
            ThrowHelper.TooShort(nameof(ids), ids.Length, required);
        }

        int count = 0;
        if (StartToken >= 0)
        {
            ids[count++] = StartToken;
        }

        count += EncodeWordsCore(sentence, ids[count..]);
        if (StopToken >= 0)
        {
            ids[count++] = StopToken;
        }

        return count;
    }

    /// <summary>Encodes the words of <paramref name="text"/> only (no start or stop); returns the count written.</summary>
    public int EncodeWords(ReadOnlySpan<char> text, Span<int> ids)
    {
        int required = WordTokenizer.Count(text);
        if (ids.Length < required)
        {
            ThrowHelper.TooShort(nameof(ids), ids.Length, required);
        }

        return EncodeWordsCore(text, ids);
    }

    /// <summary>Characters <see cref="Decode"/> writes for <paramref name="ids"/>.</summary>
    public int GetDecodedLength(ReadOnlySpan<int> ids)
    {
        int length = 0;
        int words = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if ((uint)id >= (uint)Count)
            {
                ThrowHelper.Token(nameof(ids), id, Count);
            }

            if (id == StartToken || id == StopToken)
            {
                continue;
            }

            length += _offsets[id + 1] - _offsets[id];
            words++;
        }

        return length + Math.Max(0, words - 1);
    }

    /// <summary>Writes the words of <paramref name="ids"/> separated by single spaces (start and stop left out); returns the chars written.</summary>
    public int Decode(ReadOnlySpan<int> ids, Span<char> text)
    {
        int required = GetDecodedLength(ids);
        if (text.Length < required)
        {
            ThrowHelper.TooShort(nameof(text), text.Length, required);
        }

        int written = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if (id == StartToken || id == StopToken)
            {
                continue;
            }

            if (written > 0)
            {
                text[written++] = ' ';
            }

            ReadOnlySpan<char> word = _text.AsSpan(_offsets[id], _offsets[id + 1] - _offsets[id]);
            word.CopyTo(text[written..]);
            written += word.Length;
        }

        return written;
    }

    private int EncodeWordsCore(ReadOnlySpan<char> text, Span<int> ids)
    {
        int count = 0;
        int position = 0;
        while (WordTokenizer.Next(text, ref position, out int start, out int length))
        {
            ids[count++] = GetIdOrUnknown(text.Slice(start, length));
        }

        return count;
    }

    private bool EqualsStored(ReadOnlySpan<char> word, int id)
    {
        int begin = _offsets[id];
        if (_offsets[id + 1] - begin != word.Length)
        {
            return false;
        }

        ReadOnlySpan<char> stored = _text.AsSpan(begin, word.Length);
        if (!Lowercase)
        {
            return stored.SequenceEqual(word);
        }

        for (int i = 0; i < word.Length; i++)
        {
            if (char.ToLowerInvariant(word[i]) != stored[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>FNV-1a (32-bit) over UTF-16 code units, lower-cased first when asked.</summary>
    private static uint Hash(ReadOnlySpan<char> word, bool lowercase)
    {
        uint hash = 2166136261;
        for (int i = 0; i < word.Length; i++)
        {
            char c = lowercase ? char.ToLowerInvariant(word[i]) : word[i];
            hash = (hash ^ c) * 16777619;
        }

        return hash;
    }

    private static bool IsLowerCase(ReadOnlySpan<char> text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.ToLowerInvariant(text[i]) != text[i])
            {
                return false;
            }
        }

        return true;
    }

    private static void CheckSpecial(string argument, int id, int count)
    {
        if (id < -1 || id >= count)
        {
            ThrowHelper.OutOfRange(argument, id, $"{argument} must be −1 (absent) or a token id in [0, {count}).");
        }
    }
}
