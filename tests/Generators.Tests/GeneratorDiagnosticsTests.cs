extern alias gen;

using Microsoft.CodeAnalysis;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Tests.Infrastructure;

namespace RnnEmbedded.Tests;

/// <summary>Every error the generator can report, each through the real GeneratorDriver; it never throws.</summary>
public class GeneratorDiagnosticsTests
{
    private static readonly byte[] s_valid = TestModels.ToBytes(TestModels.Lstm());

    private static Diagnostic Single(params ModelItem[] items) => SingleFrom(GeneratorHarness.CreateDriver(items));

    private static Diagnostic SingleFrom(GeneratorDriver driver)
    {
        var (d, _, _) = GeneratorHarness.Run(driver);
        GeneratorDriverRunResult result = d.GetRunResult();
        Assert.All(result.Results, r => Assert.Null(r.Exception));
        return Assert.Single(result.Diagnostics);
    }

    [Fact]
    public void ValidModel_GeneratesSourceAndNoDiagnostics()
    {
        var (driver, output, _) = GeneratorHarness.Run(GeneratorHarness.CreateDriver(new[] { new ModelItem("Demo.CharModel", s_valid) }));
        GeneratorDriverRunResult result = driver.GetRunResult();
        Assert.Empty(result.Diagnostics);
        Assert.Single(result.GeneratedTrees);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
    }

    [Fact]
    public void TruncatedWeightFile_ReportsRnn0001WithPath()
    {
        Diagnostic d = Single(new ModelItem("Demo.M", s_valid.AsSpan(0, s_valid.Length - 3).ToArray(), "models/broken.safetensors"));
        Assert.Equal("RNN0001", d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Contains("models/broken.safetensors", d.GetMessage());
        Assert.Equal("models/broken.safetensors", d.Location.GetLineSpan().Path);
    }

    [Fact]
    public void GarbageBytes_ReportsRnn0001()
    {
        Diagnostic d = Single(new ModelItem("Demo.M", new byte[] { 1, 2, 3 }));
        Assert.Equal("RNN0001", d.Id);
    }

    [Theory]
    [InlineData("Demo.class")]
    [InlineData("Demo..M")]
    [InlineData("9Lives")]
    [InlineData("Demo.M-1")]
    public void InvalidClassName_ReportsRnn0003(string name)
    {
        Diagnostic d = Single(new ModelItem(name, s_valid));
        Assert.Equal("RNN0003", d.Id);
        Assert.Contains(name, d.GetMessage());
    }

    [Fact]
    public void ModelBeyondStringHeap_ReportsRnn0004()
    {
        // 1 × 4.2M-float embedding → the packed weights exceed the 2^24-byte user-string heap.
        var rng = new Random(3);
        var spec = new ModelSpec
        {
            InputKind = InputKind.Dense,
            InputSize = 2048,
            Layers = new[]
            {
                new LayerSpec
                {
                    Cell = CellKind.Lstm, InputSize = 2048, HiddenSize = 512,
                    Forward = new DirectionWeights { W_ih = TestModels.M(rng, 2048, 2048), W_hh = TestModels.M(rng, 2048, 512) },
                },
            },
        };
        Diagnostic d = Single(new ModelItem("Demo.Big", TestModels.ToBytes(spec)));
        Assert.Equal("RNN0004", d.Id);
        Assert.Contains("CS8103", d.GetMessage());
    }

    [Theory]
    [InlineData("64")]
    [InlineData("wide")]
    [InlineData("-1")]
    public void InvalidVectorWidth_ReportsRnn0005(string width)
    {
        Diagnostic d = Single(new ModelItem("Demo.M", s_valid, MaxVectorWidth: width));
        Assert.Equal("RNN0005", d.Id);
        Assert.Contains(width, d.GetMessage());
    }

    [Theory]
    [InlineData("int4")]
    [InlineData("float16")]
    public void InvalidWeightType_ReportsRnn0011(string weightType)
    {
        Diagnostic d = Single(new ModelItem("Demo.M", s_valid, WeightType: weightType));
        Assert.Equal("RNN0011", d.Id);
        Assert.Contains($"WeightType '{weightType}'", d.GetMessage());
        Assert.Contains("float32, bfloat16, int8", d.GetMessage());
    }

    [Fact]
    public void DamagedCarrier_ReportsRnn0006()
    {
        Diagnostic d = SingleFrom(GeneratorHarness.CreateDriver(new[] { new ModelItem("Demo.M", s_valid) }, carrierOverride: "not a carrier"));
        Assert.Equal("RNN0006", d.Id);
        Assert.Contains("RnnEmbedded.targets", d.GetMessage());
    }

    [Fact]
    public void DamagedBase64_ReportsRnn0006()
    {
        Diagnostic d = SingleFrom(GeneratorHarness.CreateDriver(new[] { new ModelItem("Demo.M", s_valid) }, carrierOverride: "rnn-carrier/1\nx.safetensors\n@@@not base64@@@\n"));
        Assert.Equal("RNN0006", d.Id);
    }

    [Fact]
    public void BidirectionalModel_ReportsInfoRnn0100AndCompiles()
    {
        var rng = new Random(5);
        int e = 4, h = 6;
        DirectionWeights Dir() => new() { W_ih = TestModels.M(rng, 3 * h, e), W_hh = TestModels.M(rng, 3 * h, h), b_ih = TestModels.V(rng, 3 * h), b_hh = TestModels.V(rng, 3 * h) };
        var spec = new ModelSpec
        {
            InputKind = InputKind.Embedding,
            InputSize = 5,
            Embedding = TestModels.M(rng, 5, e),
            Layers = new[] { new LayerSpec { Cell = CellKind.Gru, InputSize = e, HiddenSize = h, Forward = Dir(), Backward = Dir() } },
        };
        var (driver, output, _) = GeneratorHarness.Run(GeneratorHarness.CreateDriver(new[] { new ModelItem("Demo.Bi", TestModels.ToBytes(spec)) }));
        Diagnostic d = Assert.Single(driver.GetRunResult().Diagnostics);
        Assert.Equal("RNN0100", d.Id);
        Assert.Equal(DiagnosticSeverity.Info, d.Severity);
        Assert.Empty(output.GetDiagnostics().Where(x => x.Severity == DiagnosticSeverity.Error));
    }

    [Fact]
    public void ReverseModel_ReportsInfoRnn0100_AndHasRunButNoStep()
    {
        // A reverse-only layer (docs/model-format.md, "Layer directions") needs the whole sequence, as a bidirectional one.
        var rng = new Random(6);
        int e = 4, h = 5;
        DirectionWeights Dir() => new() { W_ih = TestModels.M(rng, h, e), W_hh = TestModels.M(rng, h, h), b_ih = TestModels.V(rng, h), b_hh = TestModels.V(rng, h) };
        var spec = new ModelSpec
        {
            InputKind = InputKind.Dense,
            InputSize = e,
            Layers = new[] { new LayerSpec { Cell = CellKind.Rnn, InputSize = e, HiddenSize = h, Forward = Dir(), Reverse = true } },
        };
        var (driver, output, _) = GeneratorHarness.Run(GeneratorHarness.CreateDriver(new[] { new ModelItem("Demo.Rev", TestModels.ToBytes(spec)) }));
        Diagnostic d = Assert.Single(driver.GetRunResult().Diagnostics);
        Assert.Equal("RNN0100", d.Id);
        Assert.Equal(DiagnosticSeverity.Info, d.Severity);
        Assert.Contains("Rev runs its layers in reverse: it has no Step", d.GetMessage());
        Assert.Empty(output.GetDiagnostics().Where(x => x.Severity == DiagnosticSeverity.Error));
        string source = string.Join("\n", output.SyntaxTrees.Select(t => t.ToString()));
        Assert.Contains("for (int t = steps - 1; t >= 0; t--)", source);
        Assert.Contains("IDenseSequenceModel<Rev>", source);
        Assert.DoesNotContain("IDenseModel<", source);
        Assert.DoesNotContain("void Step(", source);
    }

    [Fact]
    public void ReverseCaptionDecoder_ReportsRnn0001NamingTheReverseTensor()
    {
        var rng = new Random(10);
        int v = 5, e = 4, h = 3, f = 6;
        DirectionWeights Dir() => new() { W_ih = TestModels.M(rng, 4 * h, e), W_hh = TestModels.M(rng, 4 * h, h), b_ih = TestModels.V(rng, 4 * h), b_hh = TestModels.V(rng, 4 * h) };
        var wordLm = new ModelSpec
        {
            InputKind = InputKind.Embedding,
            InputSize = v,
            Embedding = TestModels.M(rng, v, e),
            Layers = new[] { new LayerSpec { Cell = CellKind.Lstm, InputSize = e, HiddenSize = h, Forward = Dir(), Reverse = true } },
            Head = new DenseSpec { W = TestModels.M(rng, v, h), b = TestModels.V(rng, v) },
            Task = ModelTask.WordLm,
            Vocabulary = new Vocabulary(ModelVocabularyKind.Words, new[] { "<start>", "<stop>", "<unk>", "a", "red" }),
        };

        (IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string> metadata) = ModelWriter.ToTensors(wordLm);
        var captionTensors = tensors.Append(new Tensor("image_proj.weight", new[] { e, f }, TestModels.V(rng, e * f))).ToList();
        var captionMetadata = new Dictionary<string, string>(metadata) { ["rnn.task"] = "caption", ["rnn.image_projection"] = "image_proj" };
        Diagnostic d = Single(new ModelItem("Demo.Caption", SafeTensorsWriter.Write(captionTensors, captionMetadata), "models/caption.safetensors"));

        Assert.Equal("RNN0001", d.Id);
        Assert.Contains("rnn.weight_ih_l0_reverse", d.GetMessage());
        Assert.Contains("cannot be bidirectional or reverse", d.GetMessage());
    }

    /// <summary>
    /// A bidirectional caption decoder used to pass the builder and fail in the emitter (RNN0002); the model-space
    /// test found it, and the builder now rejects it, so it is an invalid weight file naming the reverse tensor.
    /// </summary>
    [Fact]
    public void BidirectionalCaptionDecoder_ReportsRnn0001()
    {
        var rng = new Random(9);
        int v = 5, e = 4, h = 3, f = 6;
        DirectionWeights Dir() => new() { W_ih = TestModels.M(rng, 4 * h, e), W_hh = TestModels.M(rng, 4 * h, h), b_ih = TestModels.V(rng, 4 * h), b_hh = TestModels.V(rng, 4 * h) };
        var wordLm = new ModelSpec
        {
            InputKind = InputKind.Embedding,
            InputSize = v,
            Embedding = TestModels.M(rng, v, e),
            Layers = new[] { new LayerSpec { Cell = CellKind.Lstm, InputSize = e, HiddenSize = h, Forward = Dir(), Backward = Dir() } },
            Head = new DenseSpec { W = TestModels.M(rng, v, 2 * h), b = TestModels.V(rng, v) },
            Task = ModelTask.WordLm,
            Vocabulary = new Vocabulary(ModelVocabularyKind.Words, new[] { "<start>", "<stop>", "<unk>", "a", "red" }),
        };

        // ModelWriter refuses to write an invalid model, so the caption parts are added by hand.
        (IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string> metadata) = ModelWriter.ToTensors(wordLm);
        var captionTensors = tensors.Append(new Tensor("image_proj.weight", new[] { e, f }, TestModels.V(rng, e * f))).ToList();
        var captionMetadata = new Dictionary<string, string>(metadata) { ["rnn.task"] = "caption", ["rnn.image_projection"] = "image_proj" };
        Diagnostic d = Single(new ModelItem("Demo.Caption", SafeTensorsWriter.Write(captionTensors, captionMetadata), "models/caption.safetensors"));

        Assert.Equal("RNN0001", d.Id);
        Assert.Contains("models/caption.safetensors", d.GetMessage());
        Assert.Contains("rnn.weight_ih_l0_reverse", d.GetMessage());
        Assert.Contains("bidirectional", d.GetMessage());
    }

    [Fact]
    public void TwoItemsWithOneClassName_DoNotCrashTheGenerator()
    {
        // MSBuild reports RNN0007 first; if the items reach the generator anyway, it must not throw (a duplicate
        // AddSource hint name would): the compiler then reports the duplicate type itself.
        var first = new ModelItem("Demo.Same", s_valid, "models/a.safetensors", CarrierName: "a");
        var second = new ModelItem("Demo.Same", s_valid, "models/b.safetensors", CarrierName: "b");
        var (d, output, _) = GeneratorHarness.Run(GeneratorHarness.CreateDriver(new[] { first, second }));
        GeneratorDriverRunResult result = d.GetRunResult();
        Assert.All(result.Results, r => Assert.Null(r.Exception));
        Assert.Equal(2, result.GeneratedTrees.Length);
        Assert.Contains(output.GetDiagnostics(), x => x.Id == "CS0102"); // the two partial structs merge and clash
    }

    [Fact]
    public void AdditionalFilesWithoutRnnMetadata_AreIgnored()
    {
        GeneratorDriver driver = Microsoft.CodeAnalysis.CSharp.CSharpGeneratorDriver.Create(
            new[] { new gen::RnnEmbedded.Generators.RnnGenerator().AsSourceGenerator() });
        var (d, _, _) = GeneratorHarness.Run(driver);
        Assert.Empty(d.GetRunResult().GeneratedTrees);
        Assert.Empty(d.GetRunResult().Diagnostics);
    }
}
