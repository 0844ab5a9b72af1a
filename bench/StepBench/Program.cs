using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Bench;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Runtime;

// Two modes:
//   StepBench --ratios [steps]     Stopwatch medians (ns/step) in the same format as baseline.c and pytorch_step.py,
//                                  for bench/step/run.sh to print ratios measured in one run.
//   StepBench [BenchmarkDotNet args]   the BenchmarkDotNet suite ([MemoryDiagnoser]: bytes allocated per step).
if (args.Length > 0 && args[0] == "--ratios")
{
    int steps = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20000;
    Ratios.Generated<Lstm128>("lstm", 128, steps);
    Ratios.Generated<Lstm256>("lstm", 256, steps);
    Ratios.Generated<Lstm512>("lstm", 512, steps);
    Ratios.Generated<Gru128>("gru", 128, steps);
    Ratios.Generated<Gru256>("gru", 256, steps);
    Ratios.Generated<Gru512>("gru", 512, steps);
    foreach (string cell in new[] { "lstm", "gru" })
    {
        foreach (int h in new[] { 128, 256, 512 })
        {
            Ratios.Reference(cell, h, Math.Max(200, steps / 20));
        }
    }

    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Ratios).Assembly).Run(args);

internal static class Ratios
{
    public static string ModelPath(string cell, int h) =>
        Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "out", "models", $"{cell}{h}.safetensors");

    public static void Generated<TModel>(string cell, int h, int steps)
        where TModel : struct, IRecurrentModel<TModel>
    {
        var model = default(TModel);
        Span<float> logits = stackalloc float[TModel.OutputSize];
        var runs = new double[8];
        float sink = 0;
        for (int rep = 0; rep < runs.Length; rep++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int t = 0; t < steps; t++)
            {
                model.Step(t * 7 % TModel.InputSize, logits);
                Softmax.Compute(logits, logits);
                sink += logits[t % TModel.OutputSize];
            }

            runs[rep] = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / steps;
        }

        Print("generated", cell, h, runs, sink);
    }

    public static void Reference(string cell, int h, int steps)
    {
        ModelSpec spec = ModelLoader.Load(ModelPath(cell, h));
        var engine = new ReferenceEngine(spec);
        var logits = new float[spec.OutputSize];
        var runs = new double[8];
        float sink = 0;
        for (int rep = 0; rep < runs.Length; rep++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int t = 0; t < steps; t++)
            {
                engine.Step(t * 7 % spec.InputSize, logits);
                Softmax.Compute(logits, logits);
                sink += logits[t % logits.Length];
            }

            runs[rep] = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / steps;
        }

        Print("reference", cell, h, runs, sink);
    }

    private static void Print(string engine, string cell, int h, double[] runs, float sink)
    {
        double[] measured = runs[1..]; // the first run is warm-up (tiered JIT)
        Array.Sort(measured);
        Console.WriteLine($"{engine} {cell} H={h} ns_per_step={measured[measured.Length / 2]:F0}" + (sink == 12345f ? " " : ""));
    }
}

/// <summary>BenchmarkDotNet: one Step + softmax per invocation, per model; MemoryDiagnoser shows 0 B allocated.</summary>
[MemoryDiagnoser]
[GenericTypeArguments(typeof(Lstm128))]
[GenericTypeArguments(typeof(Lstm256))]
[GenericTypeArguments(typeof(Lstm512))]
[GenericTypeArguments(typeof(Gru128))]
[GenericTypeArguments(typeof(Gru256))]
[GenericTypeArguments(typeof(Gru512))]
public class StepBenchmark<TModel>
    where TModel : struct, IRecurrentModel<TModel>
{
    private TModel _model;
    private readonly float[] _logits = new float[TModel.OutputSize];
    private int _t;

    [Benchmark]
    public float Step()
    {
        _model.Step(_t = (_t + 7) % TModel.InputSize, _logits);
        Softmax.Compute(_logits, _logits);
        return _logits[0];
    }
}
