using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Formats.Onnx;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Tests.Reference;

namespace RnnEmbedded.Tests.Onnx;

/// <summary>
/// ONNX import (docs/model-format.md, "ONNX import"): every fixture of tests/fixtures/onnx imports, and the
/// reference engine on the imported model reproduces PyTorch's output (exported models) or the ONNX-spec oracle's
/// (bare nodes) within 1e-5. The generated code at every width is checked in Generators.Tests/OnnxParityTests.
/// </summary>
public class OnnxImportTests
{
    private const double Tolerance = 1e-5;

    public static TheoryData<string> Names() => new(ParityFixture.OnnxNames);

    [Theory]
    [MemberData(nameof(Names))]
    public void Reference_OnImportedModel_MatchesFixture(string name)
    {
        ParityFixture fx = ParityFixture.LoadOnnx(name);
        ModelSpec spec = ModelLoader.Load(fx.WeightsPath);
        float[][] actual = fx.InputKind == "dense" ? ReferenceEngine.Run(spec, fx.Dense) : ReferenceEngine.Run(spec, fx.Tokens);
        Assert.Equal(fx.Outputs.Length, actual.Length);
        for (int t = 0; t < actual.Length; t++)
        {
            Assert.Equal(fx.Outputs[t].Length, actual[t].Length);
            for (int i = 0; i < actual[t].Length; i++)
            {
                Assert.True(Math.Abs(fx.Outputs[t][i] - actual[t][i]) <= Tolerance,
                    $"{name} step {t} output {i}: expected {fx.Outputs[t][i]}, got {actual[t][i]}");
            }
        }
    }

    [Fact]
    public void OnnxDirectory_HoldsExactlyTheListedFixtures()
    {
        string[] found = Directory.GetFiles(ParityFixture.OnnxDirectory, "*.onnx")
            .Select(p => Path.GetFileNameWithoutExtension(p))
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(ParityFixture.OnnxNames.Order(StringComparer.Ordinal), found);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Import_WritesCanonicalNames_ThatRebuildTheSameModel(string name)
    {
        string path = ParityFixture.LoadOnnx(name).WeightsPath;
        WeightFile imported = OnnxFile.ReadFile(path);
        Assert.All(imported.Tensors, t => Assert.Matches(@"^(embedding\.weight|(head|input)(\.\d+)?\.(weight|bias)|rnn\.(weight_ih|weight_hh|bias_ih|bias_hh|peephole)_l\d+(_reverse)?)$", t.Name));
        ModelSpec spec = ModelBuilder.Build(imported);
        byte[] bytes = SafeTensorsWriter.Write(imported.Tensors, imported.Metadata);
        ModelSpec again = ModelBuilder.Build(SafeTensorsReader.Read(bytes, "converted.safetensors"));
        Assert.Null(ModelSpecComparer.FirstDifference(spec, again, compareMetadata: true));
    }

    [Fact]
    public void Import_MapsAttributesOntoTheSpec()
    {
        ModelSpec cifg = ModelLoader.Load(ParityFixture.LoadOnnx("bare_lstm_cifg_peephole").WeightsPath);
        Assert.True(cifg.Layers[0].Cifg);
        Assert.True(cifg.Layers[0].HasPeepholes);
        Assert.Equal(GruForm.ResetBefore, ModelLoader.Load(ParityFixture.LoadOnnx("bare_gru_reset_before").WeightsPath).Layers[0].GruForm);
        Assert.Equal(GruForm.ResetAfter, ModelLoader.Load(ParityFixture.LoadOnnx("gru_emb_o10").WeightsPath).Layers[0].GruForm);
        ModelSpec relu = ModelLoader.Load(ParityFixture.LoadOnnx("rnn_relu_bidir_o15").WeightsPath);
        Assert.Equal(ActivationKind.Relu, relu.Layers[0].Activation);
        Assert.True(relu.Layers[0].Bidirectional);
        ModelSpec stacked = ModelLoader.Load(ParityFixture.LoadOnnx("gru_3layer_o12").WeightsPath);
        Assert.Equal(3, stacked.Layers.Count);
        Assert.Null(stacked.Head);
        ModelSpec nobias = ModelLoader.Load(ParityFixture.LoadOnnx("lstm_nobias_o17").WeightsPath);
        Assert.False(nobias.Layers[0].HasBias);
        Assert.Equal(InputKind.Embedding, nobias.InputKind);
        Assert.Equal(InputKind.Dense, ModelLoader.Load(ParityFixture.LoadOnnx("gru_dense_o9").WeightsPath).InputKind);
    }

    [Fact]
    public void Import_MapsDenseLayersAndOutputFunctionsOntoTheLayerStacks()
    {
        ModelSpec deep = ModelLoader.Load(ParityFixture.LoadOnnx("lstm_stack_softmax_o9").WeightsPath);
        Assert.Equal(new[] { DenseActivation.Relu, DenseActivation.Sigmoid }, deep.InputLayers.Select(l => l.Activation));
        Assert.Equal(new[] { 8, 7 }, deep.InputLayers.Select(l => l.OutputSize));
        Assert.Equal(5, deep.InputSize);
        Assert.Equal(DenseActivation.Tanh, Assert.Single(deep.HeadLayers).Activation);
        Assert.Equal(DenseActivation.Identity, deep.Head!.Activation);
        Assert.Equal(OutputFunction.Softmax, deep.Output);

        // The last head layer keeps a Relu as its activation; a final Sigmoid becomes the output function.
        ModelSpec relu = ModelLoader.Load(ParityFixture.LoadOnnx("gru_deep_stack_o13").WeightsPath);
        Assert.Equal(DenseActivation.Relu, relu.Head!.Activation);
        Assert.Equal(OutputFunction.None, relu.Output);
        Assert.Null(relu.InputLayers[1].b);
        ModelSpec sigmoid = ModelLoader.Load(ParityFixture.LoadOnnx("rnn_unbatched_gemm_o11").WeightsPath);
        Assert.Empty(sigmoid.HeadLayers);
        Assert.Equal(DenseActivation.Identity, sigmoid.Head!.Activation);
        Assert.Equal(OutputFunction.Sigmoid, sigmoid.Output);
        Assert.Single(sigmoid.InputLayers);

        // Softmax straight after the recurrent layers (no head); LogSoftmax after an MLP head on an embedding model.
        ModelSpec nohead = ModelLoader.Load(ParityFixture.LoadOnnx("lstm_softmax_nohead_o15").WeightsPath);
        Assert.Null(nohead.Head);
        Assert.Equal(OutputFunction.Softmax, nohead.Output);
        ModelSpec tokens = ModelLoader.Load(ParityFixture.LoadOnnx("rnn_relu_mlp_logsoftmax_o16").WeightsPath);
        Assert.Equal(InputKind.Embedding, tokens.InputKind);
        Assert.Empty(tokens.InputLayers);
        Assert.Equal(OutputFunction.LogSoftmax, tokens.Output);
    }

    [Fact]
    public void Import_DirectionReverse_MakesReverseOnlyLayers()
    {
        // direction = reverse: one direction per node, read from the last step to the first; the canonical file
        // holds the '_reverse' tensors alone (docs/model-format.md, "Layer directions").
        WeightFile imported = OnnxFile.ReadFile(ParityFixture.LoadOnnx("reverse_lstm_2layer").WeightsPath);
        Assert.All(imported.Tensors, t => Assert.EndsWith("_reverse", t.Name));
        ModelSpec spec = ModelBuilder.Build(imported);
        Assert.Equal(2, spec.Layers.Count);
        Assert.All(spec.Layers, l => Assert.True(l.Reverse && !l.Bidirectional));
        Assert.True(spec.RunOnly);
        Assert.False(spec.Bidirectional);
        Assert.Equal(4, spec.OutputSize); // one direction: H, not 2H

        ModelSpec gru = ModelLoader.Load(ParityFixture.LoadOnnx("reverse_gru_2layer_nobias").WeightsPath);
        Assert.All(gru.Layers, l => Assert.True(l.Reverse && !l.HasBias && l.GruForm == GruForm.ResetAfter));
    }

    [Fact]
    public void Import_RejectsAStackThatMixesDirections()
    {
        string path = Path.Combine(ParityFixture.OnnxDirectory, "reject", "mixed_directions.onnx");
        RnnFormatException e = Assert.Throws<RnnFormatException>(() => OnnxFile.ReadFile(path));
        Assert.Contains("node 'lstm1' (LSTM): differs from the first recurrent layer (node 'lstm0' (LSTM)) in its direction", e.Message);
    }

    [Theory]
    [InlineData("relu_after_rnn", "node '/Relu' (Relu): an activation (Relu) on the recurrent layers' output is not supported")]
    [InlineData("dense_after_embedding", "node '/pre/MatMul' (MatMul): a dense layer between the embedding and the recurrent layers")]
    [InlineData("softmax_time_axis", "node '/Softmax' (Softmax): Softmax with axis 0 (opset 14)")]
    [InlineData("rnn_after_head", "node '/rnn2/LSTM' (LSTM): a recurrent layer after a dense head layer")]
    public void Import_RejectsLayerStacksTheSpecCannotHold(string name, string message)
    {
        string path = Path.Combine(ParityFixture.OnnxDirectory, "reject", name + ".onnx");
        RnnFormatException e = Assert.Throws<RnnFormatException>(() => OnnxFile.ReadFile(path));
        Assert.Contains(message, e.Message);
    }
}
