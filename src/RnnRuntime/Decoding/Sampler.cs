using System.Runtime.CompilerServices;

namespace RnnEmbedded.Runtime;

/// <summary>
/// Draws tokens from logits in place: repetition penalty → temperature → top-k → top-p → softmax → draw,
/// with a seeded <see cref="Xoshiro128StarStar"/>. Allocates its scratch buffers once, in the constructor;
/// <see cref="Sample"/> allocates nothing. Not thread-safe (one sampler per stream).
/// </summary>
/// <remarks>
/// <see cref="Sample"/> overwrites the caller's logits (scaled, penalized, masked with −∞) and records the drawn
/// token as "recently seen" for the repetition penalty; call <see cref="Observe"/> for tokens that did not come
/// from the sampler (the prompt). The static methods are the same steps, usable one by one.
/// </remarks>
public sealed class Sampler
{
    private readonly float[] _scratch;      // (V,) selection / sort buffer
    private readonly int[] _recent;         // (window,) ring of recent tokens
    private readonly int[] _recentCounts;   // (V,) occurrences of each token in the ring
    private int _recentHead;
    private int _recentLength;
    private Xoshiro128StarStar _random;

    /// <summary>A sampler for logits of length <paramref name="vocabularySize"/>.</summary>
    public Sampler(int vocabularySize, SamplingOptions? options = null)
    {
        if (vocabularySize < 1)
        {
            ThrowHelper.OutOfRange(nameof(vocabularySize), vocabularySize, "vocabularySize must be ≥ 1.");
        }

        Options = options ?? SamplingOptions.Default;
        VocabularySize = vocabularySize;
        _scratch = new float[vocabularySize];
        _recent = new int[Options.RepetitionWindow];
        _recentCounts = new int[vocabularySize];
        _random = new Xoshiro128StarStar(Options.Seed);
    }

    /// <summary>Temperature, top-k, top-p, repetition penalty and seed.</summary>
    public SamplingOptions Options { get; }

    /// <summary>V, the length of the logits this sampler takes.</summary>
    public int VocabularySize { get; }

    /// <summary>The generator state (by reference: draws through it advance the sampler's stream).</summary>
    public ref Xoshiro128StarStar Random => ref _random;

    /// <summary>Restarts the random stream from <paramref name="seed"/>.</summary>
    public void Reseed(ulong seed) => _random = new Xoshiro128StarStar(seed);

    /// <summary>Forgets the recently seen tokens.</summary>
    public void ClearHistory()
    {
        Array.Clear(_recentCounts);
        _recentHead = 0;
        _recentLength = 0;
    }

    /// <summary>Records <paramref name="token"/> as recently seen (for the repetition penalty).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Observe(int token)
    {
        if ((uint)token >= (uint)VocabularySize)
        {
            ThrowHelper.Token(nameof(token), token, VocabularySize);
        }

        if (_recentLength == _recent.Length)
        {
            _recentCounts[_recent[_recentHead]]--;
        }
        else
        {
            _recentLength++;
        }

        _recent[_recentHead] = token;
        _recentCounts[token]++;
        _recentHead = _recentHead + 1 == _recent.Length ? 0 : _recentHead + 1;
    }

    /// <summary>Draws one token from <paramref name="logits"/> (length <see cref="VocabularySize"/>), modifying them in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Sample(Span<float> logits)
    {
        if (logits.Length != VocabularySize)
        {
            ThrowHelper.Length(nameof(logits), logits.Length, VocabularySize);
        }

        SamplingOptions options = Options;
        if (options.RepetitionPenalty != 1f && _recentLength > 0)
        {
            float penalty = options.RepetitionPenalty;
            int[] counts = _recentCounts;
            for (int t = 0; t < logits.Length; t++)
            {
                if (counts[t] > 0)
                {
                    logits[t] = Penalize(logits[t], penalty);
                }
            }
        }

        int token;
        if (options.IsGreedy)
        {
            token = Softmax.ArgMax(logits);
        }
        else
        {
            if (options.Temperature != 1f)
            {
                ApplyTemperature(logits, options.Temperature);
            }

            if (options.TopK > 0)
            {
                ApplyTopK(logits, options.TopK, _scratch);
            }

            if (options.TopP < 1f)
            {
                ApplyTopP(logits, options.TopP, _scratch);
            }

            token = SampleFromLogits(logits, ref _random);
        }

        Observe(token);
        return token;
    }

    /// <summary>Greedy choice: the index of the largest logit (first on ties).</summary>
    public static int Greedy(ReadOnlySpan<float> logits) => Softmax.ArgMax(logits);

    /// <summary>
    /// logits[i] = (logits[i] − max) / temperature. Shifting by the max first leaves the softmax unchanged and means a
    /// tiny temperature sends the other logits toward −∞ instead of overflowing the largest to +∞.
    /// Temperature must be finite and &gt; 0 (greedy is a separate path).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ApplyTemperature(Span<float> logits, float temperature)
    {
        if (!(temperature > 0f) || float.IsPositiveInfinity(temperature))
        {
            ThrowHelper.OutOfRange(nameof(temperature), temperature, "temperature must be finite and > 0 here (use Greedy for 0).");
        }

        float max = Softmax.CheckedMax(logits, nameof(logits), out _);
        if (float.IsNegativeInfinity(max))
        {
            ThrowHelper.AllNegativeInfinity(nameof(logits));
        }

        for (int i = 0; i < logits.Length; i++)
        {
            logits[i] = (logits[i] - max) / temperature;
        }
    }

    /// <summary>
    /// CTRL repetition penalty: for each distinct token in <paramref name="recentTokens"/>, a positive logit is divided by
    /// <paramref name="penalty"/> and a negative one multiplied by it. O(n²) in the number of recent tokens (they are
    /// de-duplicated without scratch memory); <see cref="Sampler"/> itself keeps counts and is O(V).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ApplyRepetitionPenalty(Span<float> logits, ReadOnlySpan<int> recentTokens, float penalty)
    {
        if (!(penalty > 0f) || float.IsPositiveInfinity(penalty))
        {
            ThrowHelper.OutOfRange(nameof(penalty), penalty, "penalty must be finite and > 0.");
        }

        for (int i = 0; i < recentTokens.Length; i++)
        {
            int token = recentTokens[i];
            if ((uint)token >= (uint)logits.Length)
            {
                ThrowHelper.Token(nameof(recentTokens), token, logits.Length);
            }

            if (recentTokens[..i].Contains(token))
            {
                continue;
            }

            logits[token] = Penalize(logits[token], penalty);
        }
    }

    /// <summary>
    /// Keeps the <paramref name="k"/> largest logits and sets the others to −∞. Exactly k survive: among logits equal
    /// to the k-th largest, the lowest indices are kept. <paramref name="scratch"/> needs logits.Length floats.
    /// Quickselect (Hoare partition, median of three): O(V) expected, no allocation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ApplyTopK(Span<float> logits, int k, Span<float> scratch)
    {
        if (k < 1)
        {
            ThrowHelper.OutOfRange(nameof(k), k, "k must be ≥ 1.");
        }

        if (scratch.Length < logits.Length)
        {
            ThrowHelper.TooShort(nameof(scratch), scratch.Length, logits.Length);
        }

        if (k >= logits.Length)
        {
            return;
        }

        Span<float> work = scratch[..logits.Length];
        logits.CopyTo(work);
        float threshold = SelectKthLargest(work, k);
        int greater = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            if (logits[i] > threshold)
            {
                greater++;
            }
        }

        int equalAllowed = k - greater;
        for (int i = 0; i < logits.Length; i++)
        {
            float v = logits[i];
            if (v > threshold)
            {
                continue;
            }

            if (v == threshold && equalAllowed > 0)
            {
                equalAllowed--;
                continue;
            }

            logits[i] = float.NegativeInfinity;
        }
    }

    /// <summary>
    /// Nucleus filter (Holtzman et al. 2020): keeps the most probable tokens until their probability mass reaches
    /// <paramref name="p"/>; every token whose logit equals the last kept one is kept too (so the result does not
    /// depend on sort order); the rest become −∞. p in (0, 1]. <paramref name="scratch"/> needs logits.Length floats.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ApplyTopP(Span<float> logits, float p, Span<float> scratch)
    {
        if (!(p > 0f && p <= 1f))
        {
            ThrowHelper.OutOfRange(nameof(p), p, "p must be in (0, 1].");
        }

        if (scratch.Length < logits.Length)
        {
            ThrowHelper.TooShort(nameof(scratch), scratch.Length, logits.Length);
        }

        float max = Softmax.CheckedMax(logits, nameof(logits), out _);
        if (float.IsNegativeInfinity(max))
        {
            ThrowHelper.AllNegativeInfinity(nameof(logits));
        }

        if (p == 1f)
        {
            return;
        }

        // Only tokens with probability ≥ ε = (1 − p) / V can be in the nucleus: the others weigh < V·ε = 1 − p
        // together, so the tokens above ε already hold more than p. Sorting just those keeps peaked
        // distributions over large vocabularies cheap.
        double total = Softmax.SumExp(logits, max);
        float cutoff = max + (float)Math.Log((1.0 - p) / logits.Length * total);
        int candidates = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            if (logits[i] >= cutoff)
            {
                scratch[candidates++] = logits[i];
            }
        }

        Span<float> sorted = scratch[..candidates];
        HeapSortAscending(sorted); // not Span.Sort: under NativeAOT that allocates a comparison delegate per call
        double target = p * total;
        double mass = 0;
        float threshold = max;
        for (int i = sorted.Length - 1; i >= 0; i--)
        {
            threshold = sorted[i];
            mass += MathF.Exp(threshold - max);
            if (mass >= target)
            {
                break;
            }
        }

        for (int i = 0; i < logits.Length; i++)
        {
            if (logits[i] < threshold)
            {
                logits[i] = float.NegativeInfinity;
            }
        }
    }

    /// <summary>
    /// Draws index i with probability softmax(logits)[i]: u = NextDouble() · Σ exp(l − max), then the first index
    /// whose running sum exceeds u. −∞ logits are never drawn. Throws when all are −∞, or on NaN/+∞.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int SampleFromLogits(ReadOnlySpan<float> logits, ref Xoshiro128StarStar random)
    {
        float max = Softmax.CheckedMax(logits, nameof(logits), out int argMax);
        if (float.IsNegativeInfinity(max))
        {
            ThrowHelper.AllNegativeInfinity(nameof(logits));
        }

        double total = Softmax.SumExp(logits, max);
        double u = random.NextDouble() * total;
        double running = 0;
        int last = argMax;
        for (int i = 0; i < logits.Length; i++)
        {
            float l = logits[i];
            if (float.IsNegativeInfinity(l))
            {
                continue;
            }

            running += MathF.Exp(l - max);
            last = i;
            if (u < running)
            {
                return i;
            }
        }

        // u rounded up to the total: the last drawable index.
        return last;
    }

    private static float Penalize(float logit, float penalty) => logit > 0f ? logit / penalty : logit * penalty;

    /// <summary>Rearranges <paramref name="a"/> so a[k − 1] is the k-th largest; returns it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float SelectKthLargest(Span<float> a, int k)
    {
        int target = k - 1;
        int lo = 0;
        int hi = a.Length - 1;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            float pivot = MedianOfThree(a[lo], a[mid], a[hi]);
            int i = lo;
            int j = hi;
            while (i <= j)
            {
                while (a[i] > pivot)
                {
                    i++;
                }

                while (a[j] < pivot)
                {
                    j--;
                }

                if (i <= j)
                {
                    (a[i], a[j]) = (a[j], a[i]);
                    i++;
                    j--;
                }
            }

            // Now a[lo..j] ≥ pivot, a[i..hi] ≤ pivot, and a[j+1..i-1] == pivot.
            if (target <= j)
            {
                hi = j;
            }
            else if (target >= i)
            {
                lo = i;
            }
            else
            {
                break;
            }
        }

        return a[target];
    }

    /// <summary>In-place heapsort, ascending: O(n log n), no recursion, no allocation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void HeapSortAscending(Span<float> a)
    {
        int n = a.Length;
        for (int start = (n >> 1) - 1; start >= 0; start--)
        {
            SiftDown(a, start, n);
        }

        for (int end = n - 1; end > 0; end--)
        {
            (a[0], a[end]) = (a[end], a[0]);
            SiftDown(a, 0, end);
        }
    }

    private static void SiftDown(Span<float> a, int root, int count)
    {
        float value = a[root];
        while (true)
        {
            int child = (2 * root) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && a[child + 1] > a[child])
            {
                child++;
            }

            if (!(a[child] > value))
            {
                break;
            }

            a[root] = a[child];
            root = child;
        }

        a[root] = value;
    }

    private static float MedianOfThree(float a, float b, float c)
    {
        if (a > b)
        {
            (a, b) = (b, a);
        }

        if (b > c)
        {
            b = c;
        }

        return a > b ? a : b;
    }
}
