using RnnEmbedded.Runtime;

namespace RnnEmbedded.Tests.Decoding;

/// <summary>The beam search's objective, enumerated exhaustively: every complete hypothesis, scored the documented way.</summary>
internal static class Exhaustive
{
    public readonly record struct Hypothesis(int[] Tokens, double LogProb, double Score);

    public static List<Hypothesis> Search<TModel>(TModel primed, float[] logits, int maxLength, Func<int, bool> isStop, int minLength, double alpha)
        where TModel : struct, ITokenModel<TModel>
    {
        var results = new List<Hypothesis>();
        Expand(primed, logits, [], 0.0, maxLength, isStop, minLength, alpha, results);
        results.Sort((a, b) => b.Score.CompareTo(a.Score));
        return results;
    }

    private static void Expand<TModel>(
        TModel state, float[] logits, List<int> prefix, double logProb, int maxLength, Func<int, bool> isStop, int minLength, double alpha, List<Hypothesis> results)
        where TModel : struct, ITokenModel<TModel>
    {
        double max = logits.Max();
        double lse = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
        int depth = prefix.Count + 1;
        for (int t = 0; t < logits.Length; t++)
        {
            double lp = logProb + logits[t] - lse;
            bool stop = isStop(t);
            if (stop && depth < minLength)
            {
                continue;
            }

            if (stop || depth == maxLength)
            {
                int[] tokens = [.. prefix, t];
                results.Add(new Hypothesis(tokens, lp, lp / Math.Pow(depth, alpha)));
                continue;
            }

            TModel next = state;
            var nextLogits = new float[logits.Length];
            next.Step(t, nextLogits);
            prefix.Add(t);
            Expand(next, nextLogits, prefix, lp, maxLength, isStop, minLength, alpha, results);
            prefix.RemoveAt(prefix.Count - 1);
        }
    }
}
