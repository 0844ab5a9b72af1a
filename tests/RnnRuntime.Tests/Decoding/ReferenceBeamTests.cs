using RnnEmbedded.Runtime;

namespace RnnEmbedded.Tests.Decoding;

/// <summary>
/// Narrow beams against a plain list-based beam search written from the documented rules (no heap, no pruning,
/// full sorts), so the production heap selection, pool replacement and α = 0 pruning are checked where they act.
/// </summary>
public class ReferenceBeamTests
{
    private sealed record Partial(TinyCharModel State, float[] Logits, int[] Tokens, double LogProb);

    private static List<Exhaustive.Hypothesis> ReferenceBeam(
        TinyCharModel primed, float[] logits, int width, int maxLength, int n, double alpha, Func<int, bool> isStop)
    {
        var live = new List<Partial> { new(primed, logits, [], 0) };
        var pool = new List<Exhaustive.Hypothesis>();
        for (int depth = 1; depth <= maxLength && live.Count > 0; depth++)
        {
            var candidates = new List<(Partial Parent, int Token, double LogProb)>();
            foreach (Partial p in live)
            {
                double max = p.Logits.Max();
                double lse = max + Math.Log(p.Logits.Sum(l => Math.Exp(l - max)));
                for (int t = 0; t < p.Logits.Length; t++)
                {
                    double lp = p.LogProb + p.Logits[t] - lse;
                    if (isStop(t) || depth == maxLength)
                    {
                        pool.Add(new Exhaustive.Hypothesis([.. p.Tokens, t], lp, lp / Math.Pow(depth, alpha)));
                    }
                    else
                    {
                        candidates.Add((p, t, lp));
                    }
                }
            }

            live = candidates
                .OrderByDescending(c => c.LogProb)
                .Take(width)
                .Select(c =>
                {
                    TinyCharModel next = c.Parent.State;
                    var nextLogits = new float[TinyCharModel.V];
                    next.Step(c.Token, nextLogits);
                    return new Partial(next, nextLogits, [.. c.Parent.Tokens, c.Token], c.LogProb);
                })
                .ToList();
        }

        return pool.OrderByDescending(h => h.Score).Take(n).ToList();
    }

    [Theory]
    [InlineData(1, 0f)]
    [InlineData(2, 0f)]
    [InlineData(3, 0f)]
    [InlineData(2, 0.8f)]
    [InlineData(4, 1f)]
    public void NarrowBeam_MatchesAListBasedReferenceBeam(int width, float alpha)
    {
        const int maxLength = 7;
        const int n = 4;
        var vocabulary = CharVocabulary.FromModel<TinyCharModel>();
        foreach (string prompt in new[] { "a", "cab", "b.c", "\nab" })
        {
            var state = default(TinyCharModel);
            var logits = new float[TinyCharModel.V];
            foreach (char c in prompt)
            {
                state.Step(vocabulary.Map(c), logits);
            }

            // Only ' ' stops here, so hypotheses run long and the beam really prunes.
            var search = new BeamSearch<TinyCharModel>(width, maxLength, n) { LengthPenalty = alpha };
            search.SetStopToken(3);
            var tokens = new int[n * maxLength];
            var lengths = new int[n];
            var scores = new float[n];
            int found = search.Search(state, logits, tokens, lengths, scores);

            List<Exhaustive.Hypothesis> expected = ReferenceBeam(state, logits, width, maxLength, n, alpha, t => t == 3);
            Assert.Equal(expected.Count, found);
            for (int r = 0; r < found; r++)
            {
                Assert.Equal(expected[r].Tokens, tokens.AsSpan(r * maxLength, lengths[r]).ToArray());
                Assert.InRange(scores[r], expected[r].Score - 1e-4, expected[r].Score + 1e-4);
            }
        }
    }

    [Fact]
    public void NarrowBeam_DiffersFromExhaustiveSearch_SoTheReferenceComparisonHasTeeth()
    {
        const int maxLength = 7;
        const int n = 4;
        var vocabulary = CharVocabulary.FromModel<TinyCharModel>();
        int differing = 0;
        foreach (string prompt in new[] { "a", "cab", "b.c", "\nab" })
        {
            var state = default(TinyCharModel);
            var logits = new float[TinyCharModel.V];
            foreach (char c in prompt)
            {
                state.Step(vocabulary.Map(c), logits);
            }

            List<Exhaustive.Hypothesis> beam = ReferenceBeam(state, logits, 2, maxLength, n, 0, t => t == 3);
            List<Exhaustive.Hypothesis> all = Exhaustive.Search(state, logits, maxLength, t => t == 3, 0, 0);
            for (int r = 0; r < n; r++)
            {
                if (!beam[r].Tokens.SequenceEqual(all[r].Tokens))
                {
                    differing++;
                    break;
                }
            }
        }

        Assert.True(differing > 0);
    }
}
