using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Bench;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Runtime;

// Modes:
//   StepBench --ratios [steps]     Stopwatch medians (ns/step) in the same format as baseline.c and pytorch_step.py,
//                                  for bench/step/run.sh to print ratios measured in one run.
//   StepBench --batch [iterations] [float32|bfloat16|int8|int8-dynamic]  4- and 16-model batched Step vs a 1-model Step; 64
//                                  streams together vs one by one (H=256 and 512, LSTM and GRU; float32, then the same
//                                  models with bfloat16, int8 and int8-dynamic weights, or only the weight type named),
//                                  as ratios.
//   StepBench --first-call [runs]  each model in a fresh default-settings process: mean of the 1,000 steps after the
//                                  first call vs the steady state (steps 50,000–60,000), as a ratio.
//   StepBench --keystroke [text]   keystroke latency on the shipped KJV model (p50/p90/p99, thread CPU time).
//   StepBench --caption [images] [in-place]  caption beam-3 with the batched step vs stepping each hypothesis alone, as a
//                                  ratio; `in-place`: the weights read in place, misaligned (RnnEmbedded.AlignWeights=false).
//   StepBench --products [cells]   the float32/bfloat16/int8/int8-dynamic products at 1..16 inputs, a 16-model LSTM 256 step's
//                                  parts (head, cell kernels, copies) and a few generated steps; `cells`: the parts only;
//                                  `int8-dynamic`: the int8-dynamic products (batch vs n singles) and steps only.
//   StepBench --parts              where the decoders' time goes: the packed product and the generated steps at 1..16
//                                  models, batched calls per keystroke's completions and per caption.
//   StepBench --loop caption|kjv|kjv-int8-dynamic N S   N models (0 = the single Step) stepped for S seconds, for a profiler;
//                                  `--loop captions 0 S`: batched caption beam-3 decoding for S seconds.
//   StepBench --keystroke-ab [passes]  the keystroke bench on today's engine and the frozen c424011 copy in one
//                                  process, keystroke by keystroke (paired times, results compared bit for bit).
//   StepBench --i8step [rounds]    the int8-dynamic product at 1..8 inputs, today's kernels vs the frozen copy from before
//                                  branch i8step, in one process, with the share of the vpdpbusd peak; int8-dynamic steps.
//   StepBench --tiles              the float32 batched product at 1..8 inputs, today's kernel vs the frozen copy from
//                                  before the tile4 branch (3a95383), in one process (bits compared first).
//   StepBench --streams [iterations] [products]  the float32 batched product at 9..64 inputs, today's kernel vs the frozen copy of
//                                  main's (Before/Batch512Before.cs), and the H=512/256 models' 1-, 16- and 64-stream steps.
//   StepBench --budget [passes] [float32|int8-dynamic]  a keystroke's time by phase (update, top next characters, each
//                                  batched call of the completions and the search between them), median and p99.
//   StepBench --dump-decoders      the keystroke and caption benches' results with every float's bits, to diff builds.
//                                  `int8-dynamic`: the keystroke part with the int8-dynamic KJV model.
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

if (args.Length > 0 && args[0] == "--batch")
{
    Batch.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2000, args.Length > 2 ? args[2] : null);
    return;
}

if (args.Length > 0 && args[0] == "--first-call")
{
    FirstCall.Parent(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5);
    return;
}

if (args.Length > 1 && args[0] == "--first-call-child")
{
    FirstCall.Child(args[1]);
    return;
}

if (args.Length > 0 && args[0] == "--caption")
{
    if (args.Contains("in-place"))
    {
        // Before any model's weights are opened: the resource read in place (8-byte aligned) instead of the default
        // 64-byte-aligned copy (docs/generator.md, "Alignment"; docs/benchmarks.md, "Caption decoding II").
        AppContext.SetSwitch(RnnEmbedded.Runtime.CompilerServices.EmbeddedWeights.AlignSwitch, false);
    }

    Caption.Run(args.Length > 1 && args[1] != "in-place" ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 50);
    return;
}

if (args.Length > 3 && args[0] == "--loop")
{
    Parts.Loop(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture));
    return;
}

if (args.Length > 0 && args[0] == "--products")
{
    Parts.Products(cellsOnly: args.Length > 1 && args[1] == "cells", dotOnly: args.Length > 1 && args[1] == "int8-dynamic");
    return;
}

if (args.Length > 0 && args[0] == "--parts")
{
    Parts.Run();
    return;
}

if (args.Length > 0 && args[0] == "--keystroke-ab")
{
    KeystrokeAb.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 6);
    return;
}

if (args.Length > 0 && args[0] == "--i8step")
{
    I8Step.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 7);
    return;
}

if (args.Length > 0 && args[0] == "--tiles")
{
    Tiles.Run();
    return;
}

if (args.Length > 0 && args[0] == "--streams")
{
    Streams.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 400, args.Length > 2 && args[2] == "products");
    return;
}

if (args.Length > 0 && args[0] == "--budget")
{
    int budgetPasses = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 6;
    if (args.Contains("int8-dynamic"))
    {
        Budget.Run<KjvCharInt8Dynamic>(budgetPasses, "int8-dynamic");
    }
    else
    {
        Budget.Run<KjvChar>(budgetPasses, "float32");
    }

    return;
}

if (args.Length > 0 && args[0] == "--dump-decoders")
{
    Dump.Run(args.Contains("int8-dynamic"));
    return;
}

if (args.Length > 0 && args[0] == "--keystroke")
{
    // --keystroke [text file] [beam=N] [length=N] [passes=N] [weights=float32|int8|int8-dynamic]: the engine's
    // completion settings (default 4 and 16, as issue 12's target), the timed passes over the text (default 2, after
    // one warm-up pass) and the weight type the shipped model is compiled with (default float32).
    string? file = null;
    string weights = "float32";
    int beam = 4, length = 16, passes = 2;
    foreach (string arg in args.Skip(1))
    {
        if (arg.StartsWith("weights=", StringComparison.Ordinal))
        {
            weights = arg[8..];
        }
        else if (arg.StartsWith("beam=", StringComparison.Ordinal))
        {
            beam = int.Parse(arg[5..], System.Globalization.CultureInfo.InvariantCulture);
        }
        else if (arg.StartsWith("length=", StringComparison.Ordinal))
        {
            length = int.Parse(arg[7..], System.Globalization.CultureInfo.InvariantCulture);
        }
        else if (arg.StartsWith("passes=", StringComparison.Ordinal))
        {
            passes = int.Parse(arg[7..], System.Globalization.CultureInfo.InvariantCulture);
        }
        else
        {
            file = arg;
        }
    }

    switch (weights)
    {
        case "float32": Keystroke.Run<KjvChar>(file, beam, length, passes, weights); break;
        case "int8": Keystroke.Run<KjvCharInt8>(file, beam, length, passes, weights); break;
        case "int8-dynamic": Keystroke.Run<KjvCharInt8Dynamic>(file, beam, length, passes, weights); break;
        default: Console.Error.WriteLine($"--keystroke: weights={weights}: expected float32, int8 or int8-dynamic"); return;
    }

    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Ratios).Assembly).Run(args);

internal static class Ratios
{
    public static string ModelPath(string cell, int h) =>
        Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "out", "models", $"{cell}{h}.safetensors");

    public static void Generated<TModel>(string cell, int h, int steps)
        where TModel : struct, ITokenModel<TModel>
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
                Softmax.Apply(logits);
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
                Softmax.Apply(logits);
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

/// <summary>
/// Keystroke latency (issue 12's target: one keystroke update plus top-3 next characters and top-3 completions
/// ≤ 150 µs at p99, one-layer LSTM H=256; timed in the thread's CPU time, see ThreadClock): types a passage of held-out text through KeystrokeEngine over the shipped KJV character model and
/// times each keystroke's Type + TopNextChars(3) + Completions(3), with backspaces mixed in (every 17th key).
/// </summary>
internal static class Keystroke
{
    public const string Passage =
        "And it came to pass, when the king heard the words of the law, that he rent his clothes. " +
        "Then said the LORD unto Moses, Stretch out thine hand toward heaven, that there may be darkness over the land. " +
        "Blessed are the meek: for they shall inherit the earth. In the beginning was the Word, and the Word was with God.";

    public static void Run<TModel>(string? textFile, int beam, int maxLength, int passes, string weights)
        where TModel : struct, ITokenModel<TModel>, IVocabularyModel<TModel>
    {
        string text = textFile is null ? Passage : File.ReadAllText(textFile);
        var options = new KeystrokeOptions { MaxCompletions = 3, CompletionBeamWidth = beam, MaxCompletionLength = maxLength };
        var engine = new KeystrokeEngine<TModel>(CharVocabulary.FromModel<TModel>(UnknownCharPolicy.Skip), options);
        Span<char> nextChars = stackalloc char[3];
        Span<float> nextProbs = stackalloc float[3];
        Span<char> completionChars = stackalloc char[3 * engine.CompletionStride];
        Span<int> lengths = stackalloc int[3];
        Span<float> scores = stackalloc float[3];
        var micros = new List<double>(text.Length * (passes + 1));
        long allocated = 0;
        int gc = GC.CollectionCount(0);
        for (int pass = 0; pass <= passes; pass++)
        {
            engine.Clear();
            for (int i = 0; i < text.Length; i++)
            {
                long a0 = GC.GetAllocatedBytesForCurrentThread();
                long t0 = ThreadClock.Now();
                if (i % 17 == 16)
                {
                    engine.Backspace();
                }
                else
                {
                    engine.Type(text[i]);
                }

                engine.TopNextChars(nextChars, nextProbs);
                engine.Completions(completionChars, lengths, scores);
                double us = (ThreadClock.Now() - t0) / 1000.0;
                if (pass > 0)
                {
                    micros.Add(us); // pass 0 warms up the JIT
                    allocated += GC.GetAllocatedBytesForCurrentThread() - a0;
                }
            }
        }

        micros.Sort();
        double P(double q) => micros[Math.Min(micros.Count - 1, (int)Math.Ceiling(q * micros.Count) - 1)];
        Console.WriteLine($"keystroke LSTM H=256 (KJV char model, {weights} weights, beam {beam}, length {maxLength}, " +
            $"vector width {KjvChar.VectorWidth}, clock: " +
            $"{(ThreadClock.IsThreadTime ? "thread CPU time" : "wall")}): keystrokes {micros.Count}  " +
            $"p50 {P(0.50):F1} us  p90 {P(0.90):F1} us  p99 {P(0.99):F1} us  max {micros[^1]:F1} us  target p99 <= 150 us  " +
            $"p99/target {P(0.99) / 150:F2}  bytes_allocated {allocated}  gc {GC.CollectionCount(0) - gc}");
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
    where TModel : struct, ITokenModel<TModel>
{
    private TModel _model = default;
    private readonly float[] _logits = new float[TModel.OutputSize];
    private int _t;

    [Benchmark]
    public float Step()
    {
        _model.Step(_t = (_t + 7) % TModel.InputSize, _logits);
        Softmax.Apply(_logits);
        return _logits[0];
    }
}

// Generated model structs are internal unless a partial declaration says otherwise; BenchmarkDotNet needs public
// generic arguments.
namespace Bench
{
    public partial struct Lstm128;

    public partial struct Lstm256;

    public partial struct Lstm512;

    public partial struct Gru128;

    public partial struct Gru256;

    public partial struct Gru512;
}
