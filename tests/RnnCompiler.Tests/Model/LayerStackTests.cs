using System.Globalization;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Tests.Reference;
using Xunit.Abstractions;
using static RnnEmbedded.Tests.Reference.TestModels;

namespace RnnEmbedded.Tests.Model;

/// <summary>
/// Layer stacks (docs/model-format.md, "Layer stacks"): input layers, MLP heads and output functions — reading,
/// errors naming the key or tensor and the rule, writing, the reference engine against torch.nn fixtures and
/// against a hand computation.
/// </summary>
public sealed class LayerStackTests
{
    private const double Tolerance = 1e-5;

    private readonly ITestOutputHelper _output;

    public LayerStackTests(ITestOutputHelper output) => _output = output;

    /// <summary>dense(3) → input.0 (4, 3) → input.2 (2, 4) → GRU H=2 → head.0 (5, 2) → head.2 (3, 5).</summary>
    private static List<Tensor> Stacked() =>
    [
        T("input.0.weight", [4, 3], Values(12, 1)),
        T("input.0.bias", [4], Values(4, 2)),
        T("input.2.weight", [2, 4], Values(8, 3)),
        T("gru.weight_ih_l0", [6, 2], Values(12, 4)),
        T("gru.weight_hh_l0", [6, 2], Values(12, 5)),
        T("gru.bias_ih_l0", [6], Values(6, 6)),
        T("gru.bias_hh_l0", [6], Values(6, 7)),
        T("head.0.weight", [5, 2], Values(10, 8)),
        T("head.0.bias", [5], Values(5, 9)),
        T("head.2.weight", [3, 5], Values(15, 10)),
        T("head.2.bias", [3], Values(3, 11)),
    ];

    private static Dictionary<string, string> StackedMetadata() => new()
    {
        [MetadataKeys.InputLayers] = "input.0:tanh, input.2",
        [MetadataKeys.HeadLayers] = "head.0:relu,head.2:sigmoid",
        [MetadataKeys.Output] = "softmax",
    };

    private static RnnFormatException Fails(Dictionary<string, string> metadata, List<Tensor> tensors, string tensorOrKey, params string[] ruleFragments)
    {
        var e = Assert.Throws<RnnFormatException>(() => BuildWith(metadata, tensors.ToArray()));
        Assert.Equal(tensorOrKey, e.TensorName);
        foreach (string fragment in ruleFragments)
        {
            Assert.Contains(fragment, e.Rule);
        }

        return e;
    }

    [Fact]
    public void Build_ReadsStacksInOrderWithActivations()
    {
        ModelSpec spec = BuildWith(StackedMetadata(), Stacked().ToArray());

        Assert.Equal(InputKind.Dense, spec.InputKind);
        Assert.Equal(3, spec.InputSize);
        Assert.Equal(2, spec.FirstLayerInputSize);
        Assert.Equal(new[] { (4, 3, DenseActivation.Tanh, true), (2, 4, DenseActivation.Identity, false) },
            spec.InputLayers.Select(d => (d.OutputSize, d.InputSize, d.Activation, d.b is not null)));
        Assert.Equal((5, 2, DenseActivation.Relu), (spec.HeadLayers.Single().OutputSize, spec.HeadLayers[0].InputSize, spec.HeadLayers[0].Activation));
        Assert.Equal((3, 5, DenseActivation.Sigmoid), (spec.Head!.OutputSize, spec.Head.InputSize, spec.Head.Activation));
        Assert.Equal(OutputFunction.Softmax, spec.Output);
        Assert.Equal(3, spec.OutputSize);
        Assert.Equal(12 + 4 + 8 + 12 + 12 + 6 + 6 + 10 + 5 + 15 + 3, spec.ParameterCount);
    }

    [Fact]
    public void Reference_MatchesHandComputation()
    {
        ModelSpec spec = BuildWith(StackedMetadata(), Stacked().ToArray());
        float[] x = { 0.5f, -1f, 0.25f };

        // By hand, in double: the input layers, one GRU step from h = 0, the head MLP, softmax.
        double[] a0 = Affine(spec.InputLayers[0], x.Select(v => (double)v).ToArray()).Select(Math.Tanh).ToArray();
        double[] a1 = Affine(spec.InputLayers[1], a0);
        DirectionWeights w = spec.Layers[0].Forward;
        double[] gi = Affine(w.W_ih, w.b_ih, a1);
        double[] gh = w.b_hh!.Select(v => (double)v).ToArray(); // W_hh h = 0
        var h = new double[2];
        for (int j = 0; j < 2; j++)
        {
            double r = Sigmoid(gi[j] + gh[j]);
            double z = Sigmoid(gi[2 + j] + gh[2 + j]);
            double n = Math.Tanh(gi[4 + j] + r * gh[4 + j]);
            h[j] = (1 - z) * n;
        }

        double[] m = Affine(spec.HeadLayers[0], h).Select(v => Math.Max(v, 0)).ToArray();
        double[] y = Affine(spec.Head!, m).Select(Sigmoid).ToArray();
        double max = y.Max();
        double sum = y.Sum(v => Math.Exp(v - max));
        double[] expected = y.Select(v => Math.Exp(v - max) / sum).ToArray();

        float[] actual = ReferenceEngine.Run(spec, new[] { x })[0];
        Assert.Equal(3, actual.Length);
        for (int k = 0; k < 3; k++)
        {
            Assert.True(Math.Abs(expected[k] - actual[k]) <= 1e-6, $"output {k}: by hand {expected[k]:R}, reference {actual[k]:R}");
        }

        Assert.InRange(actual.Sum(), 1f - 1e-6f, 1f + 1e-6f);
    }

    [Fact]
    public void Writer_RoundTripsEveryStackWithCanonicalNames()
    {
        ModelSpec spec = BuildWith(StackedMetadata(), Stacked().ToArray());
        (IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string> metadata) = ModelWriter.ToTensors(spec);

        Assert.Equal("input.0:tanh,input.2:identity", metadata[MetadataKeys.InputLayers]);
        Assert.Equal("head.0:relu,head.2:sigmoid", metadata[MetadataKeys.HeadLayers]);
        Assert.Equal("softmax", metadata[MetadataKeys.Output]);
        Assert.False(metadata.ContainsKey(MetadataKeys.Head));
        Assert.Contains(tensors, t => t.Name == "input.2.weight");
        Assert.DoesNotContain(tensors, t => t.Name == "input.2.bias");
        ModelSpec read = ModelBuilder.Build(new WeightFile("w.safetensors", tensors, metadata));
        Assert.Null(ModelSpecComparer.FirstDifference(spec, read));
    }

    [Fact]
    public void Writer_KeepsAPlainHeadAsHead()
    {
        List<Tensor> tensors = Stacked().Where(t => !t.Name.StartsWith("head.0", StringComparison.Ordinal)).ToList();
        tensors[tensors.FindIndex(t => t.Name == "head.2.weight")] = T("head.2.weight", [3, 2], Values(6, 10));
        ModelSpec spec = BuildWith(new Dictionary<string, string> { [MetadataKeys.InputLayers] = "input.0:relu,input.2" }, tensors.ToArray());
        Assert.Empty(spec.HeadLayers);
        Assert.Equal(DenseActivation.Identity, spec.Head!.Activation);

        (IReadOnlyList<Tensor> written, IReadOnlyDictionary<string, string> metadata) = ModelWriter.ToTensors(spec);
        Assert.Equal("head", metadata[MetadataKeys.Head]);
        Assert.False(metadata.ContainsKey(MetadataKeys.HeadLayers));
        Assert.False(metadata.ContainsKey(MetadataKeys.Output));
        Assert.Contains(written, t => t.Name == "head.weight");
    }

    [Fact]
    public void Build_RejectsUnknownActivation_NamingKeyAndAllowedValues() =>
        Fails(new() { [MetadataKeys.InputLayers] = "input.0:gelu,input.2", [MetadataKeys.HeadLayers] = "head.0,head.2" }, Stacked(),
            MetadataKeys.InputLayers, "entry 0", "'gelu'", "identity, relu, tanh, sigmoid");

    [Fact]
    public void Build_RejectsUnknownOutputFunction() =>
        Fails(new() { [MetadataKeys.InputLayers] = "input.0,input.2", [MetadataKeys.HeadLayers] = "head.0,head.2", [MetadataKeys.Output] = "softplus" }, Stacked(),
            MetadataKeys.Output, "'softplus'", "none, softmax, log-softmax, sigmoid");

    [Fact]
    public void Build_RejectsEmptyEntryAndRepeatedModule()
    {
        Fails(new() { [MetadataKeys.InputLayers] = "input.0,,input.2", [MetadataKeys.HeadLayers] = "head.0,head.2" }, Stacked(),
            MetadataKeys.InputLayers, "entry 1", "module prefix");
        Fails(new() { [MetadataKeys.InputLayers] = "input.0,input.0", [MetadataKeys.HeadLayers] = "head.0,head.2" }, Stacked(),
            MetadataKeys.InputLayers, "'input.0' is listed twice");
        Fails(new() { [MetadataKeys.InputLayers] = "input.0,input.2", [MetadataKeys.HeadLayers] = "head.0,input.2" }, Stacked(),
            MetadataKeys.HeadLayers, "'input.2' is also listed");
    }

    [Fact]
    public void Build_RejectsMissingModule_NamingTheTensor() =>
        Fails(new() { [MetadataKeys.InputLayers] = "input.0,input.1", [MetadataKeys.HeadLayers] = "head.0,head.2" }, Stacked(),
            "input.1.weight", "missing tensor", "input layer 1");

    [Fact]
    public void Build_RejectsBrokenChains_WithExpectedShape()
    {
        // The last input layer must produce layer 0's input size (2).
        Fails(new() { [MetadataKeys.InputLayers] = "input.0", [MetadataKeys.HeadLayers] = "head.0,head.2" }, Stacked().Where(t => !t.Name.StartsWith("input.2", StringComparison.Ordinal)).ToList(),
            "input.0.weight", "[4, 3] does not match the expected [2, 3]", "recurrent layer 0, whose input size is 2");

        // Head layer 1 must read head layer 0's 5 outputs.
        List<Tensor> tensors = Stacked();
        tensors[tensors.FindIndex(t => t.Name == "head.2.weight")] = T("head.2.weight", [3, 4], Values(12, 10));
        Fails(StackedMetadata(), tensors, "head.2.weight", "[3, 4] does not match the expected [3, 5]", "head layer 0's output size 5");

        // A bias of the wrong length.
        tensors = Stacked();
        tensors[tensors.FindIndex(t => t.Name == "head.0.bias")] = T("head.0.bias", [4], Values(4, 9));
        Fails(StackedMetadata(), tensors, "head.0.bias", "[4] does not match the expected [5]");
    }

    [Fact]
    public void Build_RejectsInputLayersWithTokenInput()
    {
        var metadata = StackedMetadata();
        metadata[MetadataKeys.Input] = "one-hot";
        Fails(metadata, Stacked(), MetadataKeys.InputLayers, "dense input", "'one-hot'");
    }

    [Fact]
    public void Build_RejectsHeadTogetherWithHeadLayers()
    {
        var metadata = StackedMetadata();
        metadata[MetadataKeys.Head] = "head.2";
        Fails(metadata, Stacked(), MetadataKeys.Head, MetadataKeys.HeadLayers);
    }

    [Fact]
    public void Build_RejectsUnlistedDenseModule_AsNotConsumed()
    {
        // Without rnn.head.layers, two head modules cannot both be consumed: the error names one and the keys.
        var metadata = StackedMetadata();
        metadata.Remove(MetadataKeys.HeadLayers);
        metadata.Remove(MetadataKeys.Output);
        var e = Assert.Throws<RnnFormatException>(() => BuildWith(metadata, Stacked().ToArray()));
        Assert.StartsWith("head.", e.TensorName);
    }

    [Theory]
    [InlineData("softmax")]
    [InlineData("sigmoid")]
    public void Build_RejectsProbabilityOutputForTokenTasks(string output)
    {
        var metadata = new Dictionary<string, string>
        {
            [MetadataKeys.Task] = "char-lm",
            [MetadataKeys.Vocabulary] = "[\"a\",\"b\",\"c\"]",
            [MetadataKeys.Output] = output,
        };
        Tensor[] tensors =
        [
            T("emb.weight", [3, 4], Values(12, 1)),
            T("rnn.weight_ih_l0", [2, 4], Values(8, 2)),
            T("rnn.weight_hh_l0", [2, 2], Values(4, 3)),
            T("fc.weight", [3, 2], Values(6, 4)),
        ];
        var e = Assert.Throws<RnnFormatException>(() => BuildWith(metadata, tensors));
        Assert.Equal(MetadataKeys.Output, e.TensorName);
        Assert.Contains("none, log-softmax", e.Rule);

        metadata[MetadataKeys.Output] = "log-softmax";
        Assert.Equal(OutputFunction.LogSoftmax, BuildWith(metadata, tensors).Output);
    }

    public static IEnumerable<object[]> Fixtures => ParityFixture.StackNames.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Reference_MatchesTorchNn(string name)
    {
        ParityFixture fixture = ParityFixture.LoadStack(name);
        ModelSpec spec = ModelLoader.Load(fixture.WeightsPath);
        Assert.True(spec.HasLayerStacks, $"{name} must exercise a layer stack");

        float[][] actual = fixture.InputKind == "dense" ? ReferenceEngine.Run(spec, fixture.Dense) : ReferenceEngine.Run(spec, fixture.Tokens);
        Assert.Equal(fixture.Outputs.Length, actual.Length);
        double max = 0;
        for (int t = 0; t < actual.Length; t++)
        {
            Assert.Equal(fixture.Outputs[t].Length, actual[t].Length);
            for (int k = 0; k < actual[t].Length; k++)
            {
                double error = Math.Abs((double)fixture.Outputs[t][k] - actual[t][k]);
                Assert.True(error <= Tolerance, $"{name}: step {t} output {k}: PyTorch {fixture.Outputs[t][k]:R}, reference {actual[t][k]:R}");
                max = Math.Max(max, error);
            }
        }

        _output.WriteLine($"{name}: max |reference - torch| = {max.ToString("E3", CultureInfo.InvariantCulture)}");
    }

    [Fact]
    public void StackDirectory_HoldsExactlyTheListedFixtures()
    {
        string[] found = Directory.GetFiles(ParityFixture.StackDirectory, "*.safetensors")
            .Select(p => Path.GetFileName(p)[..^".safetensors".Length])
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(ParityFixture.StackNames.Order(StringComparer.Ordinal), found);
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static double[] Affine(DenseSpec d, double[] x) => Affine(d.W, d.b, x);

    private static double[] Affine(Matrix w, float[]? b, double[] x)
    {
        var y = new double[w.Rows];
        for (int r = 0; r < w.Rows; r++)
        {
            double sum = b?[r] ?? 0;
            for (int c = 0; c < w.Cols; c++)
            {
                sum += w[r, c] * x[c];
            }

            y[r] = sum;
        }

        return y;
    }
}
