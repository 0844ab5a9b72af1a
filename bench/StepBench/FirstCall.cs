using System.Diagnostics;
using Bench;
using RnnEmbedded.Runtime;

/// <summary>
/// First-call cost under the JIT's default settings (tiered compilation on, no environment variables): each model
/// is measured in a fresh child process (so nothing is compiled yet), which times the first Step (compilation),
/// the mean of the next 1,000 steps, and the steady-state mean of steps 50,000–60,000. The parent prints the
/// ratio warm / steady; the target is ≤ 1.2 (docs/benchmarks.md).
/// </summary>
internal static class FirstCall
{
    private const int Warm = 1_000;
    private const int SteadyFrom = 50_000;
    private const int SteadyTo = 60_000;

    public static void Parent(int runs)
    {
        string dll = typeof(FirstCall).Assembly.Location;
        Console.WriteLine($"each model in {runs} fresh processes; the row with the median ratio");
        Console.WriteLine("model      first_us  next1000_ns  steady_ns  ratio");
        foreach (string name in new[] { "lstm128", "gru128", "lstm256", "gru256" })
        {
            var rows = new List<(double Ratio, string Line)>();
            for (int run = 0; run < runs; run++)
            {
                string line = RunChild(dll, name);
                rows.Add((double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[4],
                    System.Globalization.CultureInfo.InvariantCulture), line));
            }

            rows.Sort((a, b) => a.Ratio.CompareTo(b.Ratio));
            Console.WriteLine(rows[rows.Count / 2].Line);
        }
    }

    private static string RunChild(string dll, string name)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--first-call-child");
        start.ArgumentList.Add(name);
        foreach (string key in s_jitSettings)
        {
            start.Environment.Remove(key); // default settings: whatever the caller's shell set
        }

        using Process child = Process.Start(start)!;
        string line = child.StandardOutput.ReadToEnd().Trim();
        child.WaitForExit();
        return line;
    }

    private static readonly string[] s_jitSettings =
    {
        "DOTNET_TieredCompilation", "DOTNET_TieredPGO", "DOTNET_TC_QuickJitForLoops", "DOTNET_ReadyToRun",
        "DOTNET_TC_QuickJit", "DOTNET_OSR_HitLimit",
    };

    public static void Child(string name)
    {
        switch (name)
        {
            case "lstm128": Measure<Lstm128>(name); break;
            case "gru128": Measure<Gru128>(name); break;
            case "lstm256": Measure<Lstm256>(name); break;
            case "gru256": Measure<Gru256>(name); break;
            default: throw new ArgumentException($"unknown model '{name}'", nameof(name));
        }
    }

    private static void Measure<TModel>(string name)
        where TModel : struct, ITokenModel<TModel>
    {
        var model = default(TModel);
        Span<float> logits = stackalloc float[TModel.OutputSize];
        long t0 = Stopwatch.GetTimestamp();
        model.Step(1, logits);
        double first = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;

        t0 = Stopwatch.GetTimestamp();
        for (int t = 1; t <= Warm; t++)
        {
            model.Step(t * 7 % TModel.InputSize, logits);
        }

        double warm = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / Warm;
        for (int t = Warm + 1; t < SteadyFrom; t++)
        {
            model.Step(t * 7 % TModel.InputSize, logits);
        }

        t0 = Stopwatch.GetTimestamp();
        for (int t = SteadyFrom; t < SteadyTo; t++)
        {
            model.Step(t * 7 % TModel.InputSize, logits);
        }

        double steady = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / (SteadyTo - SteadyFrom);
        Console.WriteLine(FormattableString.Invariant(
            $"{name,-10} {first,8:F0}  {warm,11:F0}  {steady,9:F0}  {warm / steady,5:F2}  sink={logits[0]:G3}"));
    }
}
