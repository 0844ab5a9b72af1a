using System.Diagnostics;
using System.Runtime.Intrinsics;
using Bench;
using RnnEmbedded.Runtime;

/// <summary>
/// The batched step against the single one, in one run: a 4-model and a 16-model batched Step vs a 1-model Step
/// (time per call, ratio), and 64 independent streams stepped together vs one by one (tokens/s, ratio). Median of
/// 7 runs each. Targets (issue 12): 4 models ≤ 1.6×, 16 models ≤ 3× a 1-model step; 64 streams ≥ 5× the tokens/s.
/// </summary>
internal static class Batch
{
    public static void Run(int iterations, string? only = null)
    {
        Console.WriteLine($"clock: {(ThreadClock.IsThreadTime ? "thread CPU time" : "wall")}; vector width {Lstm256.VectorWidth}");
        Console.WriteLine("model      1-model_us  4-model_us  16-model_us  4/1    16/1   64:one-by-one_us  64:together_us  speedup  16-model_FMA/peak");
        double peak = FmaPeak();
        Console.WriteLine(FormattableString.Invariant($"FMA peak of this thread now: {peak:F1} float multiply-adds/ns (16 independent Vector512 chains)"));
        s_peak = peak;
        if (only is null or "float32")
        {
            Measure<Lstm256>("lstm256", iterations);
            Measure<Gru256>("gru256", iterations);
            Measure<Lstm512>("lstm512", iterations / 4);
            Measure<Gru512>("gru512", iterations / 4);
        }

        // The same models with bfloat16 and int8 weights (the batched products read and widen each weight once per
        // 16 models); the FMA / peak column counts the same multiply-adds.
        if (only is null or "bfloat16")
        {
            Measure<Lstm256Bf16>("lstm256 bf16", iterations);
            Measure<Gru256Bf16>("gru256 bf16", iterations);
            Measure<Lstm512Bf16>("lstm512 bf16", iterations / 4);
            Measure<Gru512Bf16>("gru512 bf16", iterations / 4);
        }

        if (only is null or "int8")
        {
            Measure<Lstm256Int8>("lstm256 int8", iterations);
            Measure<Gru256Int8>("gru256 int8", iterations);
            Measure<Lstm512Int8>("lstm512 int8", iterations / 4);
            Measure<Gru512Int8>("gru512 int8", iterations / 4);
        }

        // int8-dynamic: each model's input quantized alone, each weight read once per 16 models (PackedGemv.Int8DotBatch.cs).
        if (only is null or "int8-dynamic")
        {
            Measure<Lstm256Int8Dynamic>("lstm256 i8dyn", iterations);
            Measure<Gru256Int8Dynamic>("gru256 i8dyn", iterations);
            Measure<Lstm512Int8Dynamic>("lstm512 i8dyn", iterations / 4);
            Measure<Gru512Int8Dynamic>("gru512 i8dyn", iterations / 4);
        }
    }

    private static double s_peak;

    // Multiply-adds per ns that one thread gets right now from 16 independent chains in registers: the ceiling for
    // a batched step, which is FMA-bound once the weights are shared by enough models.
    internal static double FmaPeak()
    {
        const int Iterations = 2_000_000;
        double best = 0;
        for (int r = 0; r < 7; r++)
        {
            long t0 = ThreadClock.Now();
            float sink = FmaLoop(Iterations, r);
            double perNs = 16.0 * Vector512<float>.Count * Iterations / (ThreadClock.Now() - t0);
            best = Math.Max(best, perNs + (sink == 12345f ? 1e-9 : 0));
        }

        return best;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static float FmaLoop(int iterations, int seed)
    {
        Vector512<float> m = Vector512.Create(0.999f), c = Vector512.Create(1e-3f * seed);
        Vector512<float> a0 = c, a1 = c, a2 = c, a3 = c, a4 = c, a5 = c, a6 = c, a7 = c;
        Vector512<float> a8 = c, a9 = c, a10 = c, a11 = c, a12 = c, a13 = c, a14 = c, a15 = c;
        for (int i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c); a1 = Vector512.FusedMultiplyAdd(a1, m, c);
            a2 = Vector512.FusedMultiplyAdd(a2, m, c); a3 = Vector512.FusedMultiplyAdd(a3, m, c);
            a4 = Vector512.FusedMultiplyAdd(a4, m, c); a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c); a7 = Vector512.FusedMultiplyAdd(a7, m, c);
            a8 = Vector512.FusedMultiplyAdd(a8, m, c); a9 = Vector512.FusedMultiplyAdd(a9, m, c);
            a10 = Vector512.FusedMultiplyAdd(a10, m, c); a11 = Vector512.FusedMultiplyAdd(a11, m, c);
            a12 = Vector512.FusedMultiplyAdd(a12, m, c); a13 = Vector512.FusedMultiplyAdd(a13, m, c);
            a14 = Vector512.FusedMultiplyAdd(a14, m, c); a15 = Vector512.FusedMultiplyAdd(a15, m, c);
        }

        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15);
    }

    private static void Measure<TModel>(string name, int iterations)
        where TModel : struct, ITokenModel<TModel>
    {
        var models = new TModel[64];
        var tokens = new int[64];
        for (int b = 0; b < tokens.Length; b++)
        {
            tokens[b] = (b * 7) % TModel.InputSize;
        }

        var outputs = new float[64 * TModel.OutputSize];
        double one = Median(() =>
        {
            for (int t = 0; t < iterations; t++)
            {
                models[0].Step(tokens[t & 63], outputs);
            }
        }) / iterations;
        double four = Median(() =>
        {
            for (int t = 0; t < iterations; t++)
            {
                TModel.Step(models.AsSpan(0, 4), tokens.AsSpan(0, 4), outputs);
            }
        }) / iterations;
        double sixteen = Median(() =>
        {
            for (int t = 0; t < iterations; t++)
            {
                TModel.Step(models.AsSpan(0, 16), tokens.AsSpan(0, 16), outputs);
            }
        }) / iterations;
        int streamSteps = Math.Max(1, iterations / 16);
        double alone = Median(() =>
        {
            for (int t = 0; t < streamSteps; t++)
            {
                for (int b = 0; b < 64; b++)
                {
                    models[b].Step(tokens[b], outputs.AsSpan(b * TModel.OutputSize, TModel.OutputSize));
                }
            }
        }) / streamSteps;
        double together = Median(() =>
        {
            for (int t = 0; t < streamSteps; t++)
            {
                TModel.Step(models, tokens, outputs);
            }
        }) / streamSteps;
        // Multiply-adds per model and step: the recurrent matrix (gates·H × H) and the head (96 × H); the input part
        // is a table row. 16 models' worth over the 16-model time, against the FMA peak.
        string cell = name.Split(' ')[0];
        int hidden = int.Parse(cell.AsSpan(cell.Length - 3), System.Globalization.CultureInfo.InvariantCulture);
        int gates = name.StartsWith("lstm", StringComparison.Ordinal) ? 4 : 3;
        double fmas = 16.0 * ((gates * hidden * (double)hidden) + (96.0 * hidden));
        double efficiency = fmas / (sixteen * 1000) / s_peak;
        Console.WriteLine(FormattableString.Invariant(
            $"{name,-12} {one,10:F2}  {four,10:F2}  {sixteen,11:F2}  {four / one,4:F2}×  {sixteen / one,4:F2}×  {alone,16:F1}  {together,14:F1}  {alone / together,5:F2}×  {efficiency * 100,5:F0}%"));
    }

    // Median of 7 timed runs (after one warm-up run), in microseconds of the thread's CPU time (ThreadClock).
    private static double Median(Action run)
    {
        run();
        var times = new double[7];
        for (int r = 0; r < times.Length; r++)
        {
            long t0 = ThreadClock.Now();
            run();
            times[r] = (ThreadClock.Now() - t0) / 1000.0;
        }

        Array.Sort(times);
        return times[times.Length / 2];
    }
}
