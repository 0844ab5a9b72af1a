using System.Diagnostics;
using Bench;
using RnnEmbedded.Runtime;

/// <summary>
/// The batched step against the single one, in one run: a 4-model and a 16-model batched Step vs a 1-model Step
/// (time per call, ratio), and 64 independent streams stepped together vs one by one (tokens/s, ratio). Median of
/// 7 runs each. Targets (issue 12): 4 models ≤ 1.6×, 16 models ≤ 3× a 1-model step; 64 streams ≥ 5× the tokens/s.
/// </summary>
internal static class Batch
{
    public static void Run(int iterations)
    {
        Console.WriteLine("model      1-model_us  4-model_us  16-model_us  4/1    16/1   64:one-by-one_us  64:together_us  speedup");
        Measure<Lstm256>("lstm256", iterations);
        Measure<Gru256>("gru256", iterations);
        Measure<Lstm512>("lstm512", iterations / 4);
        Measure<Gru512>("gru512", iterations / 4);
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
        Console.WriteLine(FormattableString.Invariant(
            $"{name,-10} {one,10:F2}  {four,10:F2}  {sixteen,11:F2}  {four / one,4:F2}×  {sixteen / one,4:F2}×  {alone,16:F1}  {together,14:F1}  {alone / together,5:F2}×"));
    }

    // Median of 7 timed runs (after one warm-up run), in microseconds.
    private static double Median(Action run)
    {
        run();
        var times = new double[7];
        for (int r = 0; r < times.Length; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            run();
            times[r] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }

        Array.Sort(times);
        return times[times.Length / 2];
    }
}
