using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Tests;

/// <summary>
/// One tiny model per cell variant and input route, with exactly representable weights
/// (value = (index % 7 − 3) / 8), for the snapshots and the plan tests.
/// </summary>
internal static class SnapshotModels
{
    public static readonly IReadOnlyDictionary<string, Func<ModelSpec>> All = new Dictionary<string, Func<ModelSpec>>
    {
        ["Lstm"] = () => Token(Lstm()),
        ["LstmProjection"] = () => Token(Lstm(projection: 1)),
        ["LstmPeephole"] = () => Token(Lstm(peepholes: true)),
        ["LstmCifg"] = () => Token(Lstm(cifg: true)),
        ["GruResetAfter"] = () => Token(Gru(GruForm.ResetAfter)),
        ["GruResetBefore"] = () => Token(Gru(GruForm.ResetBefore)),
        ["GruResetBeforeClip"] = () => Token(Gru(GruForm.ResetBefore, clip: 0.5f)),
        ["Rnn"] = () => Token(Rnn(ActivationKind.Relu)),
        ["Bidirectional"] = () => Token(Lstm(bidirectional: true), head: false),
        ["DenseInput"] = () => Dense(Gru(GruForm.ResetAfter, input: 3), head: false),
        ["OneHotInput"] = () => OneHot(Rnn(ActivationKind.Tanh, input: 3)),
        ["Caption"] = () => Caption(Lstm(input: 2), oneHot: false),
        ["CaptionOneHot"] = () => Caption(Gru(GruForm.ResetAfter, input: 5), oneHot: true),
        ["LstmProjectionInt8"] = () => Token(Lstm(projection: 1)),
        ["GruResetBeforeBFloat16"] = () => Dense(Gru(GruForm.ResetBefore, input: 3), head: true),
        ["Seq2Seq"] = () => Seq2Seq(),
        ["LayerStacks"] = () => Stacks(Lstm(input: 2), OutputFunction.Softmax),
        ["LayerStacksBidirectional"] = () => Stacks(Gru(GruForm.ResetAfter, input: 2), OutputFunction.LogSoftmax, bidirectional: true),
    };

    public static string FileName(string name) => name.ToLowerInvariant() + ".safetensors";

    /// <summary>The weight type a snapshot is emitted with: its name's suffix, else float32.</summary>
    public static WeightType WeightTypeOf(string name) =>
        name.EndsWith("Int8", StringComparison.Ordinal) ? WeightType.Int8
        : name.EndsWith("BFloat16", StringComparison.Ordinal) ? WeightType.BFloat16
        : WeightType.Float32;

    private sealed class Weights
    {
        private int _n;

        public Matrix M(int r, int c) => new(r, c, V(r * c));

        public float[] V(int k) => Enumerable.Range(0, k).Select(_ => ((_n++ % 7) - 3) / 8f).ToArray();
    }

    private static Func<Weights, LayerSpec> Lstm(int input = 2, int projection = 0, bool peepholes = false, bool cifg = false, bool bidirectional = false) => w =>
    {
        const int H = 2;
        int g = cifg ? 3 : 4;
        int s = projection > 0 ? projection : H;
        DirectionWeights D() => new()
        {
            W_ih = w.M(g * H, input),
            W_hh = w.M(g * H, s),
            b_ih = w.V(g * H),
            b_hh = w.V(g * H),
            W_hr = projection > 0 ? w.M(projection, H) : null,
            Peepholes = peepholes ? w.M(3, H) : null,
        };
        return new LayerSpec
        {
            Cell = CellKind.Lstm, InputSize = input, HiddenSize = H, ProjectionSize = projection, Cifg = cifg,
            Forward = D(), Backward = bidirectional ? D() : null,
        };
    };

    private static Func<Weights, LayerSpec> Gru(GruForm form, int input = 2, float? clip = null) => w => new LayerSpec
    {
        Cell = CellKind.Gru, InputSize = input, HiddenSize = 2, GruForm = form, Clip = clip,
        Forward = new DirectionWeights { W_ih = w.M(6, input), W_hh = w.M(6, 2), b_ih = w.V(6), b_hh = w.V(6) },
    };

    private static Func<Weights, LayerSpec> Rnn(ActivationKind activation, int input = 2) => w => new LayerSpec
    {
        Cell = CellKind.Rnn, InputSize = input, HiddenSize = 2, Activation = activation,
        Forward = new DirectionWeights { W_ih = w.M(2, input), W_hh = w.M(2, 2), b_ih = w.V(2), b_hh = w.V(2) },
    };

    private static ModelSpec Token(Func<Weights, LayerSpec> layer, bool head = true)
    {
        var w = new Weights();
        LayerSpec l = layer(w);
        return new ModelSpec
        {
            InputKind = InputKind.Embedding,
            InputSize = 3,
            Embedding = w.M(3, 2),
            Layers = [l],
            Head = head ? new DenseSpec { W = w.M(3, l.OutputSize), b = w.V(3) } : null,
            Vocabulary = head ? new Vocabulary(ModelVocabularyKind.Characters, ["a", "b", "\""]) : null,
            Task = head ? ModelTask.CharLm : ModelTask.Generic,
        };
    }

    private static ModelSpec Dense(Func<Weights, LayerSpec> layer, bool head)
    {
        var w = new Weights();
        LayerSpec l = layer(w);
        return new ModelSpec
        {
            InputKind = InputKind.Dense,
            InputSize = 3,
            Layers = [l],
            Head = head ? new DenseSpec { W = w.M(3, l.OutputSize), b = w.V(3) } : null,
        };
    }

    private static ModelSpec OneHot(Func<Weights, LayerSpec> layer)
    {
        var w = new Weights();
        LayerSpec l = layer(w);
        return new ModelSpec
        {
            InputKind = InputKind.OneHot,
            InputSize = 3,
            Layers = [l],
            Head = new DenseSpec { W = w.M(3, l.OutputSize), b = w.V(3) },
            Vocabulary = new Vocabulary(ModelVocabularyKind.Characters, ["a", "b", "c"]),
            Task = ModelTask.CharLm,
        };
    }

    /// <summary>A caption decoder over 5 words; with <paramref name="oneHot"/> its layer 0 takes one-hot words.</summary>
    private static ModelSpec Caption(Func<Weights, LayerSpec> layer, bool oneHot)
    {
        var w = new Weights();
        LayerSpec l = layer(w);
        return new ModelSpec
        {
            InputKind = oneHot ? InputKind.OneHot : InputKind.Embedding,
            InputSize = 5,
            Embedding = oneHot ? null : w.M(5, l.InputSize),
            ImageProjection = new DenseSpec { W = w.M(l.InputSize, 4), b = w.V(l.InputSize) },
            Layers = [l],
            Head = new DenseSpec { W = w.M(5, l.OutputSize), b = w.V(5) },
            Vocabulary = new Vocabulary(ModelVocabularyKind.Words, ["<start>", "<stop>", "<unk>", "a", "cat"]),
            Task = ModelTask.Caption,
        };
    }

    /// <summary>A seq2seq model: a one-hot LSTM encoder over 3 characters hands (h, c) to an LSTM decoder over 3 characters.</summary>
    private static ModelSpec Seq2Seq()
    {
        var w = new Weights();
        LayerSpec encoderLayer = Lstm(input: 3)(w);
        LayerSpec decoderLayer = Lstm(input: 2)(w);
        var encoder = new ModelSpec
        {
            InputKind = InputKind.OneHot,
            InputSize = 3,
            Layers = [encoderLayer],
            Vocabulary = new Vocabulary(ModelVocabularyKind.Characters, ["x", "y", "z"]),
        };
        return new ModelSpec
        {
            InputKind = InputKind.Embedding,
            InputSize = 3,
            Embedding = w.M(3, 2),
            Layers = [decoderLayer],
            Head = new DenseSpec { W = w.M(3, decoderLayer.OutputSize), b = w.V(3) },
            Vocabulary = new Vocabulary(ModelVocabularyKind.Characters, ["\u0002", "\u0003", "1"]),
            Task = ModelTask.Seq2Seq,
            Encoder = encoder,
        };
    }

    /// <summary>
    /// dense(3) → Dense(4, relu) → Dense(2, tanh) → layer → Dense(3, relu) → Dense(2, sigmoid) → output function;
    /// <paramref name="bidirectional"/> makes the layer bidirectional (so Run recomputes the input layers per step).
    /// </summary>
    private static ModelSpec Stacks(Func<Weights, LayerSpec> layer, OutputFunction output, bool bidirectional = false)
    {
        var w = new Weights();
        LayerSpec l = layer(w);
        if (bidirectional)
        {
            l = new LayerSpec
            {
                Cell = l.Cell,
                InputSize = l.InputSize,
                HiddenSize = l.HiddenSize,
                Forward = l.Forward,
                Backward = layer(w).Forward,
            };
        }

        return new ModelSpec
        {
            InputKind = InputKind.Dense,
            InputSize = 3,
            InputLayers =
            [
                new DenseSpec { W = w.M(4, 3), b = w.V(4), Activation = DenseActivation.Relu },
                new DenseSpec { W = w.M(2, 4), Activation = DenseActivation.Tanh },
            ],
            Layers = [l],
            HeadLayers = [new DenseSpec { W = w.M(3, l.OutputSize), b = w.V(3), Activation = DenseActivation.Relu }],
            Head = new DenseSpec { W = w.M(2, 3), b = w.V(2), Activation = DenseActivation.Sigmoid },
            Output = output,
        };
    }
}
