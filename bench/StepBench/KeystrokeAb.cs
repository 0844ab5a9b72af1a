using Bench;
using Bench.Before;
using RnnEmbedded.Runtime;

/// <summary>
/// The keystroke benchmark's work (Type or Backspace + top-3 next characters + top-3 completions, the shipped KJV
/// model) on two engines in one process, keystroke by keystroke: today's <see cref="KeystrokeEngine{TModel}"/> and the
/// frozen c424011 copy (<see cref="KeystrokeEngineBefore{TModel}"/>), alternating which goes first. Each keystroke's
/// results are compared bit for bit; the times are paired, so the ratios see the same load.
/// </summary>
internal static class KeystrokeAb
{
    public static void Run(int passes)
    {
        var options = new KeystrokeOptions { MaxCompletions = 3, CompletionBeamWidth = 4, MaxCompletionLength = 16 };
        CharVocabulary vocabulary = CharVocabulary.FromModel<KjvChar>(UnknownCharPolicy.Skip);
        var after = new KeystrokeEngine<KjvChar>(vocabulary, options);
        var before = new KeystrokeEngineBefore<KjvChar>(vocabulary, options);
        int stride = after.CompletionStride;
        var a = new Results(stride);
        var b = new Results(stride);
        string text = Keystroke.Passage;
        var tAfter = new List<double>();
        var tBefore = new List<double>();
        int mismatches = 0;
        for (int pass = 0; pass <= passes; pass++)
        {
            after.Clear();
            before.Clear();
            for (int i = 0; i < text.Length; i++)
            {
                double ta, tb;
                if ((i & 1) == 0)
                {
                    tb = KeyBefore(before, text, i, b);
                    ta = KeyAfter(after, text, i, a);
                }
                else
                {
                    ta = KeyAfter(after, text, i, a);
                    tb = KeyBefore(before, text, i, b);
                }

                if (!a.SameAs(b))
                {
                    mismatches++;
                }

                if (pass > 0)
                {
                    tAfter.Add(ta);
                    tBefore.Add(tb);
                }
            }
        }

        var ratios = tBefore.Zip(tAfter, (x, y) => x / y).ToList();
        double sumBefore = tBefore.Sum(), sumAfter = tAfter.Sum();
        tAfter.Sort();
        tBefore.Sort();
        ratios.Sort();
        static double P(List<double> v, double q) => v[Math.Min(v.Count - 1, (int)Math.Ceiling(q * v.Count) - 1)];
        Console.WriteLine(
            $"keystroke A/B (KJV, beam 4, {tAfter.Count} keystrokes, clock: {(ThreadClock.IsThreadTime ? "thread CPU time" : "wall")}): " +
            $"before (c424011) p50 {P(tBefore, 0.5):F1} p90 {P(tBefore, 0.9):F1} p99 {P(tBefore, 0.99):F1} us; " +
            $"after p50 {P(tAfter, 0.5):F1} p90 {P(tAfter, 0.9):F1} p99 {P(tAfter, 0.99):F1} us; " +
            $"before/after p50 {P(tBefore, 0.5) / P(tAfter, 0.5):F2} p90 {P(tBefore, 0.9) / P(tAfter, 0.9):F2} " +
            $"p99 {P(tBefore, 0.99) / P(tAfter, 0.99):F2} total {sumBefore / sumAfter:F2}, median per-keystroke ratio " +
            $"{P(ratios, 0.5):F2}; results differing {mismatches}");
    }

    private static double KeyAfter(KeystrokeEngine<KjvChar> engine, string text, int i, Results r)
    {
        long t0 = ThreadClock.Now();
        if (i % 17 == 16)
        {
            engine.Backspace();
        }
        else
        {
            engine.Type(text[i]);
        }

        r.Next = engine.TopNextChars(r.NextChars, r.NextProbs);
        r.Found = engine.Completions(r.Chars, r.Lengths, r.Scores);
        return (ThreadClock.Now() - t0) / 1000.0;
    }

    private static double KeyBefore(KeystrokeEngineBefore<KjvChar> engine, string text, int i, Results r)
    {
        long t0 = ThreadClock.Now();
        if (i % 17 == 16)
        {
            engine.Backspace();
        }
        else
        {
            engine.Type(text[i]);
        }

        r.Next = engine.TopNextChars(r.NextChars, r.NextProbs);
        r.Found = engine.Completions(r.Chars, r.Lengths, r.Scores);
        return (ThreadClock.Now() - t0) / 1000.0;
    }

    private sealed class Results(int stride)
    {
        public readonly char[] NextChars = new char[3];
        public readonly float[] NextProbs = new float[3];
        public readonly char[] Chars = new char[3 * stride];
        public readonly int[] Lengths = new int[3];
        public readonly float[] Scores = new float[3];
        public int Next;
        public int Found;

        public bool SameAs(Results o)
        {
            if (Next != o.Next || Found != o.Found || !NextChars.AsSpan(0, Next).SequenceEqual(o.NextChars.AsSpan(0, Next)))
            {
                return false;
            }

            for (int r = 0; r < Next; r++)
            {
                if (BitConverter.SingleToInt32Bits(NextProbs[r]) != BitConverter.SingleToInt32Bits(o.NextProbs[r]))
                {
                    return false;
                }
            }

            for (int r = 0; r < Found; r++)
            {
                if (Lengths[r] != o.Lengths[r] || BitConverter.SingleToInt32Bits(Scores[r]) != BitConverter.SingleToInt32Bits(o.Scores[r]) ||
                    !Chars.AsSpan(r * stride, Lengths[r]).SequenceEqual(o.Chars.AsSpan(r * stride, Lengths[r])))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
