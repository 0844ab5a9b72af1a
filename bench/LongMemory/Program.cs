using System.Globalization;
using RnnEmbedded.Bench.LongMemory;

// bench/LongMemory: `generate` writes the a/b streams as a regress corpus; `plot` draws held-out error curves.
// See bench/LongMemory/README.md.
try
{
    return args.Length > 0 && args[0] == "generate" ? Generate(args[1..])
        : args.Length > 0 && args[0] == "plot" ? Plot(args[1..])
        : Usage();
}
catch (ArgumentException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 1;
}

static int Usage()
{
    Console.Error.WriteLine("""
        usage: LongMemory generate --out FILE.csv [--sequences 2000] [--seed 1] [--gap-min 50] [--gap-max 60] [--reports 2] [--max-adds 2]
               LongMemory plot --out FILE.svg [--title TEXT] [--baseline MSE] LABEL=CHECKPOINT.safetensors ...
        """);
    return 2;
}

static int Generate(string[] args)
{
    var o = Options.Parse(args, ["--out", "--sequences", "--seed", "--gap-min", "--gap-max", "--reports", "--max-adds"]);
    var settings = new StreamSettings
    {
        Sequences = o.Int("--sequences", 2000),
        Seed = (ulong)o.Int("--seed", 1),
        GapMin = o.Int("--gap-min", 50),
        GapMax = o.Int("--gap-max", 60),
        Reports = o.Int("--reports", 2),
        MaxAdds = o.Int("--max-adds", 2),
    };
    string path = o.Required("--out");
    using var writer = new StreamWriter(path);
    StreamStats stats = AbStreams.Write(settings, writer);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"wrote {path}: {settings.Sequences:N0} sequences, {stats.Rows:N0} rows, {stats.Reports:N0} reports (b), "
        + $"marker gaps {stats.MinGap}–{stats.MaxGap} steps, target mean {stats.TargetMean:F4}, variance {stats.TargetVariance:F4}"));
    return 0;
}

static int Plot(string[] args)
{
    var o = Options.Parse(args, ["--out", "--title", "--baseline"], allowPositional: true);
    var series = new List<CurvePlot.Series>();
    foreach (string item in o.Positional)
    {
        int eq = item.LastIndexOf('='); // labels may hold '=' ("LSTM H=32"), the path may not
        if (eq <= 0)
        {
            throw new ArgumentException($"'{item}' is not LABEL=CHECKPOINT.safetensors");
        }

        series.Add(CurvePlot.ReadValidation(item[..eq], item[(eq + 1)..]));
    }

    if (series.Count == 0)
    {
        throw new ArgumentException("plot needs at least one LABEL=CHECKPOINT.safetensors");
    }

    string? baseline = o.Get("--baseline");
    string svg = CurvePlot.Render(series, o.Get("--title") ?? "held-out mean squared error",
        baseline is null ? null : double.Parse(baseline, CultureInfo.InvariantCulture));
    File.WriteAllText(o.Required("--out"), svg);
    Console.WriteLine($"wrote {o.Required("--out")}: {string.Join(", ", series.Select(s => $"{s.Label} ({s.Points.Count} points)"))}");
    return 0;
}
