using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using static RnnEmbedded.Tests.Reference.TestModels;

namespace RnnEmbedded.Tests.Model;

/// <summary>rnn.clip (docs/model-format.md, "Clipping"): one bound or one entry per layer, errors naming the key, and the writer's round trip.</summary>
public sealed class ClipMetadataTests
{
    /// <summary>emb (5, 3) → lstm LSTM(3, 2) × 2 layers → fc Linear(2, 5).</summary>
    private static Tensor[] TwoLayerLstm() =>
    [
        T("emb.weight", [5, 3], Values(15, 1)),
        T("lstm.weight_ih_l0", [8, 3], Values(24, 2)),
        T("lstm.weight_hh_l0", [8, 2], Values(16, 3)),
        T("lstm.weight_ih_l1", [8, 2], Values(16, 4)),
        T("lstm.weight_hh_l1", [8, 2], Values(16, 5)),
        T("fc.weight", [5, 2], Values(10, 6)),
    ];

    [Theory]
    [InlineData("3", 3f, 3f, "3")]
    [InlineData("0.5,none", 0.5f, null, "0.5,none")]
    [InlineData(" none , 1e-1 ", null, 0.1f, "none,0.1")]
    [InlineData("2,2", 2f, 2f, "2")]
    public void Build_ReadsOneBoundOrOnePerLayer(string value, float? first, float? second, string written)
    {
        ModelSpec spec = BuildWith(new() { ["rnn.clip"] = value }, TwoLayerLstm());
        Assert.Equal(first, spec.Layers[0].Clip);
        Assert.Equal(second, spec.Layers[1].Clip);

        // The writer writes the same bounds back (one value when the layers agree).
        (_, IReadOnlyDictionary<string, string> metadata) = ModelWriter.ToTensors(spec);
        Assert.Equal(written, metadata["rnn.clip"]);
    }

    [Fact]
    public void Build_WithoutTheKey_DoesNotClip_AndTheWriterWritesNoKey()
    {
        ModelSpec spec = Build(TwoLayerLstm());
        Assert.All(spec.Layers, l => Assert.Null(l.Clip));
        Assert.False(ModelWriter.ToTensors(spec).Metadata.ContainsKey("rnn.clip"));
    }

    [Theory]
    [InlineData("0", "entry 0 '0' is not a positive finite number or 'none'")]
    [InlineData("-2", "entry 0 '-2' is not a positive finite number or 'none'")]
    [InlineData("3,abc", "entry 1 'abc' is not a positive finite number or 'none'")]
    [InlineData("inf", "entry 0 'inf' is not a positive finite number or 'none'")]
    [InlineData("1,2,3", "has 3 entries for 2 layers")]
    public void Build_RejectsABadValue_NamingTheKeyAndTheRule(string value, string rule)
    {
        var e = Assert.Throws<RnnFormatException>(() => BuildWith(new() { ["rnn.clip"] = value }, TwoLayerLstm()));
        Assert.Equal("rnn.clip", e.TensorName);
        Assert.Contains(rule, e.Rule);
    }
}
