using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Tests.Reference;

namespace RnnEmbedded.Tests.Model;

/// <summary>What the builder infers from PyTorch state_dicts with no (or minimal) metadata.</summary>
public sealed class ModelBuilderInferenceTests
{
    private static ModelSpec Fixture(string name) => ModelLoader.Load(ParityFixture.Load(name).WeightsPath);

    [Fact]
    public void Build_PlainLstm_FindsEmbeddingRecurrentModuleAndHeadByShape()
    {
        ModelSpec spec = Fixture("lstm_1layer"); // embed(11,8) -> lstm LSTM(8,16) -> fc Linear(16,11), no metadata
        Assert.Equal(InputKind.Embedding, spec.InputKind);
        Assert.Equal(11, spec.InputSize);
        Assert.Equal(8, spec.Embedding!.Cols);
        LayerSpec layer = Assert.Single(spec.Layers);
        Assert.Equal(CellKind.Lstm, layer.Cell);
        Assert.Equal(8, layer.InputSize);
        Assert.Equal(16, layer.HiddenSize);
        Assert.True(layer.HasBias);
        Assert.False(layer.Bidirectional);
        Assert.Equal(11, spec.Head!.OutputSize);
        Assert.NotNull(spec.Head.b);
        Assert.Equal(ModelTask.Generic, spec.Task);
        Assert.Null(spec.Vocabulary);
        Assert.Empty(spec.Metadata);
    }

    [Fact]
    public void Build_TwoLayerGruWithOddSizes_InfersGruAndChainsSizes()
    {
        ModelSpec spec = Fixture("gru_2layer_odd"); // encoder(10,13) -> rnn GRU(13,37,2) -> decoder Linear(37,10)
        Assert.Equal(2, spec.Layers.Count);
        Assert.All(spec.Layers, l => Assert.Equal(CellKind.Gru, l.Cell));
        Assert.All(spec.Layers, l => Assert.Equal(GruForm.ResetAfter, l.GruForm));
        Assert.Equal(13, spec.Layers[0].InputSize);
        Assert.Equal(37, spec.Layers[1].InputSize);
        Assert.Equal(37, spec.Layers[1].HiddenSize);
    }

    [Fact]
    public void Build_ThreeLayerRnn_DefaultsToTanh_AndReadsReluFromMetadata()
    {
        Assert.All(Fixture("rnn_tanh_3layer").Layers, l => Assert.Equal((CellKind.Rnn, ActivationKind.Tanh), (l.Cell, l.Activation)));
        Assert.All(Fixture("rnn_relu").Layers, l => Assert.Equal((CellKind.Rnn, ActivationKind.Relu), (l.Cell, l.Activation)));
    }

    [Fact]
    public void Build_LstmWithProjection_ReadsPAndHFromWeightHr()
    {
        ModelSpec spec = Fixture("lstm_proj"); // LSTM(7, 11, 2 layers, proj_size=5) -> Linear(5, 12)
        Assert.All(spec.Layers, l => Assert.Equal((CellKind.Lstm, 11, 5, 5), (l.Cell, l.HiddenSize, l.ProjectionSize, l.StateSize)));
        Assert.Equal(5, spec.Layers[1].InputSize);
        Assert.Equal(5, spec.Head!.InputSize);
    }

    [Fact]
    public void Build_BidirectionalModels_DoubleTheNextLayersInput()
    {
        ModelSpec lstm = Fixture("lstm_bidir_2layer"); // LSTM(6, 7, 2 layers, bidirectional) -> Linear(14, 8)
        Assert.True(lstm.Bidirectional);
        Assert.All(lstm.Layers, l => Assert.NotNull(l.Backward));
        Assert.Equal(14, lstm.Layers[1].InputSize);
        Assert.Equal(14, lstm.Head!.InputSize);

        ModelSpec gru = Fixture("gru_bidir_nohead"); // GRU(5, 6, 2 layers, bidirectional), no head
        Assert.Null(gru.Head);
        Assert.Equal(12, gru.OutputSize);
    }

    [Fact]
    public void Build_NoBiasModules_HaveNullBiases()
    {
        ModelSpec lstm = Fixture("lstm_3layer_nobias");
        Assert.All(lstm.Layers, l => Assert.Null(l.Forward.b_ih));
        Assert.All(lstm.Layers, l => Assert.Null(l.Forward.b_hh));
        Assert.NotNull(lstm.Head!.b);

        ModelSpec gru = Fixture("gru_nobias_untied_head"); // GRU(bias=False) -> Linear(bias=False)
        Assert.False(gru.Layers[0].HasBias);
        Assert.Null(gru.Head!.b);
        Assert.Equal(InputKind.Embedding, gru.InputKind);
    }

    [Fact]
    public void Build_NoEmbeddingNoVocabulary_IsDenseInput()
    {
        ModelSpec spec = Fixture("gru_dense");
        Assert.Equal(InputKind.Dense, spec.InputKind);
        Assert.Equal(5, spec.InputSize);
        Assert.Null(spec.Embedding);
        Assert.Equal(3, spec.OutputSize);
        Assert.Null(Fixture("lstm_dense_nohead").Head);
    }

    [Fact]
    public void Build_OneHotFromInputKeyOrVocabulary()
    {
        ModelSpec byKey = Fixture("lstm_onehot"); // rnn.input=one-hot
        Assert.Equal(InputKind.OneHot, byKey.InputKind);
        Assert.Equal(7, byKey.InputSize);

        ModelSpec byVocabulary = Fixture("rnn_onehot_charlm"); // rnn.task=char-lm + rnn.vocab, no rnn.input
        Assert.Equal(InputKind.OneHot, byVocabulary.InputKind);
        Assert.Equal(ModelTask.CharLm, byVocabulary.Task);
        Assert.Equal(ModelVocabularyKind.Characters, byVocabulary.Vocabulary!.Kind);
        Assert.Equal("abcdefgh ,.\n".Select(c => c.ToString()), byVocabulary.Vocabulary.Tokens);
        Assert.Equal(12, byVocabulary.InputSize);
    }

    [Fact]
    public void Build_CaptionDecoder_ReadsImageProjectionAndSpecialTokens()
    {
        ModelSpec spec = Fixture("caption_lstm");
        Assert.Equal(ModelTask.Caption, spec.Task);
        Assert.Equal((6, 12), (spec.ImageProjection!.OutputSize, spec.ImageProjection.InputSize));
        Assert.NotNull(spec.ImageProjection.b);
        Assert.Equal(ModelVocabularyKind.Words, spec.Vocabulary!.Kind);
        Assert.Equal(0, spec.Vocabulary.StartToken);
        Assert.Equal(1, spec.Vocabulary.StopToken);
        Assert.Equal(2, spec.Vocabulary.UnknownToken);
        Assert.Equal(10, spec.InputSize);
        Assert.Equal(4, spec.Metadata.Count);
    }

    [Fact]
    public void Build_BareRecurrentStateDict_HasEmptyPrefix()
    {
        // torch.nn.GRU(3, 2).state_dict(): names without a module prefix.
        ModelSpec spec = TestModels.Build(
            TestModels.T("weight_ih_l0", [6, 3], TestModels.Values(18, 1)),
            TestModels.T("weight_hh_l0", [6, 2], TestModels.Values(12, 2)),
            TestModels.T("bias_ih_l0", [6], TestModels.Values(6, 3)),
            TestModels.T("bias_hh_l0", [6], TestModels.Values(6, 4)));
        Assert.Equal((CellKind.Gru, InputKind.Dense, 3, 2), (spec.Layers[0].Cell, spec.InputKind, spec.InputSize, spec.OutputSize));
    }

    [Fact]
    public void Build_NestedModulePrefixes_AreFound()
    {
        ModelSpec spec = TestModels.Build(
            TestModels.T("model.tok.embed.weight", [7, 3], TestModels.Values(21, 1)),
            TestModels.T("model.encoder.rnn.weight_ih_l0", [2, 3], TestModels.Values(6, 2)),
            TestModels.T("model.encoder.rnn.weight_hh_l0", [2, 2], TestModels.Values(4, 3)),
            TestModels.T("model.out.fc.weight", [7, 2], TestModels.Values(14, 4)),
            TestModels.T("model.out.fc.bias", [7], TestModels.Values(7, 5)));
        Assert.Equal((CellKind.Rnn, InputKind.Embedding, 7, 7), (spec.Layers[0].Cell, spec.InputKind, spec.InputSize, spec.OutputSize));
        Assert.NotNull(spec.Head!.b);
    }
}
