using System.Diagnostics;
using System.Globalization;
using Bench;
using RnnEmbedded.Runtime;

// PrecisionBench --ratios [steps] [reps]: Step + softmax of the LSTM benchmark models (embedding 96×64 folded into
// a table, one LSTM layer of H, dense 96) with float32, bfloat16 and int8 weights. Each repetition runs the three
// back to back (interleaved, so load changes hit all three alike); the figure is the median ns/step of the
// repetitions after the first, and the ratios are float32 time / other time (> 1: faster than float32).
int steps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5000;
int reps = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 15;
Console.WriteLine($"vector width {Lstm512.VectorWidth}; {steps} steps per measurement, median of {reps - 1} interleaved repetitions");
Console.WriteLine($"{"model",-9}{"fp32 us",10}{"bf16 us",10}{"int8 us",10}{"fp32/bf16",11}{"fp32/int8",11}");
Compare<Lstm128, Lstm128Bf16, Lstm128Int8>("lstm128", steps, reps);
Compare<Lstm256, Lstm256Bf16, Lstm256Int8>("lstm256", steps, reps);
Compare<Lstm512, Lstm512Bf16, Lstm512Int8>("lstm512", steps, reps);

static void Compare<TF, TB, TI>(string name, int steps, int reps)
    where TF : struct, ITokenModel<TF>
    where TB : struct, ITokenModel<TB>
    where TI : struct, ITokenModel<TI>
{
    var f = new double[reps];
    var b = new double[reps];
    var i = new double[reps];
    for (int r = 0; r < reps; r++)
    {
        f[r] = Time<TF>(steps);
        b[r] = Time<TB>(steps);
        i[r] = Time<TI>(steps);
    }

    double mf = Median(f), mb = Median(b), mi = Median(i);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name,-9}{mf / 1000,10:F2}{mb / 1000,10:F2}{mi / 1000,10:F2}{mf / mb,11:F2}{mf / mi,11:F2}"));
    if (Environment.GetEnvironmentVariable("PRECISION_NS_LINES") == "1")
    {
        // The format of StepBench --ratios, baseline.c and pytorch_step.py, for bench/step/run.sh's table.
        string cell = name[..^3];
        string h = name[^3..];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"generated {cell}_bf16 H={h} ns_per_step={mb:F0}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"generated {cell}_int8 H={h} ns_per_step={mi:F0}"));
    }
}

static double Time<TModel>(int steps)
    where TModel : struct, ITokenModel<TModel>
{
    var model = default(TModel);
    Span<float> logits = stackalloc float[TModel.OutputSize];
    float sink = 0;
    long t0 = Stopwatch.GetTimestamp();
    for (int t = 0; t < steps; t++)
    {
        model.Step(t * 7 % TModel.InputSize, logits);
        Softmax.Apply(logits);
        sink += logits[t % TModel.OutputSize];
    }

    double ns = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / steps;
    return sink == 12345f ? ns + 1 : ns;
}

static double Median(double[] runs)
{
    double[] measured = runs[1..]; // the first repetition is warm-up
    Array.Sort(measured);
    return measured[measured.Length / 2];
}

namespace Bench
{
    public partial struct Lstm128;

    public partial struct Lstm256;

    public partial struct Lstm512;

    public partial struct Lstm128Bf16;

    public partial struct Lstm256Bf16;

    public partial struct Lstm512Bf16;

    public partial struct Lstm128Int8;

    public partial struct Lstm256Int8;

    public partial struct Lstm512Int8;
}
