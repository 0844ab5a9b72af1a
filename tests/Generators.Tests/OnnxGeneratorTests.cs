extern alias gen;

using System.Reflection;
using Microsoft.CodeAnalysis;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Tests.Infrastructure;
using RnnEmbedded.Tests.Reference;

namespace RnnEmbedded.Tests;

/// <summary>
/// <c>&lt;RnnModel Include="model.onnx" /&gt;</c> through the real generator: every ONNX fixture compiled at every
/// vector-width cap (512, 256, 128, 0 = scalar) matches PyTorch's outputs (or the ONNX-spec oracle's, for bare
/// nodes) and the reference engine within 1e-5; every unsupported model is one RNN0001 diagnostic naming the node
/// or tensor and the rule, never an exception.
/// </summary>
public class OnnxGeneratorTests
{
    private const float Tolerance = GeneratedParityTests.Tolerance;

    private static readonly Dictionary<int, Lazy<Assembly>> s_assemblies = new[] { 512, 256, 128, 0 }
        .ToDictionary(w => w, w => new Lazy<Assembly>(() => GenerateAll(w)));

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in ParityFixture.OnnxNames)
        {
            foreach (int width in new[] { 512, 256, 128, 0 })
            {
                data.Add(name, width);
            }
        }

        return data;
    }

    private static string TypeName(string fixture, int width) => $"Onnx.{fixture}_W{width}";

    private static Assembly GenerateAll(int width)
    {
        var items = ParityFixture.OnnxNames.Select(name => new ModelItem(
            TypeName(name, width), File.ReadAllBytes(ParityFixture.LoadOnnx(name).WeightsPath), $"models/{name}.onnx",
            width.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var (driver, output, diagnostics) = GeneratorHarness.Run(GeneratorHarness.CreateDriver(items));
        GeneratorDriverRunResult result = driver.GetRunResult();
        Assert.All(result.Results, r => Assert.Null(r.Exception));
        Assert.Empty(result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Empty(diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        return InMemoryCompiler.EmitAndLoad(output.WithAssemblyName("OnnxGenerated_W" + width.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generated_FromOnnx_MatchesPyTorchAndReference(string name, int width)
    {
        ParityFixture fx = ParityFixture.LoadOnnx(name);
        ModelSpec spec = ModelLoader.Load(fx.WeightsPath);
        Type type = s_assemblies[width].Value.GetType(TypeName(name, width), throwOnError: true)!;
        bool dense = fx.InputKind == "dense";
        float[][] generated = (dense, spec.RunOnly) switch
        {
            (true, true) => ModelRunner.RunDense(type, fx.Dense),
            (true, false) => ModelRunner.StepDense(type, fx.Dense),
            (false, true) => ModelRunner.RunTokens(type, fx.Tokens),
            _ => ModelRunner.StepTokens(type, fx.Tokens),
        };
        float[][] reference = dense ? ReferenceEngine.Run(spec, fx.Dense) : ReferenceEngine.Run(spec, fx.Tokens);
        AssertClose(fx.Outputs, generated, $"{name} @ {width} vs PyTorch/ONNX oracle");
        AssertClose(reference, generated, $"{name} @ {width} vs reference");
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

    private static Diagnostic Reject(string relativePath)
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(ParityFixture.OnnxDirectory, relativePath));
        var (driver, _, _) = GeneratorHarness.Run(GeneratorHarness.CreateDriver(new[] { new ModelItem("Demo.M", bytes, "models/" + Path.GetFileName(relativePath)) }));
        GeneratorDriverRunResult result = driver.GetRunResult();
        Assert.All(result.Results, r => Assert.Null(r.Exception));
        Assert.Empty(result.GeneratedTrees);
        Diagnostic d = Assert.Single(result.Diagnostics);
        Assert.Equal("RNN0001", d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        return d;
    }

    [Theory]
    [InlineData("reject/clip.onnx", "node 'lstm0' (LSTM)", "attribute 'clip' (-3) must be a positive number")]
    [InlineData("reject/activations.onnx", "node 'lstm0' (LSTM)", "only the default activations")]
    [InlineData("reject/mixed_directions.onnx", "node 'lstm1' (LSTM)", "in its direction; all layers of the stack must agree")]
    [InlineData("reject/unsupported_op.onnx", "node 'norm0' (LayerNormalization)", "operator LayerNormalization is not supported")]
    [InlineData("reject/dynamic_features.onnx", "tensor 'X'", "must have a static size")]
    [InlineData("reject/initial_state.onnx", "tensor 'h0'", "only zero initial states")]
    [InlineData("reject/sequence_lens.onnx", "tensor 'lens'", "sequence_lens")]
    [InlineData("reject/external.onnx", "tensor 'W'", "never read at build time")]
    [InlineData("reject/traversal.onnx", "tensor 'W'", "never read at build time")]
    [InlineData("reject/absolute.onnx", "tensor 'W'", "never read at build time")]
    [InlineData("reject/relu_after_rnn.onnx", "node '/Relu' (Relu)", "only after a dense layer")]
    [InlineData("reject/dense_after_embedding.onnx", "node '/pre/MatMul' (MatMul)", "input layers exist only for dense input")]
    [InlineData("reject/softmax_time_axis.onnx", "node '/Softmax' (Softmax)", "acts on the features of one step only")]
    [InlineData("reject/rnn_after_head.onnx", "node '/rnn2/LSTM' (LSTM)", "a recurrent layer after a dense head layer")]
    public void Unsupported_IsOneDiagnostic_NamingNodeOrTensorAndRule(string file, string names, string rule)
    {
        string message = Reject(file).GetMessage();
        Assert.Contains("models/" + Path.GetFileName(file), message);
        Assert.Contains(names, message);
        Assert.Contains(rule, message);
    }

    [Fact]
    public void TruncatedOnnx_IsADiagnostic_NotAnException()
    {
        byte[] bytes = File.ReadAllBytes(ParityFixture.LoadOnnx("lstm_emb_o9").WeightsPath);
        for (int cut = 1; cut < bytes.Length; cut += 97)
        {
            var (driver, _, _) = GeneratorHarness.Run(GeneratorHarness.CreateDriver(new[] { new ModelItem("Demo.M", bytes[..cut], "models/cut.onnx") }));
            GeneratorDriverRunResult result = driver.GetRunResult();
            Assert.All(result.Results, r => Assert.Null(r.Exception));
            Diagnostic d = Assert.Single(result.Diagnostics);
            Assert.Equal("RNN0001", d.Id);
        }
    }
}
