using System.Diagnostics;
using System.Runtime.InteropServices;
using Bench;
using RnnEmbedded.Runtime;

/// <summary>
/// Where a keystroke's time goes (docs/benchmarks.md, "Keystroke budget"): the keystroke bench's work (Type or
/// Backspace + top-3 next characters + top-3 completions, the shipped KJV model, every 17th key a backspace) on the
/// real <see cref="KeystrokeEngine{TModel}"/> over <see cref="Timed{TModel}"/>, a model wrapper that timestamps each
/// single and batched step. Per keystroke: the update (and its single step), TopNextChars, and inside Completions
/// every batched call (models, µs) and the search's own time between calls (scoring, selection, state copies, the
/// engine's decode). The median and p99 keystrokes' budgets are the means over the keystrokes within ±0.5 % of rank
/// of those percentiles; the same process then times the batched steps in isolation (the --parts loop) beside them.
/// Stopwatch (TSC) for phases, thread CPU time for the whole keystroke, as --keystroke.
/// </summary>
internal static class Budget
{
    public static void Run<TModel>(int passes, string weights)
        where TModel : struct, ITokenModel<TModel>, IVocabularyModel<TModel>
    {
        var options = new KeystrokeOptions { MaxCompletions = 3, CompletionBeamWidth = 4, MaxCompletionLength = 16 };
        var engine = new KeystrokeEngine<Timed<TModel>>(CharVocabulary.FromModel<TModel>(UnknownCharPolicy.Skip), options);
        Span<char> nextChars = stackalloc char[3];
        Span<float> nextProbs = stackalloc float[3];
        Span<char> completionChars = stackalloc char[3 * engine.CompletionStride];
        Span<int> lengths = stackalloc int[3];
        Span<float> scores = stackalloc float[3];
        string text = Keystroke.Passage;
        var keys = new List<Key>(text.Length * passes);
        long allocated = 0;
        for (int pass = 0; pass <= passes; pass++)
        {
            engine.Clear();
            for (int i = 0; i < text.Length; i++)
            {
                long a0 = GC.GetAllocatedBytesForCurrentThread();
                Timed<TModel>.Begin();
                long c0 = ThreadClock.Now();
                long s0 = Stopwatch.GetTimestamp();
                if (i % 17 == 16)
                {
                    engine.Backspace();
                }
                else
                {
                    engine.Type(text[i]);
                }

                long s1 = Stopwatch.GetTimestamp();
                engine.TopNextChars(nextChars, nextProbs);
                long s2 = Stopwatch.GetTimestamp();
                Timed<TModel>.Mark(s2);
                engine.Completions(completionChars, lengths, scores);
                long s3 = Stopwatch.GetTimestamp();
                long c1 = ThreadClock.Now();
                if (pass > 0)
                {
                    allocated += GC.GetAllocatedBytesForCurrentThread() - a0;
                    keys.Add(Timed<TModel>.Take(pass, i % 17 == 16, (c1 - c0) / 1000.0, Us(s3 - s0), Us(s1 - s0), Us(s2 - s1), Us(s3 - s2), s3));
                }
            }
        }

        // Per pass, in the order run: under tiered compilation the decoder's own code starts as tier-0 (docs/benchmarks.md).
        Console.Write("per pass p50 / p99 (us):");
        for (int pass = 1; pass <= passes; pass++)
        {
            List<double> t = keys.Where(k => k.Pass == pass).Select(k => k.Total).Order().ToList();
            Console.Write(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"  {t[t.Count / 2]:F0} / {t[Math.Min(t.Count - 1, (int)Math.Ceiling(0.99 * t.Count) - 1)]:F0}"));
        }

        Console.WriteLine();
        keys.Sort((a, b) => a.Total.CompareTo(b.Total));
        Console.WriteLine(
            $"keystroke budget, KJV LSTM H=256, {weights} weights, beam 4, length 16: {keys.Count} keystrokes ({passes} passes " +
            $"after a warm-up), thread CPU time p50 {At(keys, 0.5).Total:F1} p90 {At(keys, 0.9).Total:F1} p99 {At(keys, 0.99).Total:F1} us, " +
            $"bytes allocated {allocated}");
        Console.WriteLine("phase means over the keystrokes within ±0.5% of rank (by thread CPU time) that were not preempted (wall − CPU ≤ 1 us + 1%) (us):");
        Console.WriteLine("  band            total  update(single)  topnext  completions = steps [calls/models] + search [first, between, last]  unaccounted");
        foreach ((string name, double q) in new[] { ("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("all", -1.0) })
        {
            List<Key> band = (q < 0 ? keys : Band(keys, q)).Where(k => k.Wall - k.Total <= 1 + (0.01 * k.Total)).ToList();
            Print(name, band);
        }

        // Per batch size: the in-context batched call against the same call in a tight loop (this process, same weights).
        Console.WriteLine("batched call by models, in the keystrokes (mean / median us, count) vs isolated (median of 5 loops, us):");
        for (int n = 1; n <= 4; n++)
        {
            List<double> calls = Timed<TModel>.ByModels[n];
            calls.Sort();
            double isolated = Isolated<TModel>(n);
            Console.WriteLine(FormattableString.Invariant(
                $"  b{n}: in context {(calls.Count > 0 ? calls.Average() : 0),6:F2} / {(calls.Count > 0 ? calls[calls.Count / 2] : 0),6:F2} ({calls.Count,5})   isolated {isolated,6:F2}"));
        }

        List<double> singles = Timed<TModel>.SingleTimes;
        singles.Sort();
        Console.WriteLine(FormattableString.Invariant(
            $"  single step: in context {(singles.Count > 0 ? singles.Average() : 0):F2} / {(singles.Count > 0 ? singles[singles.Count / 2] : 0):F2} ({singles.Count})   isolated {IsolatedSingle<TModel>():F2}"));

        // Search time between calls by the live hypotheses it scored (the previous call's models).
        Console.WriteLine("search time between calls by hypotheses scored (mean / median us, count):");
        for (int n = 1; n <= 4; n++)
        {
            List<double> gaps = Timed<TModel>.GapByModels[n];
            gaps.Sort();
            if (gaps.Count > 0)
            {
                Console.WriteLine(FormattableString.Invariant($"  {n} scored: {gaps.Average(),6:F2} / {gaps[gaps.Count / 2],6:F2} ({gaps.Count})"));
            }
        }
    }

    private static void Print(string name, List<Key> band)
    {
        double M(Func<Key, double> f) => band.Average(f);
        double steps = M(k => k.Steps);
        double search = M(k => k.Completions - k.Steps);
        Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"  {name,-4} (n={band.Count,5}) {M(k => k.Total),7:F1}  {M(k => k.Update),6:F1} ({M(k => k.Single),5:F1})  {M(k => k.TopNext),7:F2}  {M(k => k.Completions),7:F1} = {steps,6:F1} [{M(k => k.Calls):F1}/{M(k => k.Models):F1}] + {search,5:F1} [{M(k => k.First):F1}, {M(k => k.Between):F1}, {M(k => k.Last):F1}]  {M(k => k.Total - k.Update - k.TopNext - k.Completions),6:F1}   backspaces {band.Count(k => k.Backspace)}"));
    }

    private static List<Key> Band(List<Key> sorted, double q)
    {
        int center = Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1);
        int half = Math.Max(1, sorted.Count / 200);
        int lo = Math.Max(0, center - half), hi = Math.Min(sorted.Count, center + half + 1);
        return sorted.GetRange(lo, hi - lo);
    }

    private static Key At(List<Key> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    internal static double Us(long ticks) => ticks * 1e6 / Stopwatch.Frequency;

    private static double Isolated<TModel>(int n)
        where TModel : struct, ITokenModel<TModel>
    {
        var models = new TModel[n];
        var tokens = new int[n];
        var outputs = new float[n * TModel.OutputSize];
        for (int b = 0; b < n; b++)
        {
            tokens[b] = (b * 7) % TModel.InputSize;
            models[b].Step(tokens[b], outputs); // a nonzero state
        }

        return Median(() => TModel.Step(models, tokens, outputs), 3000);
    }

    private static double IsolatedSingle<TModel>()
        where TModel : struct, ITokenModel<TModel>
    {
        var models = new TModel[1];
        var outputs = new float[TModel.OutputSize];
        return Median(() => models[0].Step(5, outputs), 3000);
    }

    private static double Median(Action action, int iterations)
    {
        for (int i = 0; i < iterations / 4; i++)
        {
            action();
        }

        var times = new double[5];
        for (int r = 0; r < times.Length; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < iterations; i++)
            {
                action();
            }

            times[r] = Us(Stopwatch.GetTimestamp() - t0) / iterations;
        }

        Array.Sort(times);
        return times[2];
    }

    internal readonly record struct Key(
        int Pass, bool Backspace, double Total, double Wall, double Update, double TopNext, double Completions,
        double Single, double Steps, int Calls, int Models, double First, double Between, double Last);
}

/// <summary>
/// A token model that timestamps its steps (Stopwatch ticks) for <see cref="Budget"/>, then steps TModel's: per
/// keystroke the single steps' time, each batched call's time and models, and the search's time before the first
/// call, between calls and after the last (up to the end of Completions).
/// </summary>
internal struct Timed<TModel> : ITokenModel<Timed<TModel>>
    where TModel : struct, ITokenModel<TModel>
{
    public static readonly List<double>[] ByModels = Enumerable.Range(0, 17).Select(_ => new List<double>(1 << 16)).ToArray();
    public static readonly List<double>[] GapByModels = Enumerable.Range(0, 17).Select(_ => new List<double>(1 << 16)).ToArray();
    public static readonly List<double> SingleTimes = new(1 << 16); // preallocated: the bench allocates nothing per keystroke
    private static long s_single;
    private static long s_steps;
    private static int s_calls;
    private static int s_models;
    private static long s_mark;        // Completions' start, then the end of the last batched call
    private static int s_lastModels;   // models of the last batched call (the hypotheses scored after it)
    private static long s_first;
    private static long s_between;
    private static bool s_record;
    private TModel _model;

    public static int InputSize => TModel.InputSize;

    public static int OutputSize => TModel.OutputSize;

    public static ModelTask Task => TModel.Task;

    public static void Begin()
    {
        s_single = s_steps = s_first = s_between = 0;
        s_calls = s_models = 0;
        s_record = false;
    }

    public static void Mark(long completionsStart)
    {
        s_mark = completionsStart;
        s_record = true;
    }

    public static Budget.Key Take(int pass, bool backspace, double total, double wall, double update, double topNext, double completions, long end)
    {
        double last = s_calls > 0 ? Budget.Us(end - s_mark) : 0;
        double first = s_calls > 0 ? Budget.Us(s_first) : completions;
        var key = new Budget.Key(pass, backspace, total, wall, update, topNext, completions, Budget.Us(s_single), Budget.Us(s_steps),
            s_calls, s_models, first, Budget.Us(s_between), last);
        s_record = false;
        return key;
    }

    public void Reset() => _model.Reset();

    public void Step(int token, Span<float> output)
    {
        long t0 = Stopwatch.GetTimestamp();
        _model.Step(token, output);
        long t = Stopwatch.GetTimestamp() - t0;
        s_single += t;
        SingleTimes.Add(Budget.Us(t));
    }

    public static void Step(Span<Timed<TModel>> models, ReadOnlySpan<int> tokens, Span<float> outputs)
    {
        long t0 = Stopwatch.GetTimestamp();
        TModel.Step(MemoryMarshal.Cast<Timed<TModel>, TModel>(models), tokens, outputs);
        long t1 = Stopwatch.GetTimestamp();
        if (!s_record)
        {
            return;
        }

        if (s_calls == 0)
        {
            s_first = t0 - s_mark;
        }
        else
        {
            s_between += t0 - s_mark;
            GapByModels[s_lastModels].Add(Budget.Us(t0 - s_mark));
        }

        s_mark = t1;
        s_lastModels = models.Length;
        s_steps += t1 - t0;
        s_calls++;
        s_models += models.Length;
        ByModels[models.Length].Add(Budget.Us(t1 - t0));
    }
}
