using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;

namespace RnnEmbedded.Tests.Reference;

/// <summary>The reference engine's API contract: argument checks, state handling and the stable math helpers.</summary>
public sealed class ReferenceEngineTests
{
    private static ModelSpec Fixture(string name) => ModelLoader.Load(ParityFixture.Load(name).WeightsPath);

    [Fact]
    public void Step_RejectsTokenOutsideVocabulary_NamingTheArgument()
    {
        ModelSpec spec = Fixture("lstm_1layer"); // V = 11
        var engine = new ReferenceEngine(spec);
        var output = new float[spec.OutputSize];
        Assert.Equal("token", Assert.Throws<ArgumentOutOfRangeException>(() => engine.Step(11, output)).ParamName);
        Assert.Equal("token", Assert.Throws<ArgumentOutOfRangeException>(() => engine.Step(-1, output)).ParamName);
        Assert.Equal("tokens", Assert.Throws<ArgumentOutOfRangeException>(() => ReferenceEngine.Run(spec, [1, 2, 11])).ParamName);
    }

    [Fact]
    public void Step_RejectsOutputOfWrongLength_NamingTheArgument()
    {
        ModelSpec spec = Fixture("lstm_1layer");
        var engine = new ReferenceEngine(spec);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => engine.Step(0, new float[spec.OutputSize - 1])).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentNullException>(() => engine.Step(0, null!)).ParamName);
    }

    [Fact]
    public void Step_RejectsDenseInputOfWrongLength_NamingTheArgument()
    {
        ModelSpec spec = Fixture("gru_dense"); // 5 features
        var engine = new ReferenceEngine(spec);
        var output = new float[spec.OutputSize];
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => engine.Step(new float[4], output)).ParamName);
        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => ReferenceEngine.Run(spec, [new float[5], new float[6]])).ParamName);
    }

    [Fact]
    public void Step_WrongInputPathForTheModel_Throws()
    {
        ModelSpec dense = Fixture("gru_dense");
        ModelSpec tokens = Fixture("lstm_1layer");
        Assert.Throws<InvalidOperationException>(() => new ReferenceEngine(dense).Step(0, new float[dense.OutputSize]));
        Assert.Throws<InvalidOperationException>(() => new ReferenceEngine(tokens).Step(new float[8], new float[tokens.OutputSize]));
        Assert.Throws<InvalidOperationException>(() => new ReferenceEngine(tokens).StepImage(new float[3], new float[tokens.OutputSize]));
        Assert.Equal("spec", Assert.Throws<ArgumentException>(() => ReferenceEngine.Run(dense, [0])).ParamName);
        Assert.Equal("spec", Assert.Throws<ArgumentException>(() => ReferenceEngine.Run(tokens, [new float[8]])).ParamName);
    }

    [Fact]
    public void StepImage_RejectsFeatureVectorOfWrongLength()
    {
        ModelSpec spec = Fixture("caption_lstm"); // F = 12
        var engine = new ReferenceEngine(spec);
        Assert.Equal("features", Assert.Throws<ArgumentException>(() => engine.StepImage(new float[11], new float[spec.OutputSize])).ParamName);
        Assert.Equal("features", Assert.Throws<ArgumentException>(() => ReferenceEngine.RunCaption(spec, new float[13], [0])).ParamName);
    }

    [Fact]
    public void StateOperations_RefuseBidirectionalModels()
    {
        var engine = new ReferenceEngine(Fixture("lstm_bidir_2layer"));
        Assert.Throws<InvalidOperationException>(() => engine.GetState());
        Assert.Throws<InvalidOperationException>(() => engine.Step(0, new float[8]));
    }

    [Fact]
    public void SetState_RestoresASnapshot_SoTheContinuationRepeatsExactly()
    {
        ModelSpec spec = Fixture("lstm_proj"); // 2 LSTM layers with projection: state = h (5) + c (11) per layer
        var engine = new ReferenceEngine(spec);
        Assert.Equal(2 * (5 + 11), engine.StateLength);
        var output = new float[spec.OutputSize];
        engine.Step(3, output);
        engine.Step(7, output);
        float[] snapshot = engine.GetState();

        engine.Step(1, output);
        float[] first = (float[])output.Clone();
        engine.Step(2, output);

        engine.SetState(snapshot);
        engine.Step(1, output);
        Assert.Equal(first, output);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => engine.SetState(new float[5])).ParamName);
    }

    [Fact]
    public void CopyLayerState_IsGetStateLayerByLayer()
    {
        ModelSpec spec = Fixture("lstm_proj"); // 2 LSTM layers with projection: h (5), c (11) per layer
        var engine = new ReferenceEngine(spec);
        var output = new float[spec.OutputSize];
        engine.Step(3, output);
        engine.Step(7, output);

        var pieces = new List<float>();
        for (int k = 0; k < spec.Layers.Count; k++)
        {
            var h = new float[5];
            var c = new float[11];
            engine.CopyLayerState(k, h, c);
            pieces.AddRange(h);
            pieces.AddRange(c);
        }

        Assert.Contains(pieces, v => v != 0f);
        Assert.Equal(engine.GetState(), pieces.ToArray());
        Assert.Equal("h", Assert.Throws<ArgumentException>(() => engine.CopyLayerState(0, new float[11], new float[11])).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => engine.CopyLayerState(0, new float[5], new float[0])).ParamName);
        Assert.Equal("layer", Assert.Throws<ArgumentOutOfRangeException>(() => engine.CopyLayerState(2, new float[5], new float[11])).ParamName);
    }

    [Fact]
    public void CopyLayerState_GruHasNoCellState()
    {
        ModelSpec spec = Fixture("gru_2layer_odd");
        var engine = new ReferenceEngine(spec);
        engine.Step(4, new float[spec.OutputSize]);
        var h = new float[spec.Layers[1].StateSize];
        engine.CopyLayerState(1, h, []);
        float[] state = engine.GetState();
        Assert.Equal(state[^h.Length..], h);
        Assert.Throws<InvalidOperationException>(() => new ReferenceEngine(Fixture("lstm_bidir_2layer")).CopyLayerState(0, new float[8], new float[8]));
    }

    [Fact]
    public void Reset_ReturnsToTheZeroState()
    {
        ModelSpec spec = Fixture("gru_2layer_odd");
        var engine = new ReferenceEngine(spec);
        var output = new float[spec.OutputSize];
        engine.Step(4, output);
        float[] fresh = (float[])output.Clone();
        engine.Step(5, output);
        Assert.Contains(engine.GetState(), v => v != 0f);

        engine.Reset();
        Assert.All(engine.GetState(), v => Assert.Equal(0f, v));
        engine.Step(4, output);
        Assert.Equal(fresh, output);
    }

    [Fact]
    public void Run_EqualsStepwise_ForUnidirectionalModels()
    {
        ModelSpec spec = Fixture("rnn_tanh_3layer");
        int[] tokens = [1, 9, 0, 3, 3, 7];
        float[][] whole = ReferenceEngine.Run(spec, tokens);
        var engine = new ReferenceEngine(spec);
        var output = new float[spec.OutputSize];
        for (int t = 0; t < tokens.Length; t++)
        {
            engine.Step(tokens[t], output);
            Assert.Equal(whole[t], output);
        }
    }

    [Fact]
    public void Run_EmptySequence_GivesNoOutputs()
    {
        Assert.Empty(ReferenceEngine.Run(Fixture("gru_bidir_nohead"), Array.Empty<int>()));
    }

    [Theory]
    [InlineData(0f, 0.5)]
    [InlineData(100f, 1.0)]
    [InlineData(-100f, 3.7200759760208356e-44)]
    [InlineData(1000f, 1.0)]
    [InlineData(-1000f, 0.0)]
    [InlineData(float.MaxValue, 1.0)]
    [InlineData(float.MinValue, 0.0)]
    public void Sigmoid_IsFiniteAndCorrectAtExtremes(float x, double expected)
    {
        float y = ReferenceEngine.Sigmoid(x);
        Assert.False(float.IsNaN(y) || float.IsInfinity(y));
        Assert.Equal(expected, y, 1e-7);
    }

    [Fact]
    public void Sigmoid_IsSymmetric()
    {
        foreach (float x in new[] { 0.1f, 1f, 3.5f, 12f, 30f })
        {
            Assert.Equal(1.0, (double)ReferenceEngine.Sigmoid(x) + ReferenceEngine.Sigmoid(-x), 1e-6);
        }
    }

    [Fact]
    public void Softmax_SubtractsTheMax_SoHugeLogitsDoNotOverflow()
    {
        float[] logits = [1000f, 1000f, 999f];
        var probs = new float[3];
        ReferenceEngine.Softmax(logits, probs);
        // e^0 : e^0 : e^−1 = 1 : 1 : 1/e → e/(2e + 1), e/(2e + 1), 1/(2e + 1)
        Assert.Equal(Math.E / (2 * Math.E + 1), probs[0], 1e-6);
        Assert.Equal(Math.E / (2 * Math.E + 1), probs[1], 1e-6);
        Assert.Equal(1 / (2 * Math.E + 1), probs[2], 1e-6);
    }

    [Fact]
    public void LogSoftmax_IsStableAndMatchesLogOfSoftmax()
    {
        float[] logits = [500f, 0f, -500f];
        var log = new float[3];
        ReferenceEngine.LogSoftmax(logits, log);
        // log Σ e^(x − 500) = log(1 + e^−500 + e^−1000) ≈ 0 → (0, −500, −1000)
        Assert.Equal(0.0, log[0], 1e-6);
        Assert.Equal(-500.0, log[1], 1e-3);
        Assert.Equal(-1000.0, log[2], 1e-3);

        float[] small = [0.5f, -1.25f, 2f, 0f];
        var p = new float[4];
        var lp = new float[4];
        ReferenceEngine.Softmax(small, p);
        ReferenceEngine.LogSoftmax(small, lp);
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(Math.Log(p[k]), lp[k], 1e-6);
        }

        Assert.Equal("logits", Assert.Throws<ArgumentException>(() => ReferenceEngine.Softmax([], [])).ParamName);
        Assert.Equal("result", Assert.Throws<ArgumentException>(() => ReferenceEngine.Softmax([1f], new float[2])).ParamName);
    }
}
