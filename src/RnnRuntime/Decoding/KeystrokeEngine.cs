using System.Runtime.CompilerServices;

namespace RnnEmbedded.Runtime;

/// <summary>
/// Keystroke prediction over a character model: <see cref="Type(char)"/> costs one model step,
/// <see cref="Backspace"/> none (it restores the saved pre-keystroke state from a fixed-size history ring), and the
/// next-character distribution and the top-k completions of the current word are read from the current state.
/// All buffers are allocated in the constructor; typing, backspace, distributions and completions allocate nothing.
/// Not thread-safe.
/// </summary>
/// <remarks>
/// <para>History: each keystroke saves the model state and logits from before it into a ring of
/// <see cref="KeystrokeOptions.HistoryCapacity"/> entries (state by value: <c>TModel</c> is a struct), and the
/// typed character into a text ring of <see cref="KeystrokeOptions.TextCapacity"/>. Backspace pops the ring, so
/// type-then-backspace leaves the state bit-identical to never having typed. When more backspaces arrive than the
/// ring holds, the engine re-primes: it starts from the initial state after the last reset character still in the
/// text ring (or from the oldest retained character) and re-reads the text up to the cursor, refilling the ring.
/// That is exact whenever the text since the last reset fits the text ring; otherwise the state reflects only the
/// retained text (<see cref="IsExact"/> turns false).</para>
/// <para>Characters the vocabulary lacks follow its <see cref="UnknownCharPolicy"/>; with Skip they still take a
/// history slot (so backspace deletes them) but do not step the model.</para>
/// <para>The last 8 completion lists are cached by state (a version saved in the history ring with the state), so
/// asking twice, or backspacing to a recently searched state, costs no search.</para>
/// </remarks>
public sealed class KeystrokeEngine<TModel>
    where TModel : struct, ITokenModel<TModel>
{
    private readonly int _vocabularySize;
    private readonly KeystrokeOptions _options;
    private readonly BeamSearch<TModel> _beam;
    private readonly bool[] _isBoundaryToken;  // (V,)
    private readonly TModel _initial;
    private readonly float[] _initialLogits;   // (V,)
    private TModel _model;
    private readonly float[] _logits;          // (V,) logits of the current state
    private readonly TModel[] _historyStates;  // (HistoryCapacity,) state before keystroke
    private readonly float[] _historyLogits;   // (HistoryCapacity, V)
    private int _historyHead;                  // next slot to write
    private int _historyCount;
    private readonly char[] _text;             // (TextCapacity,) ring of typed characters
    private int _textStart;
    private int _textCount;
    private bool _textTruncated;               // characters were dropped from the front of the text ring
    private readonly int[] _resultTokens;      // (MaxCompletions, MaxCompletionLength)
    private readonly int[] _resultLengths;     // (MaxCompletions,)
    private readonly float[] _resultScores;    // (MaxCompletions,)
    private readonly float[] _probs;           // (V,)
    private readonly int _searchResults;       // hypotheses the completion search returns (2 × MaxCompletions)
    private readonly int[] _topIds;            // (V,)
    private readonly long[] _historyVersions;  // (HistoryCapacity,) version of the state before keystroke
    private long _version;                     // names the current state: equal versions, bit-equal states and logits
    private long _lastVersion;                 // the last version handed out (0 is the initial state)
    private readonly long[] _cacheVersions;    // (CacheEntries,) state version of each cached completion list, −1 none
    private readonly int[] _cacheCounts;       // (CacheEntries,) completions asked for
    private readonly int[] _cacheFound;        // (CacheEntries,) completions found
    private readonly int[] _cacheLengths;      // (CacheEntries, MaxCompletions)
    private readonly float[] _cacheScores;     // (CacheEntries, MaxCompletions)
    private readonly char[] _cacheChars;       // (CacheEntries, MaxCompletions, CompletionStride)
    private int _cacheNext;                    // the entry the next new list replaces (round robin)

    /// <summary>Completion lists kept for recent states, so a backspace back to one of them (or asking twice) costs no search.</summary>
    private const int CacheEntries = 8;

    /// <summary>An engine over the zero state of <typeparamref name="TModel"/>, primed with <see cref="KeystrokeOptions.Primer"/>.</summary>
    /// <param name="vocabulary">The model's characters (usually <see cref="CharVocabulary.FromModel{TModel}"/>); its size must equal the model's InputSize and OutputSize.</param>
    /// <param name="options">Capacities and completion settings; <see langword="null"/> for the defaults.</param>
    public KeystrokeEngine(CharVocabulary vocabulary, KeystrokeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        options ??= new KeystrokeOptions();
        BeamSearch<TModel>.CheckModel();
        if (vocabulary.Count != TModel.OutputSize)
        {
            ThrowHelper.Argument(nameof(vocabulary), $"the vocabulary has {vocabulary.Count} characters but {typeof(TModel).Name} writes {TModel.OutputSize} logits.");
        }

        Validate(options);
        ArgumentNullException.ThrowIfNull(options.ResetAfter, nameof(options.ResetAfter));
        ArgumentNullException.ThrowIfNull(options.WordBoundaries, nameof(options.WordBoundaries));
        ArgumentNullException.ThrowIfNull(options.Primer, nameof(options.Primer));

        Vocabulary = vocabulary;
        _options = options;
        int v = vocabulary.Count;
        _vocabularySize = v;
        // Twice the completions asked for: hypotheses that differ only in the closing boundary ("RD " and "RD,")
        // show as the same completion and are merged, so the search keeps spares.
        _searchResults = 2 * options.MaxCompletions;
        _beam = new BeamSearch<TModel>(options.CompletionBeamWidth, options.MaxCompletionLength, _searchResults)
        {
            LengthPenalty = options.CompletionLengthPenalty,
            MinLength = 2,
        };
        _isBoundaryToken = new bool[v];
        foreach (char c in options.WordBoundaries)
        {
            if (vocabulary.TryGetId(c, out int id))
            {
                _isBoundaryToken[id] = true;
                _beam.AddStopToken(id);
            }
        }

        _logits = new float[v];
        _initialLogits = new float[v];
        _probs = new float[v];
        _topIds = new int[v];
        _historyStates = new TModel[options.HistoryCapacity];
        _historyLogits = new float[checked(options.HistoryCapacity * v)];
        _text = new char[options.TextCapacity];
        _resultTokens = new int[_searchResults * options.MaxCompletionLength];
        _resultLengths = new int[_searchResults];
        _resultScores = new float[_searchResults];
        _historyVersions = new long[options.HistoryCapacity];
        int stride = options.MaxCompletionLength * (vocabulary.HasSurrogatePairs ? 2 : 1);
        _cacheVersions = new long[CacheEntries];
        Array.Fill(_cacheVersions, -1L);
        _cacheCounts = new int[CacheEntries];
        _cacheFound = new int[CacheEntries];
        _cacheLengths = new int[CacheEntries * options.MaxCompletions];
        _cacheScores = new float[CacheEntries * options.MaxCompletions];
        _cacheChars = new char[checked(CacheEntries * options.MaxCompletions * stride)];

        foreach (char c in options.Primer)
        {
            int id = vocabulary.Map(c);
            if (id >= 0)
            {
                _model.Step(id, _logits);
            }
        }

        _initial = _model;
        _logits.CopyTo(_initialLogits);
    }

    /// <summary>Maps typed characters to token ids and back.</summary>
    public CharVocabulary Vocabulary { get; }

    /// <summary>The options the engine was built with.</summary>
    public KeystrokeOptions Options => _options;

    /// <summary>The current model state (read-only view; copy it to snapshot).</summary>
    public ref readonly TModel State => ref _model;

    /// <summary>Logits of the next character in the current state (all zero before any step: uniform).</summary>
    public ReadOnlySpan<float> Logits => _logits;

    /// <summary>Characters of typed text currently retained (at most TextCapacity).</summary>
    public int TextLength => _textCount;

    /// <summary>Keystrokes that backspace can undo in O(1) right now.</summary>
    public int HistoryCount => _historyCount;

    /// <summary>False once text has fallen out of the text ring with no reset character after it: a re-prime is then approximate.</summary>
    public bool IsExact => !_textTruncated || LastResetIndex() >= 0;

    /// <summary>
    /// Types one UTF-16 unit: one model step (none for a skipped unseen character). A code point above U+FFFF arrives
    /// as two calls: the high surrogate takes a history slot without a step, the low surrogate steps on the pair's
    /// token (so deleting an emoji takes two backspaces).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Type(char c)
    {
        int id = MapTyped(_textCount > 0 ? TextAt(_textCount - 1) : '\0', c); // may throw (policy Throw) before anything changes
        AppendText(c);
        Advance(c, id);
    }

    /// <summary>Types every character of <paramref name="text"/>.</summary>
    public void Type(ReadOnlySpan<char> text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            Type(text[i]);
        }
    }

    /// <summary>Deletes the last typed character; returns false when there is none. No model step unless the history ran out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Backspace()
    {
        if (_textCount == 0)
        {
            return false;
        }

        _textCount--;
        if (_historyCount > 0)
        {
            _historyHead = _historyHead == 0 ? _historyStates.Length - 1 : _historyHead - 1;
            _historyCount--;
            _historyStates.AsSpan(_historyHead, 1).CopyTo(new Span<TModel>(ref _model));
            _historyLogits.AsSpan(_historyHead * _vocabularySize, _vocabularySize).CopyTo(_logits);
            _version = _historyVersions[_historyHead];
        }
        else
        {
            Reprime();
        }

        return true;
    }

    /// <summary>Forgets all text and history and returns to the initial state.</summary>
    public void Clear()
    {
        _textCount = 0;
        _textStart = 0;
        _textTruncated = false;
        _historyCount = 0;
        _historyHead = 0;
        _model = _initial;
        _initialLogits.CopyTo(_logits);
        _version = 0;
    }

    /// <summary>Copies the retained typed text into <paramref name="destination"/>; returns its length.</summary>
    public int CopyText(Span<char> destination)
    {
        if (destination.Length < _textCount)
        {
            ThrowHelper.TooShort(nameof(destination), destination.Length, _textCount);
        }

        for (int i = 0; i < _textCount; i++)
        {
            destination[i] = TextAt(i);
        }

        return _textCount;
    }

    /// <summary>Copies the current (partial) word — the characters after the last word boundary — into <paramref name="destination"/>.</summary>
    public int CopyCurrentWord(Span<char> destination)
    {
        int start = _textCount;
        while (start > 0 && !IsBoundaryChar(TextAt(start - 1)))
        {
            start--;
        }

        int length = _textCount - start;
        if (destination.Length < length)
        {
            ThrowHelper.TooShort(nameof(destination), destination.Length, length);
        }

        for (int i = 0; i < length; i++)
        {
            destination[i] = TextAt(start + i);
        }

        return length;
    }

    /// <summary>The next-character distribution: probs[id] for every token id (length V).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void NextCharDistribution(Span<float> probs)
    {
        if (probs.Length != _vocabularySize)
        {
            ThrowHelper.Length(nameof(probs), probs.Length, _vocabularySize);
        }

        Softmax.Apply(_logits, probs);
    }

    /// <summary>The k = ids.Length most probable next tokens, best first (ties: lower id first), with their probabilities. Returns k (≤ V).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int TopNextTokens(Span<int> ids, Span<float> probs)
    {
        int k = Math.Min(ids.Length, _vocabularySize);
        if (k < 1)
        {
            ThrowHelper.Empty(nameof(ids));
        }

        if (probs.Length < k)
        {
            ThrowHelper.TooShort(nameof(probs), probs.Length, k);
        }

        Softmax.Apply(_logits, _probs);
        int filled = 0;
        for (int id = 0; id < _vocabularySize; id++)
        {
            float p = _probs[id];
            if (filled == k && !(p > probs[k - 1]))
            {
                continue;
            }

            int j = filled < k ? filled++ : k - 1;
            while (j > 0 && probs[j - 1] < p)
            {
                probs[j] = probs[j - 1];
                ids[j] = ids[j - 1];
                j--;
            }

            probs[j] = p;
            ids[j] = id;
        }

        return filled;
    }

    /// <summary>
    /// The k = chars.Length most probable next characters, best first, with their probabilities. Returns k (≤ V).
    /// Throws <see cref="InvalidOperationException"/> for a vocabulary with surrogate-pair tokens (use <see cref="TopNextTokens"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int TopNextChars(Span<char> chars, Span<float> probs)
    {
        if (Vocabulary.HasSurrogatePairs)
        {
            ThrowSurrogateVocabulary();
        }

        int k = Math.Min(chars.Length, _vocabularySize);
        if (k < 1)
        {
            ThrowHelper.Empty(nameof(chars));
        }

        Span<int> ids = _topIds.AsSpan(0, k);
        int found = TopNextTokens(ids, probs);
        for (int i = 0; i < found; i++)
        {
            chars[i] = Vocabulary.GetChar(ids[i]);
        }

        return found;
    }

    /// <summary>UTF-16 units reserved per completion in <see cref="Completions"/>: MaxCompletionLength, doubled when the vocabulary has surrogate-pair tokens.</summary>
    public int CompletionStride => _options.MaxCompletionLength * (Vocabulary.HasSurrogatePairs ? 2 : 1);

    /// <summary>
    /// The top n = scores.Length completions of the current word, best first: completion r is
    /// <c>chars[r * CompletionStride ..][..lengths[r]]</c> (the characters to append; the closing boundary not
    /// included) with score log P(completion + boundary) / len^α, len counting the boundary. A completion has at least
    /// one character. MaxCompletionLength counts tokens with the boundary included (the <see cref="BeamSearch{TModel}"/>
    /// rule): a completion still open after MaxCompletionLength characters is returned as it is (truncated, scored
    /// without a boundary). Hypotheses whose text differs only in the closing boundary ("RD " and "RD,") are listed
    /// once, with the better score. Returns the count found (distinct texts).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Completions(Span<char> chars, Span<int> lengths, Span<float> scores)
    {
        int n = scores.Length;
        int stride = CompletionStride;
        int tokenStride = _options.MaxCompletionLength;
        if (n < 1 || n > _options.MaxCompletions)
        {
            ThrowHelper.Argument(nameof(scores), $"scores has {n} elements; the number of completions must be in [1, {_options.MaxCompletions}].");
        }

        if (lengths.Length < n)
        {
            ThrowHelper.TooShort(nameof(lengths), lengths.Length, n);
        }

        if (chars.Length < n * stride)
        {
            ThrowHelper.TooShort(nameof(chars), chars.Length, n * stride);
        }

        if (TryCached(n, chars, lengths, scores, out int cached))
        {
            return cached;
        }

        // 2n spares (n ≤ MaxCompletions, checked above, so the buffers hold them): merged duplicates leave room. Only
        // the first n distinct words are listed, so the search may drop hypotheses that cannot reach them.
        _beam.DistinctResults = n;
        int searched = _beam.Search(_model, _logits, _resultTokens, _resultLengths, _resultScores.AsSpan(0, 2 * n));
        int found = 0;
        for (int r = 0; r < searched && found < n; r++)
        {
            ReadOnlySpan<int> tokens = _resultTokens.AsSpan(r * tokenStride, _resultLengths[r]);
            int count = tokens.Length;
            if (count > 0 && _isBoundaryToken[tokens[count - 1]])
            {
                count--;
            }

            Span<char> slot = chars.Slice(found * stride, stride);
            int length = Vocabulary.Decode(tokens[..count], slot);
            bool duplicate = false;
            for (int q = 0; q < found && !duplicate; q++)
            {
                duplicate = chars.Slice(q * stride, lengths[q]).SequenceEqual(slot[..length]);
            }

            if (duplicate)
            {
                continue; // same text, different closing boundary: the better-scored one is already listed
            }

            lengths[found] = length;
            scores[found] = _resultScores[r];
            found++;
        }

        Cache(n, found, chars, lengths, scores);
        return found;
    }

    /// <summary>Copies the completion list of the current state out of the cache, if it holds one for n completions.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryCached(int n, Span<char> chars, Span<int> lengths, Span<float> scores, out int found)
    {
        int stride = CompletionStride;
        int perEntry = _options.MaxCompletions;
        for (int e = 0; e < CacheEntries; e++)
        {
            if (_cacheVersions[e] != _version || _cacheCounts[e] != n)
            {
                continue;
            }

            found = _cacheFound[e];
            for (int r = 0; r < found; r++)
            {
                int length = _cacheLengths[(e * perEntry) + r];
                lengths[r] = length;
                scores[r] = _cacheScores[(e * perEntry) + r];
                _cacheChars.AsSpan(((e * perEntry) + r) * stride, length).CopyTo(chars.Slice(r * stride, length));
            }

            return true;
        }

        found = 0;
        return false;
    }

    /// <summary>Keeps the completion list just computed for the current state (replacing the oldest entry).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Cache(int n, int found, ReadOnlySpan<char> chars, ReadOnlySpan<int> lengths, ReadOnlySpan<float> scores)
    {
        int stride = CompletionStride;
        int perEntry = _options.MaxCompletions;
        int e = _cacheNext;
        _cacheNext = e + 1 == CacheEntries ? 0 : e + 1;
        _cacheVersions[e] = _version;
        _cacheCounts[e] = n;
        _cacheFound[e] = found;
        for (int r = 0; r < found; r++)
        {
            _cacheLengths[(e * perEntry) + r] = lengths[r];
            _cacheScores[(e * perEntry) + r] = scores[r];
            chars.Slice(r * stride, lengths[r]).CopyTo(_cacheChars.AsSpan(((e * perEntry) + r) * stride, stride));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Advance(char c, int id)
    {
        // Save the pre-keystroke state; the oldest entry is overwritten when the ring is full.
        new ReadOnlySpan<TModel>(in _model).CopyTo(_historyStates.AsSpan(_historyHead, 1)); // one memmove, no temporary
        _logits.CopyTo(_historyLogits.AsSpan(_historyHead * _vocabularySize, _vocabularySize));
        _historyVersions[_historyHead] = _version;
        _historyHead = _historyHead + 1 == _historyStates.Length ? 0 : _historyHead + 1;
        if (_historyCount < _historyStates.Length)
        {
            _historyCount++;
        }

        if (id >= 0)
        {
            _model.Step(id, _logits);
            _version = ++_lastVersion;
        }

        if (IsResetChar(c))
        {
            _model = _initial;
            _initialLogits.CopyTo(_logits);
            _version = 0;
        }
    }

    private void Reprime()
    {
        int start = LastResetIndex() + 1;
        _model = _initial;
        _initialLogits.CopyTo(_logits);
        _version = 0;
        _historyCount = 0;
        _historyHead = 0;
        for (int i = start; i < _textCount; i++)
        {
            char c = TextAt(i);
            Advance(c, MapTyped(i > start ? TextAt(i - 1) : '\0', c));
        }
    }

    /// <summary>Token of a typed unit given the unit before it: a high surrogate waits (−1), a low one completes its pair.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int MapTyped(char previous, char c)
    {
        if (char.IsHighSurrogate(c))
        {
            return -1;
        }

        if (char.IsLowSurrogate(c) && char.IsHighSurrogate(previous))
        {
            return Vocabulary.MapPair(previous, c);
        }

        return Vocabulary.Map(c);
    }

    private int LastResetIndex()
    {
        for (int i = _textCount - 1; i >= 0; i--)
        {
            if (IsResetChar(TextAt(i)))
            {
                return i;
            }
        }

        return -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AppendText(char c)
    {
        int capacity = _text.Length;
        if (_textCount == capacity)
        {
            _textStart = _textStart + 1 == capacity ? 0 : _textStart + 1;
            _textCount--;
            _textTruncated = true;
        }

        int end = _textStart + _textCount;
        _text[end >= capacity ? end - capacity : end] = c;
        _textCount++;
    }

    private char TextAt(int i)
    {
        int index = _textStart + i;
        return _text[index >= _text.Length ? index - _text.Length : index];
    }

    private bool IsResetChar(char c) => _options.ResetAfter.Length != 0 && _options.ResetAfter.Contains(c);

    private bool IsBoundaryChar(char c) => _options.WordBoundaries.Contains(c);

    private static void ThrowSurrogateVocabulary() =>
        throw new InvalidOperationException("the vocabulary has surrogate-pair tokens, which are not one char; use TopNextTokens.");

    private static void Validate(KeystrokeOptions options)
    {
        if (options.HistoryCapacity < 1)
        {
            ThrowHelper.OutOfRange(nameof(options.HistoryCapacity), options.HistoryCapacity, "HistoryCapacity must be ≥ 1.");
        }

        if (options.TextCapacity < options.HistoryCapacity)
        {
            ThrowHelper.OutOfRange(nameof(options.TextCapacity), options.TextCapacity, "TextCapacity must be ≥ HistoryCapacity.");
        }

        if (options.CompletionBeamWidth < 1)
        {
            ThrowHelper.OutOfRange(nameof(options.CompletionBeamWidth), options.CompletionBeamWidth, "CompletionBeamWidth must be ≥ 1.");
        }

        if (options.MaxCompletionLength < 2)
        {
            ThrowHelper.OutOfRange(nameof(options.MaxCompletionLength), options.MaxCompletionLength, "MaxCompletionLength must be ≥ 2 (a character and its boundary).");
        }

        if (options.MaxCompletions < 1)
        {
            ThrowHelper.OutOfRange(nameof(options.MaxCompletions), options.MaxCompletions, "MaxCompletions must be ≥ 1.");
        }

        if (!(options.CompletionLengthPenalty >= 0f) || float.IsPositiveInfinity(options.CompletionLengthPenalty))
        {
            ThrowHelper.OutOfRange(nameof(options.CompletionLengthPenalty), options.CompletionLengthPenalty, "CompletionLengthPenalty must be finite and ≥ 0.");
        }
    }
}
