// Frozen copy of src/RnnRuntime/Decoding/BeamSearch.cs at c424011, renamed, for in-process before/after timing and
// result checks (StepBench --keystroke-ab, --caption).
using RnnEmbedded.Runtime;

namespace Bench.Before;

/// <summary>
/// Fixed-width beam search over a token model. Hypotheses hold the model state by value in preallocated
/// <c>TModel[]</c> arrays and their tokens in one preallocated int buffer; <see cref="Search"/> allocates nothing.
/// Not thread-safe (one instance per concurrent search).
/// </summary>
/// <remarks>
/// <para>A hypothesis is complete when it ends with a stop token, or when it reaches <see cref="MaxLength"/>
/// tokens without one (truncated). Its score is the sum of the log-probabilities of its tokens (the stop token
/// included) divided by len^α, with len its token count (the stop token included) and α =
/// <see cref="LengthPenalty"/> (0 = raw log-probability, 1 = per-token mean).</para>
/// <para>Each depth expands every live hypothesis by every token. Stop-token and last-depth expansions go to the pool
/// of complete hypotheses (the best <c>n</c> by score are kept); the others compete for the <see cref="BeamWidth"/>
/// live places by raw log-probability. With α = 0 a partial hypothesis whose log-probability is already no better
/// than the worst of a full pool is dropped (log-probabilities only fall, so it could never enter it) — this
/// changes no result and usually ends the search early. A beam at least as wide as the number of partial
/// hypotheses at every depth makes the search exhaustive (the tests check this).</para>
/// <para>Ties keep the earlier candidate (lower parent, then lower token id), so results are deterministic.</para>
/// </remarks>
public sealed class BeamSearchBefore<TModel>
    where TModel : struct, ITokenModel<TModel>
{
    private readonly int _vocabularySize;
    private TModel[] _states;        // (W,) live hypotheses' model states after their last token
    private TModel[] _nextStates;    // (W,)
    private float[] _logits;         // (W, V) next-token logits per live hypothesis
    private float[] _nextLogits;     // (W, V)
    private int[] _tokens;           // (W, MaxLength) token histories
    private int[] _nextTokens;       // (W, MaxLength)
    private float[] _scores;         // (W,) log-probabilities
    private float[] _nextScores;     // (W,)
    private readonly float[] _heapScores;   // (W,) min-heap of the best candidates at this depth
    private readonly int[] _heapParents;    // (W,)
    private readonly int[] _heapTokens;     // (W,)
    private readonly bool[] _isStop;        // (V,)
    private readonly int[] _doneTokens;     // (MaxResults, MaxLength) complete hypotheses
    private readonly int[] _doneLengths;    // (MaxResults,)
    private readonly float[] _doneScores;   // (MaxResults,) normalized scores
    private readonly float[] _doneLogProbs; // (MaxResults,)
    private readonly int[] _order;          // (MaxResults,) result order
    private float _lengthPenalty;
    private int _minLength;
    private int _lastFound;

    /// <summary>
    /// A search that keeps <paramref name="beamWidth"/> live hypotheses, stops at <paramref name="maxLength"/>
    /// tokens and can return up to <paramref name="maxResults"/> results. The vocabulary is TModel.OutputSize.
    /// </summary>
    public BeamSearchBefore(int beamWidth, int maxLength, int maxResults)
    {
        if (beamWidth < 1)
        {
            BeforeThrow.OutOfRange(nameof(beamWidth), beamWidth, "beamWidth must be ≥ 1.");
        }

        if (maxLength < 1)
        {
            BeforeThrow.OutOfRange(nameof(maxLength), maxLength, "maxLength must be ≥ 1.");
        }

        if (maxResults < 1)
        {
            BeforeThrow.OutOfRange(nameof(maxResults), maxResults, "maxResults must be ≥ 1.");
        }

        CheckModel();
        int v = TModel.OutputSize;
        _vocabularySize = v;
        BeamWidth = beamWidth;
        MaxLength = maxLength;
        MaxResults = maxResults;
        _states = new TModel[beamWidth];
        _nextStates = new TModel[beamWidth];
        _logits = new float[checked(beamWidth * v)];
        _nextLogits = new float[beamWidth * v];
        _tokens = new int[checked(beamWidth * maxLength)];
        _nextTokens = new int[beamWidth * maxLength];
        _scores = new float[beamWidth];
        _nextScores = new float[beamWidth];
        _heapScores = new float[beamWidth];
        _heapParents = new int[beamWidth];
        _heapTokens = new int[beamWidth];
        _isStop = new bool[v];
        _doneTokens = new int[checked(maxResults * maxLength)];
        _doneLengths = new int[maxResults];
        _doneScores = new float[maxResults];
        _doneLogProbs = new float[maxResults];
        _order = new int[maxResults];
    }

    /// <summary>Hypotheses kept after each step.</summary>
    public int BeamWidth { get; }

    /// <summary>Most tokens in a result (a stop token counted).</summary>
    public int MaxLength { get; }

    /// <summary>Most finished hypotheses a search returns.</summary>
    public int MaxResults { get; }

    /// <summary>V = TModel.OutputSize.</summary>
    public int VocabularySize => _vocabularySize;

    /// <summary>α in score = log P / len^α. Finite and ≥ 0; default 0.</summary>
    public float LengthPenalty
    {
        get => _lengthPenalty;
        set
        {
            if (!(value >= 0f) || float.IsPositiveInfinity(value))
            {
                BeforeThrow.OutOfRange(nameof(LengthPenalty), value, "LengthPenalty must be finite and ≥ 0.");
            }

            _lengthPenalty = value;
        }
    }

    /// <summary>A stop token may only be the i-th token (1-based) when i ≥ MinLength. 0..MaxLength; default 0.</summary>
    public int MinLength
    {
        get => _minLength;
        set
        {
            if (value < 0 || value > MaxLength)
            {
                BeforeThrow.OutOfRange(nameof(MinLength), value, "MinLength must be in [0, MaxLength].");
            }

            _minLength = value;
        }
    }

    /// <summary>Log-probability (before length normalization) of result <paramref name="rank"/> of the last search.</summary>
    public float GetLogProbability(int rank)
    {
        if ((uint)rank >= (uint)_lastFound)
        {
            BeforeThrow.OutOfRange(nameof(rank), rank, "rank must be below the number of results the last search found.");
        }

        return _doneLogProbs[_order[rank]];
    }

    /// <summary>Makes <paramref name="token"/> the only stop token (−1: none, every result runs to MaxLength).</summary>
    public void SetStopToken(int token)
    {
        ClearStopTokens();
        if (token >= 0)
        {
            AddStopToken(token);
        }
        else if (token != -1)
        {
            BeforeThrow.Token(nameof(token), token, _vocabularySize);
        }
    }

    /// <summary>Adds a stop token (e.g. every word-boundary character).</summary>
    public void AddStopToken(int token)
    {
        if ((uint)token >= (uint)_vocabularySize)
        {
            BeforeThrow.Token(nameof(token), token, _vocabularySize);
        }

        _isStop[token] = true;
    }

    /// <summary>Removes every stop token: results then run to <see cref="MaxLength"/>.</summary>
    public void ClearStopTokens() => Array.Clear(_isStop);

    /// <summary>True when <paramref name="token"/> ends a hypothesis (false for ids outside [0, V)).</summary>
    public bool IsStopToken(int token) => (uint)token < (uint)_vocabularySize && _isStop[token];

    /// <summary>
    /// Searches from <paramref name="primed"/> (a state after the prompt) whose last step wrote
    /// <paramref name="logits"/>. Writes the best n = <paramref name="scores"/>.Length results, best first:
    /// result r's tokens (the stop token included when it ended with one) at
    /// <c>tokens[r * MaxLength ..][..lengths[r]]</c>, its normalized score at <c>scores[r]</c>. Returns the count found
    /// (fewer than n when fewer complete hypotheses exist). <paramref name="primed"/> is not modified.
    /// </summary>
    public int Search(in TModel primed, ReadOnlySpan<float> logits, Span<int> tokens, Span<int> lengths, Span<float> scores)
    {
        int v = _vocabularySize;
        int n = scores.Length;
        if (n < 1 || n > MaxResults)
        {
            BeforeThrow.Argument(nameof(scores), $"scores has {n} elements; the number of results must be in [1, {MaxResults}].");
        }

        if (lengths.Length < n)
        {
            BeforeThrow.TooShort(nameof(lengths), lengths.Length, n);
        }

        if (tokens.Length < n * MaxLength)
        {
            BeforeThrow.TooShort(nameof(tokens), tokens.Length, n * MaxLength);
        }

        if (logits.Length != v)
        {
            BeforeThrow.Length(nameof(logits), logits.Length, v);
        }

        BeforeThrow.CheckedMax(logits, nameof(logits), out _);

        _lastFound = 0;
        _states[0] = primed;
        logits.CopyTo(_logits);
        _scores[0] = 0f;
        int live = 1;
        int done = 0;
        int worstDone = -1;
        bool prune = _lengthPenalty == 0f;

        for (int depth = 1; depth <= MaxLength && live > 0; depth++)
        {
            bool last = depth == MaxLength;
            bool stopAllowed = depth >= _minLength;
            float lengthDivisor = prune ? 1f : MathF.Pow(depth, _lengthPenalty); // len^α
            int heapCount = 0;
            for (int b = 0; b < live; b++)
            {
                ReadOnlySpan<float> beamLogits = _logits.AsSpan(b * v, v);
                float lse = Softmax.LogSumExp(beamLogits);
                if (float.IsNegativeInfinity(lse))
                {
                    continue;
                }

                float baseScore = _scores[b] - lse;
                for (int t = 0; t < v; t++)
                {
                    float l = beamLogits[t];
                    if (float.IsNegativeInfinity(l))
                    {
                        continue;
                    }

                    float s = baseScore + l;
                    bool stop = _isStop[t];
                    if (stop && !stopAllowed)
                    {
                        continue;
                    }

                    if (stop || last)
                    {
                        Offer(b, t, s, depth, lengthDivisor, n, ref done, ref worstDone);
                        continue;
                    }

                    if (prune && done == n && s <= _doneLogProbs[worstDone])
                    {
                        continue;
                    }

                    PushCandidate(ref heapCount, s, b, t);
                }
            }

            if (heapCount == 0)
            {
                break;
            }

            // Expand the selected candidates: copy the parent's state and history, then step them all on their new
            // tokens in one batched call (each weight read once per 8 hypotheses; docs/decoding.md).
            for (int i = 0; i < heapCount; i++)
            {
                int parent = _heapParents[i];
                int token = _heapTokens[i];
                _nextScores[i] = _heapScores[i];
                Span<int> history = _nextTokens.AsSpan(i * MaxLength, MaxLength);
                _tokens.AsSpan(parent * MaxLength, depth - 1).CopyTo(history);
                history[depth - 1] = token;
                _nextStates[i] = _states[parent];
            }

            TModel.Step(_nextStates.AsSpan(0, heapCount), _heapTokens.AsSpan(0, heapCount), _nextLogits.AsSpan(0, heapCount * v));

            (_states, _nextStates) = (_nextStates, _states);
            (_logits, _nextLogits) = (_nextLogits, _logits);
            (_tokens, _nextTokens) = (_nextTokens, _tokens);
            (_scores, _nextScores) = (_nextScores, _scores);
            live = heapCount;
        }

        // Order the pool best first (insertion sort; ties keep pool order).
        for (int i = 0; i < done; i++)
        {
            _order[i] = i;
        }

        for (int i = 1; i < done; i++)
        {
            int item = _order[i];
            int j = i - 1;
            while (j >= 0 && _doneScores[_order[j]] < _doneScores[item])
            {
                _order[j + 1] = _order[j];
                j--;
            }

            _order[j + 1] = item;
        }

        for (int r = 0; r < done; r++)
        {
            int k = _order[r];
            int length = _doneLengths[k];
            _doneTokens.AsSpan(k * MaxLength, length).CopyTo(tokens.Slice(r * MaxLength, length));
            lengths[r] = length;
            scores[r] = _doneScores[k];
        }

        _lastFound = done;
        return done;
    }

    private void Offer(int parent, int token, float logProb, int length, float lengthDivisor, int n, ref int done, ref int worstDone)
    {
        float score = logProb / lengthDivisor;
        int slot;
        if (done < n)
        {
            slot = done++;
        }
        else if (score > _doneScores[worstDone])
        {
            slot = worstDone;
        }
        else
        {
            return;
        }

        Span<int> target = _doneTokens.AsSpan(slot * MaxLength, MaxLength);
        _tokens.AsSpan(parent * MaxLength, length - 1).CopyTo(target);
        target[length - 1] = token;
        _doneLengths[slot] = length;
        _doneScores[slot] = score;
        _doneLogProbs[slot] = logProb;
        if (done == n)
        {
            // Worst = lowest score; among equals the latest slot, so earlier entries win ties.
            worstDone = 0;
            for (int i = 1; i < n; i++)
            {
                if (_doneScores[i] <= _doneScores[worstDone])
                {
                    worstDone = i;
                }
            }
        }
    }

    /// <summary>Keeps the BeamWidth best candidates in a min-heap; an equal score never displaces an earlier one.</summary>
    private void PushCandidate(ref int count, float score, int parent, int token)
    {
        if (count < BeamWidth)
        {
            int i = count++;
            while (i > 0)
            {
                int up = (i - 1) >> 1;
                if (!Less(score, parent, token, up))
                {
                    break;
                }

                MoveHeap(up, i);
                i = up;
            }

            SetHeap(i, score, parent, token);
            return;
        }

        if (!(score > _heapScores[0]))
        {
            return;
        }

        // Replace the root and sift down.
        int pos = 0;
        while (true)
        {
            int child = (2 * pos) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && LessAt(child + 1, child))
            {
                child++;
            }

            if (!LessAt(child, score, parent, token))
            {
                break;
            }

            MoveHeap(child, pos);
            pos = child;
        }

        SetHeap(pos, score, parent, token);
    }

    // Heap order: lower score first; among equal scores the later candidate (higher parent, then token) first,
    // so it is the one evicted.
    private bool Less(float score, int parent, int token, int at) =>
        score < _heapScores[at] || (score == _heapScores[at] && (parent > _heapParents[at] || (parent == _heapParents[at] && token > _heapTokens[at])));

    private bool LessAt(int a, int b) => Less(_heapScores[a], _heapParents[a], _heapTokens[a], b);

    private bool LessAt(int a, float score, int parent, int token) =>
        _heapScores[a] < score || (_heapScores[a] == score && (_heapParents[a] > parent || (_heapParents[a] == parent && _heapTokens[a] > token)));

    private void MoveHeap(int from, int to)
    {
        _heapScores[to] = _heapScores[from];
        _heapParents[to] = _heapParents[from];
        _heapTokens[to] = _heapTokens[from];
    }

    private void SetHeap(int at, float score, int parent, int token)
    {
        _heapScores[at] = score;
        _heapParents[at] = parent;
        _heapTokens[at] = token;
    }

    internal static void CheckModel()
    {
        if (TModel.OutputSize < 1 || TModel.OutputSize > TModel.InputSize)
        {
            BeforeThrow.Argument(
                nameof(TModel),
                $"{typeof(TModel).Name} writes {TModel.OutputSize} logits but takes {TModel.InputSize} tokens; every output token must be a valid input.");
        }
    }
}
