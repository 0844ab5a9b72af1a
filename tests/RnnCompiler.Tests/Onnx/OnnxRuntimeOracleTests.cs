using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Tests.Reference;

namespace RnnEmbedded.Tests.Onnx;

/// <summary>
/// ONNX Runtime as a second oracle (docs/model-format.md, "ONNX import"): every ONNX fixture runs through
/// onnxruntime's CPU provider on the fixture's input, and the reference engine on the imported model agrees within
/// 1e-5 — for the exported models a check independent of PyTorch, for the bare nodes (peepholes, CIFG, GRU
/// linear_before_reset 0, layout 1, ...) one independent of the fixture script's own ONNX-spec implementation.
/// ONNX Runtime is a test dependency only.
/// </summary>
public class OnnxRuntimeOracleTests
{
    private const double Tolerance = 1e-5;

    /// <summary>
    /// Fixtures ONNX Runtime cannot run, with its reason; <see cref="OnnxRuntime_RefusesTheExcludedFixtures"/> checks
    /// that it still refuses them (so the list cannot hide a fixture it would run).
    /// </summary>
    private static readonly Dictionary<string, string> s_unsupported = new()
    {
        // onnxruntime/core/providers/cpu/rnn/lstm_base.h: "Batchwise recurrent operations (layout == 1) are not supported".
        ["bare_lstm_bidir_layout1"] = "layout == 1",
    };

    private static IEnumerable<string> Supported => ParityFixture.OnnxNames.Where(n => !s_unsupported.ContainsKey(n));

    public static TheoryData<string> Names() => new(Supported);

    [Theory]
    [MemberData(nameof(Names))]
    public void Reference_OnImportedModel_MatchesOnnxRuntime(string name)
    {
        ParityFixture fx = ParityFixture.LoadOnnx(name);
        ModelSpec spec = ModelLoader.Load(fx.WeightsPath);
        float[][] expected = RunOnnxRuntime(fx);
        float[][] actual = fx.InputKind == "dense" ? ReferenceEngine.Run(spec, fx.Dense) : ReferenceEngine.Run(spec, fx.Tokens);
        AssertClose(expected, actual, $"{name}: reference vs ONNX Runtime");
    }

    [Fact]
    public void Cifg_OneMinusInputGate_IsWhatOnnxRuntimeComputes()
    {
        // input_forget = 1: onnxruntime's LSTM (uni_directional_lstm.cc) sets f = 1 − i after the activation and never
        // reads the forget-gate blocks of W, R, B or P; the importer drops them and sets rnn.lstm.cifg. The fixture's W,
        // R and B hold random (non-zero) forget blocks, so a mapping that read them would disagree here.
        ParityFixture fx = ParityFixture.LoadOnnx("bare_lstm_cifg_peephole");
        ModelSpec spec = ModelLoader.Load(fx.WeightsPath);
        Assert.True(spec.Layers[0].Cifg);
        AssertClose(RunOnnxRuntime(fx), ReferenceEngine.Run(spec, fx.Dense), "CIFG vs ONNX Runtime");
    }

    [Fact]
    public void OnnxRuntime_AgreesWithTheFixturesExpectedOutputs()
    {
        // The oracle itself is checked against PyTorch (exported models) and the script's ONNX-spec implementation
        // (bare nodes), so a disagreement above points at our import, not at how the test feeds ONNX Runtime.
        foreach (string name in Supported)
        {
            ParityFixture fx = ParityFixture.LoadOnnx(name);
            AssertClose(fx.Outputs, RunOnnxRuntime(fx), $"{name}: ONNX Runtime vs fixture");
        }
    }

    [Fact]
    public void OnnxRuntime_RefusesTheExcludedFixtures()
    {
        foreach ((string name, string reason) in s_unsupported)
        {
            OnnxRuntimeException e = Assert.Throws<OnnxRuntimeException>(() => RunOnnxRuntime(ParityFixture.LoadOnnx(name)));
            Assert.Contains(reason, e.Message);
        }
    }

    /// <summary>Runs the fixture's model on its input (batch 1) and returns one output row per step.</summary>
    internal static float[][] RunOnnxRuntime(ParityFixture fx)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(fx.WeightsPath, options);
        KeyValuePair<string, NodeMetadata> input = Assert.Single(session.InputMetadata);
        int steps = fx.Outputs.Length;
        int[] dims = InputShape(input.Value.Dimensions, steps, fx.InputKind == "dense" ? fx.Dense[0].Length : 0);
        NamedOnnxValue value;
        if (fx.InputKind == "dense")
        {
            float[] data = fx.Dense.SelectMany(row => row).ToArray(); // batch 1: step-major either way
            value = NamedOnnxValue.CreateFromTensor(input.Key, new DenseTensor<float>(data, dims));
        }
        else if (input.Value.ElementType == typeof(int))
        {
            value = NamedOnnxValue.CreateFromTensor(input.Key, new DenseTensor<int>(fx.Tokens.ToArray(), dims));
        }
        else
        {
            value = NamedOnnxValue.CreateFromTensor(input.Key, new DenseTensor<long>(fx.Tokens.Select(t => (long)t).ToArray(), dims));
        }

        string outputName = session.OutputMetadata.Keys.First(); // the model's output; final states (if any) follow it
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run(new[] { value }, new[] { outputName });
        float[] flat = results.Single().AsEnumerable<float>().ToArray();
        Assert.True(flat.Length % steps == 0, $"{fx.Name}: ONNX Runtime returned {flat.Length} values for {steps} steps");
        int width = flat.Length / steps;
        // Batch 1: whether the output is (T, 1, O), (1, T, O), (T, O) or a raw Y (T, D, 1, H) / (1, T, D, H), the
        // values of step t are the t-th run of `width`, directions concatenated.
        return Enumerable.Range(0, steps).Select(t => flat.AsSpan(t * width, width).ToArray()).ToArray();
    }

    /// <summary>The input shape for batch 1: (T), or (T, 1) / (1, T) [+ F], whichever fits the declared dims (−1 = dynamic).</summary>
    private static int[] InputShape(int[] declared, int steps, int features)
    {
        var candidates = new List<int[]>();
        int rank = declared.Length - (features > 0 ? 1 : 0);
        if (rank == 1)
        {
            candidates.Add(new[] { steps });
        }
        else
        {
            candidates.Add(new[] { steps, 1 });
            candidates.Add(new[] { 1, steps });
        }

        foreach (int[] c in candidates)
        {
            int[] shape = features > 0 ? c.Append(features).ToArray() : c;
            if (shape.Length == declared.Length && shape.Zip(declared).All(p => p.Second < 0 || p.First == p.Second))
            {
                return shape;
            }
        }

        throw new InvalidOperationException($"no batch-1 shape for {steps} steps fits the declared input dims [{string.Join(", ", declared)}]");
    }

    private static void AssertClose(float[][] expected, float[][] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int t = 0; t < expected.Length; t++)
        {
            Assert.Equal(expected[t].Length, actual[t].Length);
            for (int i = 0; i < expected[t].Length; i++)
            {
                Assert.True(Math.Abs(expected[t][i] - actual[t][i]) <= Tolerance, $"{what}: step {t} output {i}: expected {expected[t][i]}, got {actual[t][i]}");
            }
        }
    }
}
