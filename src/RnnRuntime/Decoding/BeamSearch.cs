using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnEmbedded.Runtime;

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
/// than the worst of a full pool is dropped (log-probabilities only fall, so it could never enter it), also after a
/// depth's selection, before its step — this changes no result and usually ends the search early. Candidates are
/// first checked against an upper bound of their score ((score − max logit) + logit), so a hypothesis none of whose
/// candidates can be kept costs no log-sum-exp. A beam at least as wide as the number of partial
/// hypotheses at every depth makes the search exhaustive (the tests check this).</para>
/// <para>Ties keep the earlier candidate (lower parent, then lower token id), so results are deterministic.</para>
/// </remarks>
[SkipLocalsInit]
public sealed class BeamSearch<TModel>
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
    private readonly int[] _doneKeyLengths; // (MaxResults,) token count without a closing stop token
    private readonly int[] _doneKeyHashes;  // (MaxResults,) hash of those tokens: unequal hashes, unequal keys
    private readonly int[] _order;          // (MaxResults,) result order
    private bool _trackKeys;                // this search counts the pool's distinct keys (DistinctResults > 0)
    private int _distinctKeys;              // distinct keys (tokens without a closing stop) in the pool
    private float _lengthPenalty;
    private int _minLength;
    private int _lastFound;
    private int _distinctResults;

    /// <summary>
    /// A search that keeps <paramref name="beamWidth"/> live hypotheses, stops at <paramref name="maxLength"/>
    /// tokens and can return up to <paramref name="maxResults"/> results. The vocabulary is TModel.OutputSize.
    /// </summary>
    public BeamSearch(int beamWidth, int maxLength, int maxResults)
    {
        if (beamWidth < 1)
        {
            ThrowHelper.OutOfRange(nameof(beamWidth), beamWidth, "beamWidth must be ≥ 1.");
        }

        if (maxLength < 1)
        {
            ThrowHelper.OutOfRange(nameof(maxLength), maxLength, "maxLength must be ≥ 1.");
        }

        if (maxResults < 1)
        {
            ThrowHelper.OutOfRange(nameof(maxResults), maxResults, "maxResults must be ≥ 1.");
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
        _doneKeyLengths = new int[maxResults];
        _doneKeyHashes = new int[maxResults];
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
                ThrowHelper.OutOfRange(nameof(LengthPenalty), value, "LengthPenalty must be finite and ≥ 0.");
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
                ThrowHelper.OutOfRange(nameof(MinLength), value, "MinLength must be in [0, MaxLength].");
            }

            _minLength = value;
        }
    }

    /// <summary>
    /// 0 (default), or k ≥ 1 when the caller lists only the first k results whose tokens differ once a closing stop
    /// token is dropped (the keystroke engine merges "RD " and "RD,"): with α = 0 a partial hypothesis whose
    /// log-probability is below the k-th such distinct result in the pool is then dropped too (docs/decoding.md).
    /// </summary>
    internal int DistinctResults
    {
        get => _distinctResults;
        set => _distinctResults = value;
    }

    /// <summary>Log-probability (before length normalization) of result <paramref name="rank"/> of the last search.</summary>
    public float GetLogProbability(int rank)
    {
        if ((uint)rank >= (uint)_lastFound)
        {
            ThrowHelper.OutOfRange(nameof(rank), rank, "rank must be below the number of results the last search found.");
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
            ThrowHelper.Token(nameof(token), token, _vocabularySize);
        }
    }

    /// <summary>Adds a stop token (e.g. every word-boundary character).</summary>
    public void AddStopToken(int token)
    {
        if ((uint)token >= (uint)_vocabularySize)
        {
            ThrowHelper.Token(nameof(token), token, _vocabularySize);
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Search(in TModel primed, ReadOnlySpan<float> logits, Span<int> tokens, Span<int> lengths, Span<float> scores)
    {
        int v = _vocabularySize;
        int n = scores.Length;
        if (n < 1 || n > MaxResults)
        {
            ThrowHelper.Argument(nameof(scores), $"scores has {n} elements; the number of results must be in [1, {MaxResults}].");
        }

        if (lengths.Length < n)
        {
            ThrowHelper.TooShort(nameof(lengths), lengths.Length, n);
        }

        if (tokens.Length < n * MaxLength)
        {
            ThrowHelper.TooShort(nameof(tokens), tokens.Length, n * MaxLength);
        }

        if (logits.Length != v)
        {
            ThrowHelper.Length(nameof(logits), logits.Length, v);
        }

        Softmax.CheckedMax(logits, nameof(logits), out _);

        _lastFound = 0;
        new ReadOnlySpan<TModel>(in primed).CopyTo(_states.AsSpan(0, 1)); // one memmove, no stack temporary
        logits.CopyTo(_logits);
        _scores[0] = 0f;
        int live = 1;
        int done = 0;
        int worstDone = -1;
        bool prune = _lengthPenalty == 0f;
        int distinct = prune ? Math.Min(_distinctResults, n) : 0;
        float distinctBound = float.NegativeInfinity; // α = 0: the best k-th distinct result's log-probability so far
        _trackKeys = distinct > 0;
        _distinctKeys = 0;

        for (int depth = 1; depth <= MaxLength && live > 0; depth++)
        {
            bool last = depth == MaxLength;
            bool stopAllowed = depth >= _minLength;
            float lengthDivisor = prune ? 1f : MathF.Pow(depth, _lengthPenalty); // len^α
            int heapCount = 0;
            for (int b = 0; b < live; b++)
            {
                ReadOnlySpan<float> beamLogits = _logits.AsSpan(b * v, v);
                float max = CheckedMax(beamLogits);
                if (float.IsNegativeInfinity(max))
                {
                    continue;
                }

                // A candidate's score is (score_b − lse) + l with lse = log Σ exp ≥ max, so (score_b − max) + l bounds
                // it from above, in floating point too (rounding is monotonic). Candidates the bound already rules out
                // are skipped before the log-sum-exp is known; it is computed once one may pass.
                float upperBase = _scores[b] - max;
                float baseScore = 0f;
                bool haveBase = false;
                for (int block = 0; block < v; block += 64)
                {
                    // Tokens whose bound clears the lowest bar any candidate must clear now (the bars only rise during
                    // the scan), found 8 or 4 at a time; the exact rules below then decide.
                    ulong mask = Above(beamLogits, block, Math.Min(v, block + 64), upperBase, Floor(last, prune, done == n, worstDone, heapCount));
                    while (mask != 0)
                    {
                        int t = block + BitOperations.TrailingZeroCount(mask);
                        mask &= mask - 1;
                        float l = beamLogits[t];
                        if (float.IsNegativeInfinity(l))
                        {
                            continue;
                        }

                        bool stop = _isStop[t];
                        if (stop && !stopAllowed)
                        {
                            continue;
                        }

                        float upper = upperBase + l;
                        if (stop || last)
                        {
                            if (done == n && !(upper / lengthDivisor > _doneScores[worstDone]))
                            {
                                continue; // the full pool would refuse it
                            }

                            if (!haveBase)
                            {
                                baseScore = _scores[b] - LogSumExp(beamLogits, max);
                                haveBase = true;
                            }

                            // The k-th distinct log-probability is the k-th largest of each key's best: replacing the
                            // worst entry only lowers it, adding p raises it to at most p, so an offer at or below the
                            // bound leaves max(bound, k-th) unchanged and the recount is skipped (α = 0: score = log P);
                            // so is it while the pool holds fewer than k distinct keys (the k-th is then −∞).
                            float logProb = baseScore + l;
                            if (Offer(b, t, logProb, depth, lengthDivisor, n, ref done, ref worstDone) && distinct > 0 &&
                                _distinctKeys >= distinct && logProb > distinctBound)
                            {
                                distinctBound = Math.Max(distinctBound, DistinctLogProbability(done, distinct));
                            }

                            continue;
                        }

                        if ((prune && done == n && upper <= _doneLogProbs[worstDone]) || upper < distinctBound ||
                            (heapCount == BeamWidth && !(upper > _heapScores[0])))
                        {
                            continue; // pruned, or the full heap would refuse it
                        }

                        if (!haveBase)
                        {
                            baseScore = _scores[b] - LogSumExp(beamLogits, max);
                            haveBase = true;
                        }

                        float s = baseScore + l;
                        if ((prune && done == n && s <= _doneLogProbs[worstDone]) || s < distinctBound)
                        {
                            continue;
                        }

                        PushCandidate(ref heapCount, s, b, t);
                    }
                }
            }

            // Candidates selected before the pool filled (or improved) may now be past hope: drop them before their
            // step, keeping the others in order.
            if (prune && (done == n || distinct > 0))
            {
                heapCount = DropHopeless(heapCount, done == n ? _doneLogProbs[worstDone] : float.NegativeInfinity, distinctBound);
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
                _states.AsSpan(parent, 1).CopyTo(_nextStates.AsSpan(i, 1)); // one memmove, no stack temporary
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Offer(int parent, int token, float logProb, int length, float lengthDivisor, int n, ref int done, ref int worstDone)
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
            if (_trackKeys && !KeyShared(slot, n))
            {
                _distinctKeys--; // the replaced entry held the last copy of its key
            }
        }
        else
        {
            return false;
        }

        Span<int> target = _doneTokens.AsSpan(slot * MaxLength, MaxLength);
        _tokens.AsSpan(parent * MaxLength, length - 1).CopyTo(target);
        target[length - 1] = token;
        _doneLengths[slot] = length;
        _doneScores[slot] = score;
        _doneLogProbs[slot] = logProb;
        int keyLength = _isStop[token] ? length - 1 : length;
        _doneKeyLengths[slot] = keyLength;
        _doneKeyHashes[slot] = KeyHash(target[..keyLength]);
        if (_trackKeys && !KeyShared(slot, done))
        {
            _distinctKeys++;
        }
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

        return true;
    }

    /// <summary>
    /// The lowest score a candidate must exceed to be kept right now: for a stop (or last-depth) candidate the worst
    /// of a full pool (α = 0; with α &gt; 0 none), for another the worst of a full pool and the least of a full heap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float Floor(bool last, bool prune, bool poolFull, int worstDone, int heapCount)
    {
        float offer = prune && poolFull ? _doneScores[worstDone] : float.NegativeInfinity;
        if (last)
        {
            return offer;
        }

        float partial = prune && poolFull ? _doneLogProbs[worstDone] : float.NegativeInfinity;
        if (heapCount == BeamWidth)
        {
            partial = Math.Max(partial, _heapScores[0]);
        }

        return Math.Min(offer, partial);
    }

    /// <summary>Bit t − start set when upperBase + logits[t] &gt; floor, for t in [start, end), end − start ≤ 64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ulong Above(ReadOnlySpan<float> logits, int start, int end, float upperBase, float floor)
    {
        ulong mask = 0;
        int t = start;
        ref float l = ref MemoryMarshal.GetReference(logits);
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> baseV = Vector256.Create(upperBase);
            Vector256<float> floorV = Vector256.Create(floor);
            for (; t + Vector256<float>.Count <= end; t += Vector256<float>.Count)
            {
                Vector256<float> above = Vector256.GreaterThan(baseV + Vector256.LoadUnsafe(ref l, (nuint)t), floorV);
                mask |= (ulong)above.ExtractMostSignificantBits() << (t - start);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> baseV = Vector128.Create(upperBase);
            Vector128<float> floorV = Vector128.Create(floor);
            for (; t + Vector128<float>.Count <= end; t += Vector128<float>.Count)
            {
                Vector128<float> above = Vector128.GreaterThan(baseV + Vector128.LoadUnsafe(ref l, (nuint)t), floorV);
                mask |= (ulong)above.ExtractMostSignificantBits() << (t - start);
            }
        }

        for (; t < end; t++)
        {
            if (upperBase + logits[t] > floor)
            {
                mask |= 1UL << (t - start);
            }
        }

        return mask;
    }

    /// <summary>
    /// <see cref="Softmax.CheckedMax"/>'s max of one hypothesis's logits (and its error for a NaN or +∞), 8 at a time:
    /// the max of non-NaN floats is the same value in any order except a zero max, where +0 and −0 compare equal and
    /// the scalar scan keeps the first — that case and a bad logit take the scalar scan, so the bits are its bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float CheckedMax(ReadOnlySpan<float> logits)
    {
        int v = logits.Length;
        if (!Vector256.IsHardwareAccelerated || v < Vector256<float>.Count)
        {
            return Softmax.CheckedMax(logits, "values", out _);
        }

        ref float l = ref MemoryMarshal.GetReference(logits);
        Vector256<float> limit = Vector256.Create(float.MaxValue);
        Vector256<float> last = Vector256.LoadUnsafe(ref l, (nuint)(v - Vector256<float>.Count)); // overlapped tail
        Vector256<float> max = last;
        Vector256<float> good = Vector256.LessThanOrEqual(last, limit); // false for NaN and +∞
        for (int t = 0; t + Vector256<float>.Count <= v; t += Vector256<float>.Count)
        {
            Vector256<float> x = Vector256.LoadUnsafe(ref l, (nuint)t);
            max = Vector256.Max(max, x);
            good &= Vector256.LessThanOrEqual(x, limit);
        }

        float m = max.GetElement(0);
        for (int i = 1; i < Vector256<float>.Count; i++)
        {
            float e = max.GetElement(i);
            m = e > m ? e : m;
        }

        // ExtractMostSignificantBits, not good == AllBitsSet: as floats, all-bits-set lanes are NaN and never compare equal.
        return good.ExtractMostSignificantBits() == 0xFFu && m != 0f ? m : Softmax.CheckedMax(logits, "values", out _);
    }

    /// <summary>log Σ exp(logits), as <see cref="Softmax.LogSumExp"/> computes it, with the max already known.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float LogSumExp(ReadOnlySpan<float> logits, float max) => max + (float)Math.Log(Softmax.SumExp(logits, max));

    /// <summary>
    /// Keeps the selected candidates that can still reach the results — log-probability above the worst of a full
    /// pool and not below the k-th distinct result — in their order; returns how many remain.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int DropHopeless(int count, float worstLogProb, float distinctBound)
    {
        int kept = 0;
        for (int i = 0; i < count; i++)
        {
            float score = _heapScores[i];
            if (score <= worstLogProb || score < distinctBound)
            {
                continue;
            }

            _heapScores[kept] = score;
            _heapParents[kept] = _heapParents[i];
            _heapTokens[kept] = _heapTokens[i];
            kept++;
        }

        return kept;
    }

    /// <summary>
    /// The log-probability of the k-th best pool entry counting entries once when their tokens are equal after a
    /// closing stop token is dropped (pool order, as the results are listed); −∞ when the pool has fewer such entries.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float DistinctLogProbability(int done, int k)
    {
        Span<int> order = _order.AsSpan(0, done); // scratch: the results are ordered into it only after the search
        ReadOnlySpan<float> scores = _doneScores.AsSpan(0, done);
        for (int i = 0; i < order.Length; i++)
        {
            int j = i - 1;
            while (j >= 0 && scores[order[j]] < scores[i])
            {
                order[j + 1] = order[j];
                j--;
            }

            order[j + 1] = i;
        }

        // Keys (tokens without a closing stop token) compared by length and hash first, tokens only when both match.
        ReadOnlySpan<int> keyLengths = _doneKeyLengths.AsSpan(0, done);
        ReadOnlySpan<int> keyHashes = _doneKeyHashes.AsSpan(0, done);
        int found = 0;
        for (int r = 0; r < order.Length; r++)
        {
            int slot = order[r];
            int length = keyLengths[slot];
            int hash = keyHashes[slot];
            bool repeated = false;
            for (int q = 0; q < r && !repeated; q++)
            {
                int other = order[q];
                repeated = keyLengths[other] == length && keyHashes[other] == hash &&
                    _doneTokens.AsSpan(slot * MaxLength, length).SequenceEqual(_doneTokens.AsSpan(other * MaxLength, length));
            }

            if (!repeated && ++found == k)
            {
                return _doneLogProbs[slot];
            }
        }

        return float.NegativeInfinity;
    }

    /// <summary>True when a pool entry other than <paramref name="slot"/>, among the first <paramref name="count"/>, has its key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool KeyShared(int slot, int count)
    {
        int length = _doneKeyLengths[slot];
        int hash = _doneKeyHashes[slot];
        for (int j = 0; j < count; j++)
        {
            if (j != slot && _doneKeyLengths[j] == length && _doneKeyHashes[j] == hash &&
                _doneTokens.AsSpan(j * MaxLength, length).SequenceEqual(_doneTokens.AsSpan(slot * MaxLength, length)))
            {
                return true;
            }
        }

        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int KeyHash(ReadOnlySpan<int> tokens)
    {
        uint hash = 2166136261;
        foreach (int token in tokens)
        {
            hash = (hash ^ (uint)token) * 16777619;
        }

        return (int)hash;
    }

    /// <summary>Keeps the BeamWidth best candidates in a min-heap; an equal score never displaces an earlier one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
            ThrowHelper.Argument(
                nameof(TModel),
                $"{typeof(TModel).Name} writes {TModel.OutputSize} logits but takes {TModel.InputSize} tokens; every output token must be a valid input.");
        }
    }
}
