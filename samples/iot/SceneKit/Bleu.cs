namespace SceneKit;

/// <summary>BLEU-4 and exact-match scores of a corpus of candidate captions against references.</summary>
/// <param name="Bleu">Corpus BLEU in [0, 1].</param>
/// <param name="Precisions">Modified n-gram precisions p_1..p_4.</param>
/// <param name="BrevityPenalty">BP = 1 if c &gt; r, else exp(1 − r / c).</param>
/// <param name="CandidateLength">c: total candidate words.</param>
/// <param name="ReferenceLength">r: effective reference length.</param>
/// <param name="ExactMatch">Fraction of candidates equal (word for word) to one of their references.</param>
/// <param name="Count">Number of candidates.</param>
public sealed record BleuScore(double Bleu, double[] Precisions, double BrevityPenalty, long CandidateLength, long ReferenceLength, double ExactMatch, int Count);

/// <summary>
/// Corpus-level BLEU (Papineni, Roukos, Ward and Zhu, "BLEU: a Method for Automatic Evaluation of Machine
/// Translation", ACL 2002), N = 4, uniform weights w_n = 1/4, no smoothing:
/// BLEU = BP · exp(Σ_n w_n log p_n), where p_n = Σ_candidates Σ_ngrams min(count, max count in any reference)
/// / Σ_candidates Σ_ngrams count (the modified precision, clipped counts summed over the whole corpus before
/// dividing — section 2.1.1), and BP = 1 if c &gt; r else exp(1 − r/c), with c the total candidate length and r the
/// effective reference length: per candidate the reference length closest to it (ties: the shorter), summed
/// (section 2.2.2). BLEU is 0 when some p_n is 0 (or c = 0). This is the definition NLTK's corpus_bleu and
/// multi-bleu.perl implement; inputs here are already tokenized.
/// </summary>
public static class Bleu
{
    public const int MaxOrder = 4;

    /// <summary>Scores tokenized candidates, each against one or more tokenized references.</summary>
    public static BleuScore Score(IReadOnlyList<IReadOnlyList<string>> candidates, IReadOnlyList<IReadOnlyList<IReadOnlyList<string>>> references)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(references);
        if (candidates.Count != references.Count)
        {
            throw new ArgumentException($"{candidates.Count} candidates but {references.Count} reference sets; they must pair up.", nameof(references));
        }

        var matches = new long[MaxOrder];
        var totals = new long[MaxOrder];
        long c = 0, r = 0;
        int exact = 0;
        for (int i = 0; i < candidates.Count; i++)
        {
            IReadOnlyList<string> candidate = candidates[i];
            IReadOnlyList<IReadOnlyList<string>> refs = references[i];
            if (refs.Count == 0)
            {
                throw new ArgumentException($"candidate {i} has no reference.", nameof(references));
            }

            c += candidate.Count;
            int best = refs[0].Count;
            bool isExact = false;
            foreach (IReadOnlyList<string> reference in refs)
            {
                int d = Math.Abs(reference.Count - candidate.Count), bestD = Math.Abs(best - candidate.Count);
                if (d < bestD || (d == bestD && reference.Count < best))
                {
                    best = reference.Count;
                }

                isExact |= SameWords(candidate, reference);
            }

            r += best;
            exact += isExact ? 1 : 0;
            for (int n = 1; n <= MaxOrder; n++)
            {
                Dictionary<string, int> counts = NGrams(candidate, n);
                var maxRef = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (IReadOnlyList<string> reference in refs)
                {
                    foreach (KeyValuePair<string, int> kv in NGrams(reference, n))
                    {
                        maxRef[kv.Key] = Math.Max(maxRef.GetValueOrDefault(kv.Key), kv.Value);
                    }
                }

                foreach (KeyValuePair<string, int> kv in counts)
                {
                    matches[n - 1] += Math.Min(kv.Value, maxRef.GetValueOrDefault(kv.Key));
                    totals[n - 1] += kv.Value;
                }
            }
        }

        var precisions = new double[MaxOrder];
        double logSum = 0;
        bool zero = c == 0;
        for (int n = 0; n < MaxOrder; n++)
        {
            precisions[n] = totals[n] == 0 ? 0 : (double)matches[n] / totals[n];
            if (precisions[n] == 0)
            {
                zero = true;
            }
            else
            {
                logSum += Math.Log(precisions[n]) / MaxOrder;
            }
        }

        double bp = c == 0 ? 0 : c > r ? 1.0 : Math.Exp(1.0 - (double)r / c);
        double bleu = zero ? 0 : bp * Math.Exp(logSum);
        double exactRate = candidates.Count == 0 ? 0 : (double)exact / candidates.Count;
        return new BleuScore(bleu, precisions, bp, c, r, exactRate, candidates.Count);
    }

    /// <summary>One reference per candidate; captions are split by <see cref="Captions.Tokenize"/>.</summary>
    public static BleuScore Score(IReadOnlyList<string> candidates, IReadOnlyList<string> references)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(references);
        var cand = new List<IReadOnlyList<string>>(candidates.Count);
        var refs = new List<IReadOnlyList<IReadOnlyList<string>>>(references.Count);
        foreach (string s in candidates)
        {
            cand.Add(Captions.Tokenize(s));
        }

        foreach (string s in references)
        {
            refs.Add([Captions.Tokenize(s)]);
        }

        return Score(cand, refs);
    }

    private static bool SameWords(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (int i = 0; i < a.Count; i++)
        {
            if (!string.Equals(a[i], b[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private static Dictionary<string, int> NGrams(IReadOnlyList<string> words, int n)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i + n <= words.Count; i++)
        {
            // Words never contain U+0001, so joining with it keys n-grams unambiguously.
            string key = string.Join('\u0001', Slice(words, i, n));
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }

        return counts;
    }

    private static IEnumerable<string> Slice(IReadOnlyList<string> words, int start, int count)
    {
        for (int i = start; i < start + count; i++)
        {
            yield return words[i];
        }
    }
}
