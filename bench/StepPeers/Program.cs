using System.Globalization;
using Bench;
using RnnEmbedded.Runtime;

// The step benchmark against the two things a .NET developer would pick instead, in one process, interleaved:
// the generated struct (Step + Softmax.Apply), ONNX Runtime's C# API (the same weights exported by
// bench/step/export_onnx.py, IOBinding over preallocated OrtValues) and TorchSharp (the same weights loaded into
// nn modules). Per model: a parity check (the three agree on the first steps from a zero state), then `rounds`
// rounds in which each engine runs `steps` steps in turn; ns/step of the thread's CPU time (ThreadClock: the peers
// run on the calling thread with one intra-op thread, and a shared machine's waits for a core are left out) (best and median of the rounds) and managed
// bytes allocated per step (GC.GetAllocatedBytesForCurrentThread; native allocations inside the peers are not
// counted). The ratios peer / generated come from medians of the same rounds.
// The same weights built again with the opt-in weight types bfloat16, int8 (weight-only) and int8-dynamic
// (docs/model-format.md, "Weight types") run in the same rounds, after the three; their rows (a second table) give
// ns/step, bytes/step, the ratios ORT / them, TorchSharp / them and float32 / them from the same medians, and the
// largest probability difference from the float32 model over the parity steps (their quantization error).
// usage: StepPeers [steps at H=128 (default 4000; H=256 takes half, H=512 a quarter)] [rounds (default 7)]
int steps128 = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 4000;
int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 7;
string models = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "out", "models");
TorchSharp.torch.set_num_threads(1);
TorchSharp.torch.set_num_interop_threads(1);
Console.WriteLine($"clock: {(ThreadClock.IsThreadTime ? "thread CPU time" : "wall")}; vector width {Lstm128.VectorWidth}; torch threads {TorchSharp.torch.get_num_threads()}; " +
    $"{rounds} interleaved rounds per model; ns/step median (best)");
Console.WriteLine("model     generated_ns      ort_ns             torchsharp_ns       ort/gen  ts/gen   B/step gen/ort/ts  max|dp| ort ts");
var quantized = new List<string>();
Peers.Run<Lstm128, Lstm128Bf16, Lstm128Int8, Lstm128Int8Dyn>(models, "lstm", 128, steps128, rounds, quantized);
Peers.Run<Lstm256, Lstm256Bf16, Lstm256Int8, Lstm256Int8Dyn>(models, "lstm", 256, steps128 / 2, rounds, quantized);
Peers.Run<Lstm512, Lstm512Bf16, Lstm512Int8, Lstm512Int8Dyn>(models, "lstm", 512, steps128 / 4, rounds, quantized);
Peers.Run<Gru128, Gru128Bf16, Gru128Int8, Gru128Int8Dyn>(models, "gru", 128, steps128, rounds, quantized);
Peers.Run<Gru256, Gru256Bf16, Gru256Int8, Gru256Int8Dyn>(models, "gru", 256, steps128 / 2, rounds, quantized);
Peers.Run<Gru512, Gru512Bf16, Gru512Int8, Gru512Int8Dyn>(models, "gru", 512, steps128 / 4, rounds, quantized);
Console.WriteLine();
Console.WriteLine("same weights, other weight types, same rounds (ratios from the medians above; max|dp| against the float32 model)");
Console.WriteLine("model     weights        gen_ns           ort/gen  ts/gen   fp32/gen  B/step  max|dp| vs fp32");
quantized.ForEach(Console.WriteLine);

internal static class Peers
{
    private const int Vocabulary = 96;
    private const int EmbeddingSize = 64;

    private static readonly string[] s_weightTypes = ["bfloat16", "int8", "int8-dynamic"];

    public static void Run<TModel, TBf16, TInt8, TInt8Dynamic>(string dir, string cell, int hidden, int steps, int rounds, List<string> quantized)
        where TModel : struct, ITokenModel<TModel>
        where TBf16 : struct, ITokenModel<TBf16>
        where TInt8 : struct, ITokenModel<TInt8>
        where TInt8Dynamic : struct, ITokenModel<TInt8Dynamic>
    {
        string name = $"{cell}{hidden}";
        string onnx = Path.Combine(dir, name + ".onnx");
        if (!File.Exists(onnx))
        {
            throw new FileNotFoundException($"{onnx} is missing: run bench/step/peers.sh (it exports the models with bench/step/export_onnx.py).", onnx);
        }

        var weights = Safetensors.Read(Path.Combine(dir, name + ".safetensors"));
        var generated = new Generated<TModel>();
        using var ort = new OrtStep(onnx, cell == "lstm", hidden, Vocabulary);
        using var torch = new TorchStep(weights, cell == "lstm", hidden, Vocabulary, EmbeddingSize);
        var bf16 = new Generated<TBf16>();
        var int8 = new Generated<TInt8>();
        var int8Dynamic = new Generated<TInt8Dynamic>();
        Action<int>[] step = [generated.Step, ort.Step, torch.Step, bf16.Step, int8.Step, int8Dynamic.Step];
        Func<float[]>[] probabilities = [() => bf16.Probabilities, () => int8.Probabilities, () => int8Dynamic.Probabilities];

        // Parity: the same model in all three (first 16 steps from a zero state); the other weight types against
        // the float32 model over the same steps.
        double diffOrt = 0, diffTorch = 0;
        var diffQuantized = new double[s_weightTypes.Length];
        for (int t = 0; t < 16; t++)
        {
            int token = t * 7 % Vocabulary;
            foreach (Action<int> s in step)
            {
                s(token);
            }

            diffOrt = Math.Max(diffOrt, MaxDiff(generated.Probabilities, ort.Probabilities));
            diffTorch = Math.Max(diffTorch, MaxDiff(generated.Probabilities, torch.Probabilities));
            for (int q = 0; q < s_weightTypes.Length; q++)
            {
                diffQuantized[q] = Math.Max(diffQuantized[q], MaxDiff(generated.Probabilities, probabilities[q]()));
            }
        }

        var ns = new double[step.Length][];
        var bytes = new long[step.Length];
        for (int e = 0; e < step.Length; e++)
        {
            ns[e] = new double[rounds];
            Time(step[e], steps); // warm-up, not recorded
        }

        for (int r = 0; r < rounds; r++)
        {
            for (int e = 0; e < step.Length; e++)
            {
                long a0 = GC.GetAllocatedBytesForCurrentThread();
                ns[e][r] = Time(step[e], steps);
                bytes[e] += GC.GetAllocatedBytesForCurrentThread() - a0;
            }
        }

        double[] median = ns.Select(Median).ToArray();
        double[] best = ns.Select(a => a.Min()).ToArray();
        string B(int e) => (bytes[e] / ((double)rounds * steps)).ToString("F0", CultureInfo.InvariantCulture);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-9} {median[0],7:F0} ({best[0],6:F0})  {median[1],7:F0} ({best[1],6:F0})  {median[2],8:F0} ({best[2],7:F0})   " +
            $"{median[1] / median[0],5:F2}×  {median[2] / median[0],5:F2}×   {B(0)}/{B(1)}/{B(2),-10}  {diffOrt:E1} {diffTorch:E1}"));
        for (int q = 0; q < s_weightTypes.Length; q++)
        {
            int e = 3 + q;
            quantized.Add(string.Create(CultureInfo.InvariantCulture,
                $"{name,-9} {s_weightTypes[q],-13} {median[e],7:F0} ({best[e],6:F0})  " +
                $"{median[1] / median[e],6:F2}×  {median[2] / median[e],6:F2}×  {median[0] / median[e],5:F2}×   {B(e),-6}  {diffQuantized[q]:E1}"));
        }
    }

    private static double Time(Action<int> step, int steps)
    {
        long t0 = ThreadClock.Now();
        for (int t = 0; t < steps; t++)
        {
            step(t * 7 % Vocabulary);
        }

        return (ThreadClock.Now() - t0) / (double)steps;
    }

    private static double Median(double[] values)
    {
        double[] sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return sorted[sorted.Length / 2];
    }

    private static double MaxDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }

        return max;
    }

    // The generated struct behind the same Action<int> call as the peers: Step + Softmax.Apply.
    private sealed class Generated<TModel>
        where TModel : struct, ITokenModel<TModel>
    {
        private readonly float[] _probs = new float[TModel.OutputSize];
        private TModel _model = default;

        public float[] Probabilities => _probs;

        public void Step(int token)
        {
            _model.Step(token, _probs);
            Softmax.Apply(_probs);
        }
    }
}
