using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using static RnnEmbedded.Tests.Reference.TestModels;

namespace RnnEmbedded.Tests.Model;

/// <summary>Every rule the builder enforces fails with an RnnFormatException naming the file, the tensor or key, and the rule.</summary>
public sealed class ModelBuilderErrorTests
{
    /// <summary>emb (5, 3) → lstm LSTM(3, 2) → fc Linear(2, 5).</summary>
    private static List<Tensor> Lstm() =>
    [
        T("emb.weight", [5, 3], Values(15, 1)),
        T("lstm.weight_ih_l0", [8, 3], Values(24, 2)),
        T("lstm.weight_hh_l0", [8, 2], Values(16, 3)),
        T("lstm.bias_ih_l0", [8], Values(8, 4)),
        T("lstm.bias_hh_l0", [8], Values(8, 5)),
        T("fc.weight", [5, 2], Values(10, 6)),
        T("fc.bias", [5], Values(5, 7)),
    ];

    /// <summary>Adds layer k of an LSTM with H = 2 whose input is the previous layer's 2 outputs.</summary>
    private static List<Tensor> WithLayer(List<Tensor> tensors, int k, string suffix = "", int inputs = 2)
    {
        tensors.Add(T($"lstm.weight_ih_l{k}{suffix}", [8, inputs], Values(8 * inputs, 10 + k)));
        tensors.Add(T($"lstm.weight_hh_l{k}{suffix}", [8, 2], Values(16, 20 + k)));
        tensors.Add(T($"lstm.bias_ih_l{k}{suffix}", [8], Values(8, 30 + k)));
        tensors.Add(T($"lstm.bias_hh_l{k}{suffix}", [8], Values(8, 40 + k)));
        return tensors;
    }

    private static RnnFormatException Fails(List<Tensor> tensors, string? tensorOrKey, params string[] ruleFragments) =>
        Fails(new Dictionary<string, string>(), tensors, tensorOrKey, ruleFragments);

    private static RnnFormatException Fails(Dictionary<string, string> metadata, List<Tensor> tensors, string? tensorOrKey, params string[] ruleFragments)
    {
        var e = Assert.Throws<RnnFormatException>(() => BuildWith(metadata, tensors.ToArray()));
        Assert.Equal("test.safetensors", e.FileName);
        Assert.Equal(tensorOrKey, e.TensorName);
        foreach (string fragment in ruleFragments)
        {
            Assert.Contains(fragment, e.Rule);
        }

        Assert.StartsWith("test.safetensors: ", e.Message);
        return e;
    }

    [Fact]
    public void Build_BaseModel_IsValid()
    {
        ModelSpec spec = Build(Lstm().ToArray());
        Assert.Equal((CellKind.Lstm, 2, 5, 5), (spec.Layers[0].Cell, spec.Layers[0].HiddenSize, spec.InputSize, spec.OutputSize));
    }

    [Fact]
    public void Build_RejectsUnusedTensor_NamingIt()
    {
        List<Tensor> tensors = Lstm();
        tensors.Add(T("extra.scale", [3], 1f, 2f, 3f));
        Fails(tensors, "extra.scale", "not consumed", "[3]");
    }

    [Fact]
    public void Build_RejectsUnusedMatrixThatFitsNoRole()
    {
        List<Tensor> tensors = Lstm();
        tensors.Add(T("aux.weight", [4, 4], Values(16, 9)));
        Fails(tensors, "aux.weight", "not consumed", "[4, 4]");
    }

    [Fact]
    public void Build_RejectsNonCanonicalLayerNumber_AsUnusedTensor()
    {
        List<Tensor> tensors = Lstm();
        tensors.Add(T("lstm.weight_ih_l01", [8, 2], Values(16, 9)));
        Fails(tensors, "lstm.weight_ih_l01", "not consumed");
    }

    [Fact]
    public void Build_RejectsMissingBias_WhenTheOtherBiasExists()
    {
        List<Tensor> tensors = Lstm();
        tensors.RemoveAll(t => t.Name == "lstm.bias_hh_l0");
        Fails(tensors, "lstm.bias_hh_l0", "missing tensor", "[8]");
    }

    [Fact]
    public void Build_RejectsMissingWeightHh()
    {
        List<Tensor> tensors = Lstm();
        tensors.RemoveAll(t => t.Name == "lstm.weight_hh_l0");
        Fails(tensors, "lstm.weight_hh_l0", "missing tensor");
    }

    [Fact]
    public void Build_RejectsMisShapedTensor_GivingExpectedAndActualShapes()
    {
        List<Tensor> tensors = WithLayer(Lstm(), 1, inputs: 3); // layer 1 must read layer 0's 2 outputs
        Fails(tensors, "lstm.weight_ih_l1", "[8, 3]", "[8, 2]", "layer 0's output");
    }

    [Fact]
    public void Build_RejectsMisShapedBias()
    {
        List<Tensor> tensors = Lstm();
        tensors[4] = T("lstm.bias_hh_l0", [7], Values(7, 5));
        Fails(tensors, "lstm.bias_hh_l0", "[7]", "[8]");
    }

    [Fact]
    public void Build_RejectsGapInLayerNumbers()
    {
        List<Tensor> tensors = WithLayer(Lstm(), 2);
        Fails(tensors, "lstm.weight_ih_l1", "no gaps");
    }

    [Fact]
    public void Build_RejectsBidirectionalModuleMissingAReverseLayer()
    {
        List<Tensor> tensors = Lstm();
        WithLayer(tensors, 0, "_reverse", inputs: 3);
        tensors[5] = T("fc.weight", [5, 4], Values(20, 6)); // head reads 2 × 2
        WithLayer(tensors, 1, inputs: 4);
        Fails(tensors, "lstm.weight_ih_l1_reverse", "bidirectional");
    }

    [Fact]
    public void Build_AcceptsBidirectionalModuleWithAllReverseLayers()
    {
        List<Tensor> tensors = Lstm();
        WithLayer(tensors, 0, "_reverse", inputs: 3);
        tensors[5] = T("fc.weight", [5, 4], Values(20, 6));
        WithLayer(tensors, 1, inputs: 4);
        WithLayer(tensors, 1, "_reverse", inputs: 4);
        ModelSpec spec = Build(tensors.ToArray());
        Assert.True(spec.Bidirectional);
        Assert.Equal(4, spec.Layers[1].InputSize);
    }

    [Fact]
    public void Build_RejectsReverseBiasWhenTheForwardDirectionHasNone()
    {
        List<Tensor> tensors = Lstm();
        tensors.RemoveAll(t => t.Name.StartsWith("lstm.bias", StringComparison.Ordinal));
        tensors.Add(T("lstm.weight_ih_l0_reverse", [8, 3], Values(24, 50)));
        tensors.Add(T("lstm.weight_hh_l0_reverse", [8, 2], Values(16, 51)));
        tensors.Add(T("lstm.bias_ih_l0_reverse", [8], Values(8, 52)));
        tensors[tensors.FindIndex(t => t.Name == "fc.weight")] = T("fc.weight", [5, 4], Values(20, 6));
        Fails(tensors, "lstm.bias_ih_l0_reverse", "unexpected tensor", "no bias");
    }

    [Fact]
    public void Build_RejectsWeightHhWhoseRowsAreNotAGateMultiple()
    {
        List<Tensor> tensors = Lstm();
        tensors[2] = T("lstm.weight_hh_l0", [4, 2], Values(8, 3));
        Fails(tensors, "lstm.weight_hh_l0", "[4, 2]", "4 (LSTM), 3 (GRU");
    }

    [Fact]
    public void Build_RejectsLayersOfDifferentCellKinds()
    {
        List<Tensor> tensors = Lstm();
        tensors.Add(T("lstm.weight_ih_l1", [6, 2], Values(12, 60)));
        tensors.Add(T("lstm.weight_hh_l1", [6, 2], Values(12, 61)));
        Fails(tensors, "lstm.weight_hh_l1", "GRU", "layer 0 is LSTM");
    }

    [Fact]
    public void Build_RejectsNoRecurrentLayer()
    {
        Fails([T("fc.weight", [5, 2], Values(10, 6))], null, "no recurrent layer", "weight_ih_l0");
    }

    [Fact]
    public void Build_RejectsTwoRecurrentModules()
    {
        List<Tensor> tensors = Lstm();
        tensors.Add(T("other.weight_ih_l0", [8, 3], Values(24, 70)));
        Fails(tensors, "other.weight_ih_l0", "two module prefixes", "'lstm'", "'other'");
    }

    [Fact]
    public void Build_RejectsAmbiguousHead_SuggestingTheHeadKey()
    {
        List<Tensor> tensors = Lstm();
        tensors.Add(T("out.weight", [3, 2], Values(6, 80))); // a second Linear(2, ·) without bias
        Fails(tensors, "emb.weight", "rnn.head", "fc.weight", "out.weight");
    }

    [Fact]
    public void Build_RejectsAmbiguousEmbeddingAndHead_ThenMetadataResolvesIt()
    {
        // E = H = 2 and a bias-free head: each matrix could be the embedding or the head.
        List<Tensor> tensors =
        [
            T("a.weight", [5, 2], Values(10, 1)),
            T("rnn.weight_ih_l0", [2, 2], Values(4, 2)),
            T("rnn.weight_hh_l0", [2, 2], Values(4, 3)),
            T("b.weight", [5, 2], Values(10, 4)),
        ];
        RnnFormatException e = Fails(tensors, "a.weight", "ambiguous", "rnn.embedding", "rnn.head");
        Assert.Contains("embedding 'a.weight', head 'b.weight'", e.Rule);
        Assert.Contains("embedding 'b.weight', head 'a.weight'", e.Rule);

        ModelSpec byEmbedding = BuildWith(new() { ["rnn.embedding"] = "b" }, tensors.ToArray());
        Assert.Same(tensors[3].Data, byEmbedding.Embedding!.Data);
        Assert.Same(tensors[0].Data, byEmbedding.Head!.W.Data);

        ModelSpec byHead = BuildWith(new() { ["rnn.head"] = "b" }, tensors.ToArray());
        Assert.Same(tensors[0].Data, byHead.Embedding!.Data);
        Assert.Same(tensors[3].Data, byHead.Head!.W.Data);
    }

    [Fact]
    public void Build_RejectsHeadKeyNamingAMissingModule()
    {
        Fails(new() { ["rnn.head"] = "decoder" }, Lstm(), "decoder.weight", "missing tensor");
    }

    [Fact]
    public void Build_RejectsEmbeddingWithABias()
    {
        List<Tensor> tensors = Lstm();
        tensors.Add(T("emb.bias", [3], Values(3, 90)));
        Fails(new() { ["rnn.embedding"] = "emb" }, tensors, "emb.bias", "no bias");
    }

    [Theory]
    [InlineData("rnn.nonlinearity", "gelu", "tanh, relu, sigmoid")]
    [InlineData("rnn.task", "translation", "generic, char-lm, word-lm, caption, classify")]
    [InlineData("rnn.input", "onehot", "embedding, one-hot, dense")]
    [InlineData("rnn.gru.form", "reset-after", "reset_after, reset_before")]
    [InlineData("rnn.lstm.cifg", "yes", "true, false")]
    [InlineData("rnn.vocab.kind", "bytes", "chars, words")]
    [InlineData("rnn.format", "2", "1")]
    public void Build_RejectsUnknownMetadataValue_NamingKeyAndAllowedValues(string key, string value, string allowed)
    {
        Fails(new() { [key] = value }, Lstm(), key, $"'{value}'", "allowed values: " + allowed);
    }

    [Fact]
    public void Build_RejectsUnknownRnnKey_ButKeepsTrainingRecordAndForeignKeys()
    {
        Fails(new() { ["rnn.nonlinerity"] = "relu" }, Lstm(), "rnn.nonlinerity", "unknown metadata key");

        ModelSpec spec = BuildWith(new() { ["rnn.train.epochs"] = "3", ["format"] = "pt" }, Lstm().ToArray());
        Assert.Equal("3", spec.Metadata["rnn.train.epochs"]);
        Assert.Equal("pt", spec.Metadata["format"]);
    }

    [Fact]
    public void Build_RejectsVariantKeysForTheWrongCell()
    {
        Fails(new() { ["rnn.gru.form"] = "reset_before" }, Lstm(), "rnn.gru.form", "only to GRU", "LSTM");
        Fails(new() { ["rnn.nonlinearity"] = "relu" }, Lstm(), "rnn.nonlinearity", "only to plain RNN");
    }

    [Fact]
    public void Build_RejectsCifgKeyOnAFullLstm()
    {
        Fails(new() { ["rnn.lstm.cifg"] = "true" }, Lstm(), "lstm.weight_hh_l0", "4H rows", "3H rows ordered i, g, o");
    }

    [Fact]
    public void Build_RejectsPeepholesOnGru()
    {
        List<Tensor> tensors =
        [
            T("gru.weight_ih_l0", [6, 1], Values(6, 1)),
            T("gru.weight_hh_l0", [6, 2], Values(12, 2)),
            T("gru.peephole_l0", [3, 2], Values(6, 3)),
        ];
        Fails(tensors, "gru.weight_hh_l0", "rnn.lstm.cifg=true");
    }

    [Fact]
    public void Build_RejectsMisShapedPeepholes()
    {
        List<Tensor> tensors = Lstm();
        tensors.Add(T("lstm.peephole_l0", [4, 2], Values(8, 3)));
        Fails(tensors, "lstm.peephole_l0", "[4, 2]", "[3, 2]");
    }

    [Fact]
    public void Build_RejectsCifgPeepholesWithNonZeroForgetRow()
    {
        List<Tensor> tensors =
        [
            T("lstm.weight_ih_l0", [3, 1], 1f, 2f, 3f),
            T("lstm.weight_hh_l0", [3, 1], 1f, 2f, 3f),
            T("lstm.peephole_l0", [3, 1], 1f, 0.5f, 1f),
        ];
        Fails(new() { ["rnn.lstm.cifg"] = "true" }, tensors, "lstm.peephole_l0", "row 1 (p_f) must be zero");
    }

    [Fact]
    public void Build_RejectsVocabularyOfWrongSize()
    {
        Fails(new() { ["rnn.vocab.kind"] = "words", ["rnn.vocab"] = "[\"a\",\"b\",\"c\",\"d\"]" }, Lstm(),
            "rnn.vocab", "4 tokens", "V = 5");
    }

    [Fact]
    public void Build_RejectsLanguageModelWhoseHeadDoesNotMatchTheVocabulary()
    {
        List<Tensor> tensors = Lstm();
        tensors[5] = T("fc.weight", [4, 2], Values(8, 6));
        tensors[6] = T("fc.bias", [4], Values(4, 7));
        var metadata = new Dictionary<string, string> { ["rnn.task"] = "word-lm", ["rnn.vocab"] = "[\"a\",\"b\",\"c\",\"d\",\"e\"]" };
        Fails(metadata, tensors, "rnn.task", "vocabulary size 5", "4");
    }

    [Fact]
    public void Build_RejectsLanguageModelWithoutVocabulary()
    {
        Fails(new() { ["rnn.task"] = "char-lm" }, Lstm(), "rnn.task", "needs a vocabulary");
    }

    [Theory]
    [InlineData("[\"a\",\"b\"", "not valid JSON")]
    [InlineData("{\"a\":1}", "JSON array")]
    [InlineData("[\"a\",\"b\",\"c\",\"d\",1]", "item 4 must be a string")]
    [InlineData("[\"a\",\"b\",\"c\",\"d\",\"a\"]", "repeats item 0")]
    [InlineData("[\"a\",\"b\",\"c\",\"d\",\"\"]", "empty string")]
    [InlineData("[\"a\",\"b\",\"c\",\"d\",\"ee\"]", "not one character")]
    public void Build_RejectsMalformedVocabulary(string json, string rule)
    {
        Fails(new() { ["rnn.vocab.kind"] = "chars", ["rnn.vocab"] = json }, Lstm(), "rnn.vocab", rule);
    }

    [Fact]
    public void Build_AcceptsCharVocabularyWithSurrogatePair()
    {
        ModelSpec spec = BuildWith(new() { ["rnn.vocab.kind"] = "chars", ["rnn.vocab"] = "[\"a\",\"\\ud83d\\ude00\",\"c\",\"\\n\",\" \"]" }, Lstm().ToArray());
        Assert.Equal("\U0001F600", spec.Vocabulary!.Tokens[1]);
    }

    [Fact]
    public void Build_RejectsCaptionTaskWithoutImageProjection()
    {
        var metadata = new Dictionary<string, string>
        {
            ["rnn.task"] = "caption",
            ["rnn.vocab"] = "[\"<start>\",\"<stop>\",\"a\",\"b\",\"c\"]",
        };
        Fails(metadata, Lstm(), "rnn.task", "rnn.image_projection");
    }

    /// <summary>Found by the model-space test: the builder accepted it, then the generator refused it (RNN0002).</summary>
    [Fact]
    public void Build_RejectsBidirectionalCaptionDecoder()
    {
        List<Tensor> tensors = WithLayer(Lstm(), 0, "_reverse", inputs: 3);
        tensors[5] = T("fc.weight", [5, 4], Values(20, 6)); // the head reads [h_forward, h_backward]
        tensors.Add(T("img.weight", [3, 6], Values(18, 99)));
        var metadata = new Dictionary<string, string>
        {
            ["rnn.task"] = "caption",
            ["rnn.vocab"] = "[\"<start>\",\"<stop>\",\"a\",\"b\",\"c\"]",
            ["rnn.image_projection"] = "img",
        };
        Fails(metadata, tensors, "lstm.weight_ih_l0_reverse", "caption", "bidirectional");

        metadata.Remove("rnn.task");
        metadata.Remove("rnn.image_projection");
        tensors.RemoveAt(tensors.Count - 1);
        metadata["rnn.task"] = "word-lm";
        Assert.True(BuildWith(metadata, tensors.ToArray()).Bidirectional); // only a caption decoder must step
    }

    [Fact]
    public void Build_RejectsImageProjectionOfWrongShape()
    {
        List<Tensor> tensors = Lstm();
        tensors.Add(T("img.weight", [4, 6], Values(24, 99))); // must be (E = 3, F)
        var metadata = new Dictionary<string, string>
        {
            ["rnn.task"] = "caption",
            ["rnn.vocab"] = "[\"<start>\",\"<stop>\",\"a\",\"b\",\"c\"]",
            ["rnn.image_projection"] = "img",
        };
        Fails(metadata, tensors, "img.weight", "[4, 6]", "(3, F)");
    }

    [Fact]
    public void Build_RejectsDuplicateTensorNames()
    {
        List<Tensor> tensors = Lstm();
        tensors.Add(T("fc.bias", [5], Values(5, 7)));
        Fails(tensors, "fc.bias", "twice");
    }
}
