using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using static RnnEmbedded.Tests.Reference.TestModels;

namespace RnnEmbedded.Tests.Model;

/// <summary>
/// Reverse-only layers (docs/model-format.md, "Layer directions"): a module whose layers have only '_reverse'
/// tensors reads the sequence from the last step to the first; directions do not mix within a module.
/// </summary>
public sealed class ReverseLayerTests
{
    /// <summary>emb (5, 3) → lstm LSTM(3, 2) × 2 layers, each with the given suffix → fc Linear(2, 5).</summary>
    private static List<Tensor> Stack(string suffix0, string suffix1)
    {
        var tensors = new List<Tensor>
        {
            T("emb.weight", [5, 3], Values(15, 1)),
            T("fc.weight", [5, 2], Values(10, 6)),
            T("fc.bias", [5], Values(5, 7)),
        };
        Layer(tensors, 0, suffix0, 3);
        Layer(tensors, 1, suffix1, 2);
        return tensors;
    }

    private static void Layer(List<Tensor> tensors, int k, string suffix, int inputs)
    {
        tensors.Add(T($"lstm.weight_ih_l{k}{suffix}", [8, inputs], Values(8 * inputs, 10 + k)));
        tensors.Add(T($"lstm.weight_hh_l{k}{suffix}", [8, 2], Values(16, 20 + k)));
        tensors.Add(T($"lstm.bias_ih_l{k}{suffix}", [8], Values(8, 30 + k)));
        tensors.Add(T($"lstm.bias_hh_l{k}{suffix}", [8], Values(8, 40 + k)));
    }

    [Fact]
    public void Build_OnlyReverseTensors_MakesAReverseOnlyRunOnlyModel()
    {
        ModelSpec spec = Build(Stack("_reverse", "_reverse").ToArray());
        Assert.All(spec.Layers, l => Assert.True(l.Reverse && !l.Bidirectional && l.OutputSize == 2));
        Assert.True(spec.RunOnly);
        Assert.False(spec.Bidirectional);
        Assert.Equal(2, spec.Layers[1].InputSize);
        Assert.Equal("reverse", ModelSpec.DirectionName(spec.Layers[0]));
        Assert.False(Build(Stack("", "").ToArray()).RunOnly);
    }

    [Fact]
    public void Reference_ReverseStack_IsTheForwardStackOnTheFlippedSequence()
    {
        // Every layer reverse: output t depends on steps t..T-1, and equals the same weights run forward over the
        // flipped sequence, read back flipped. An independent identity, not the engine checking itself: the forward
        // path is the one PyTorch parity fixtures cover.
        ModelSpec reverse = Build(Stack("_reverse", "_reverse").ToArray());
        ModelSpec forward = Build(Stack("", "").ToArray());
        int[] tokens = [3, 0, 4, 4, 1, 2];
        float[][] actual = ReferenceEngine.Run(reverse, tokens);
        float[][] flipped = ReferenceEngine.Run(forward, tokens.Reverse().ToArray());
        Assert.Equal(tokens.Length, actual.Length);
        for (int t = 0; t < tokens.Length; t++)
        {
            Assert.Equal(flipped[tokens.Length - 1 - t], actual[t]);
        }

        // And it is not the forward model's output: the direction matters.
        Assert.NotEqual(ReferenceEngine.Run(forward, tokens)[0], actual[0]);
    }

    [Fact]
    public void Reference_Step_OnAReverseModel_Throws()
    {
        ModelSpec spec = Build(Stack("_reverse", "_reverse").ToArray());
        var e = Assert.Throws<InvalidOperationException>(() => new ReferenceEngine(spec).Step(0, new float[5]));
        Assert.Contains("reverse", e.Message);
    }

    [Fact]
    public void Build_RejectsAReverseLayerInAForwardModule_NamingTheMissingTensor()
    {
        var e = Assert.Throws<RnnFormatException>(() => Build(Stack("", "_reverse").ToArray()));
        Assert.Equal("lstm.weight_ih_l1", e.TensorName);
        Assert.Contains("layer 1 has only '_reverse' tensors", e.Rule);
        Assert.Contains("all layers of a module share one direction", e.Rule);
    }

    [Fact]
    public void Build_RejectsAForwardLayerInAReverseModule_NamingTheMissingTensor()
    {
        var e = Assert.Throws<RnnFormatException>(() => Build(Stack("_reverse", "").ToArray()));
        Assert.Equal("lstm.weight_ih_l0", e.TensorName);
        Assert.Contains("layer 0 has only '_reverse' tensors", e.Rule);
    }

    [Fact]
    public void Build_RejectsAGapInAReverseModule()
    {
        List<Tensor> tensors = Stack("_reverse", "_reverse");
        Layer(tensors, 3, "_reverse", 2);
        var e = Assert.Throws<RnnFormatException>(() => Build(tensors.ToArray()));
        Assert.Equal("lstm.weight_ih_l2_reverse", e.TensorName);
        Assert.Contains("reverse-only module", e.Rule);
    }

    [Fact]
    public void Writer_RoundTripsAReverseModel_AsReverseTensorsAlone()
    {
        ModelSpec spec = Build(Stack("_reverse", "_reverse").ToArray());
        (IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string> metadata) = ModelWriter.ToTensors(spec);
        Assert.All(tensors.Where(t => t.Name.StartsWith("rnn.", StringComparison.Ordinal)), t => Assert.EndsWith("_reverse", t.Name));
        ModelSpec again = ModelBuilder.Build(new WeightFile("again.safetensors", tensors, metadata));
        Assert.Null(ModelSpecComparer.FirstDifference(spec, again));
    }

    [Theory]
    [InlineData(WeightType.BFloat16)]
    [InlineData(WeightType.Int8)]
    public void Quantizer_KeepsTheDirection(WeightType type)
    {
        ModelSpec quantized = WeightQuantizer.Apply(Build(Stack("_reverse", "_reverse").ToArray()), type);
        Assert.All(quantized.Layers, l => Assert.True(l.Reverse));
        Assert.True(quantized.RunOnly);
    }

    [Fact]
    public void Comparer_TellsAReverseLayerFromAForwardOne()
    {
        string? d = ModelSpecComparer.FirstDifference(Build(Stack("", "").ToArray()), Build(Stack("_reverse", "_reverse").ToArray()));
        Assert.NotNull(d);
        Assert.Contains("Layers[0].Reverse", d);
    }
}
