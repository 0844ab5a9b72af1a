using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Tests.Reference;
using static RnnEmbedded.Tests.Reference.TestModels;

namespace RnnEmbedded.Tests.Model;

/// <summary>ModelWriter: canonical names, metadata that rebuilds the same spec, and the file round trip.</summary>
public sealed class ModelWriterTests
{
    public static IEnumerable<object[]> Fixtures => ParityFixture.Names.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void ToTensors_ThenBuild_GivesTheSameSpec(string name)
    {
        ModelSpec original = ModelLoader.Load(ParityFixture.Load(name).WeightsPath);
        (IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string> metadata) = ModelWriter.ToTensors(original);

        ModelSpec rebuilt = ModelBuilder.Build(new WeightFile("roundtrip.safetensors", tensors, metadata));

        Assert.Null(ModelSpecComparer.FirstDifference(original, rebuilt));
        // Writing the rebuilt spec again gives the same metadata: the writer's output is a fixed point.
        Assert.Equal(metadata, ModelWriter.ToTensors(rebuilt).Metadata);
    }

    [Fact]
    public void WriteFile_ThenLoad_RoundTripsThroughDisk_AndRunsIdentically()
    {
        ParityFixture fixture = ParityFixture.Load("caption_lstm");
        ModelSpec original = ModelLoader.Load(fixture.WeightsPath);
        string path = Path.Combine(Path.GetTempPath(), $"rnn-writer-{Guid.NewGuid():N}.safetensors");
        try
        {
            ModelWriter.WriteFile(path, original);
            ModelSpec loaded = ModelLoader.Load(path);

            Assert.Null(ModelSpecComparer.FirstDifference(original, loaded));
            float[][] a = ReferenceEngine.RunCaption(original, fixture.Image!, fixture.Tokens);
            float[][] b = ReferenceEngine.RunCaption(loaded, fixture.Image!, fixture.Tokens);
            Assert.Equal(a, b);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [Fact]
    public void ToTensors_UsesCanonicalNamesAndMetadata()
    {
        ModelSpec spec = ModelLoader.Load(ParityFixture.Load("caption_lstm").WeightsPath);
        (IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string> metadata) = ModelWriter.ToTensors(spec);

        Assert.Equal(
            ["embedding.weight", "image_proj.weight", "image_proj.bias", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "head.weight", "head.bias"],
            tensors.Select(t => t.Name));
        Assert.Equal("1", metadata["rnn.format"]);
        Assert.Equal("caption", metadata["rnn.task"]);
        Assert.Equal("embedding", metadata["rnn.input"]);
        Assert.Equal("embedding", metadata["rnn.embedding"]);
        Assert.Equal("head", metadata["rnn.head"]);
        Assert.Equal("image_proj", metadata["rnn.image_projection"]);
        Assert.Equal("words", metadata["rnn.vocab.kind"]);
        Assert.Equal("[\"<start>\",\"<stop>\",\"<unk>\",\"a\",\"dog\",\"runs\",\"on\",\"the\",\"grass\",\"cat\"]", metadata["rnn.vocab"]);
        Assert.Equal("false", metadata["rnn.lstm.cifg"]);
        Assert.False(metadata.ContainsKey("rnn.nonlinearity"));
    }

    [Fact]
    public void ToTensors_NamesReverseProjectionAndPeepholeTensors()
    {
        ModelSpec spec = ModelLoader.Load(ParityFixture.Load("lstm_proj_bidir").WeightsPath);
        IEnumerable<string> names = ModelWriter.ToTensors(spec).Tensors.Select(t => t.Name);
        Assert.Contains("rnn.weight_hr_l0", names);
        Assert.Contains("rnn.weight_hr_l0_reverse", names);
        Assert.Contains("rnn.bias_hh_l0_reverse", names);
    }

    public static IEnumerable<object[]> Variants =>
    [
        ["peepholes", new Dictionary<string, string>(), new[]
        {
            T("x.weight_ih_l0", [8, 3], Values(24, 1)), T("x.weight_hh_l0", [8, 2], Values(16, 2)),
            T("x.peephole_l0", [3, 2], Values(6, 3)), T("x.weight_ih_l1", [8, 2], Values(16, 4)),
            T("x.weight_hh_l1", [8, 2], Values(16, 5)), T("x.peephole_l1", [3, 2], Values(6, 6)),
        }],
        ["cifg", new Dictionary<string, string> { ["rnn.lstm.cifg"] = "true", ["rnn.input"] = "one-hot" }, new[]
        {
            T("x.weight_ih_l0", [6, 4], Values(24, 1)), T("x.weight_hh_l0", [6, 2], Values(12, 2)),
            T("x.bias_ih_l0", [6], Values(6, 3)), T("x.bias_hh_l0", [6], Values(6, 4)),
            T("x.peephole_l0", [3, 2], 0.1f, 0.2f, 0f, 0f, 0.3f, 0.4f),
        }],
        ["gru reset_before", new Dictionary<string, string> { ["rnn.gru.form"] = "reset_before", ["rnn.train.note"] = "kept" }, new[]
        {
            T("e.weight", [4, 3], Values(12, 1)), T("g.weight_ih_l0", [6, 3], Values(18, 2)),
            T("g.weight_hh_l0", [6, 2], Values(12, 3)), T("h.weight", [4, 2], Values(8, 4)),
        }],
        ["rnn sigmoid word-lm", new Dictionary<string, string>
        {
            ["rnn.nonlinearity"] = "sigmoid", ["rnn.task"] = "word-lm", ["rnn.vocab"] = "[\"the\",\"cat\",\"<unk>\"]",
        }, new[]
        {
            T("e.weight", [3, 2], Values(6, 1)), T("r.weight_ih_l0", [2, 2], Values(4, 2)),
            T("r.weight_hh_l0", [2, 2], Values(4, 3)), T("r.bias_ih_l0", [2], Values(2, 4)),
            T("r.bias_hh_l0", [2], Values(2, 5)), T("h.weight", [3, 2], Values(6, 6)), T("h.bias", [3], Values(3, 7)),
        }],
    ];

    [Theory]
    [MemberData(nameof(Variants))]
    public void ToTensors_RoundTripsVariantsPyTorchLacks(string label, Dictionary<string, string> metadata, Tensor[] tensors)
    {
        ModelSpec original = BuildWith(metadata, tensors);
        (IReadOnlyList<Tensor> written, IReadOnlyDictionary<string, string> writtenMetadata) = ModelWriter.ToTensors(original);
        ModelSpec rebuilt = ModelBuilder.Build(new WeightFile(label, written, writtenMetadata));

        Assert.Null(ModelSpecComparer.FirstDifference(original, rebuilt));
        foreach (KeyValuePair<string, string> entry in metadata)
        {
            Assert.Equal(entry.Value, rebuilt.Metadata[entry.Key]);
        }
    }

    [Fact]
    public void ToTensors_KeepsTrainingRecordButRederivesInterpretedKeys()
    {
        ModelSpec spec = BuildWith(
            new() { ["rnn.train.loss"] = "1.25", ["rnn.head"] = "h", ["origin"] = "test" },
            T("r.weight_ih_l0", [2, 3], Values(6, 1)), T("r.weight_hh_l0", [2, 2], Values(4, 2)), T("h.weight", [4, 2], Values(8, 3)));
        IReadOnlyDictionary<string, string> metadata = ModelWriter.ToTensors(spec).Metadata;
        Assert.Equal("1.25", metadata["rnn.train.loss"]);
        Assert.Equal("test", metadata["origin"]);
        Assert.Equal("head", metadata["rnn.head"]); // the canonical module name, not the source's 'h'
        Assert.Equal("dense", metadata["rnn.input"]);
        Assert.Equal("tanh", metadata["rnn.nonlinearity"]);
    }

    [Fact]
    public void ToTensors_RejectsSpecWhoseSizesDisagreeWithItsWeights()
    {
        ModelSpec good = ModelLoader.Load(ParityFixture.Load("gru_dense").WeightsPath);
        var bad = new ModelSpec
        {
            InputKind = good.InputKind,
            InputSize = good.InputSize + 1,
            Layers = good.Layers,
            Head = good.Head,
        };
        var e = Assert.Throws<ArgumentException>(() => ModelWriter.ToTensors(bad));
        Assert.Equal("spec", e.ParamName);
        Assert.Contains("InputSize", e.Message);
    }

    [Fact]
    public void ToTensors_RejectsLayersWithDifferentVariants()
    {
        ModelSpec source = ModelLoader.Load(ParityFixture.Load("rnn_tanh_3layer").WeightsPath);
        LayerSpec l1 = source.Layers[1];
        var relu = new LayerSpec
        {
            Cell = l1.Cell, InputSize = l1.InputSize, HiddenSize = l1.HiddenSize, Activation = ActivationKind.Relu, Forward = l1.Forward,
        };
        var mixed = new ModelSpec
        {
            InputKind = source.InputKind,
            InputSize = source.InputSize,
            Embedding = source.Embedding,
            Layers = [source.Layers[0], relu, source.Layers[2]],
            Head = source.Head,
        };
        var e = Assert.Throws<ArgumentException>(() => ModelWriter.ToTensors(mixed));
        Assert.Contains("Layer 1", e.Message);
    }
}
