using System.Globalization;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Tests.Infrastructure;

/// <summary>Every recurrent cell the model format can describe.</summary>
public enum CaseCell
{
    RnnTanh,
    RnnRelu,
    RnnSigmoid,
    Lstm,
    LstmPeepholes,
    LstmCifg,
    LstmCifgPeepholes,
    GruResetAfter,
    GruResetBefore,
}

/// <summary>
/// One point of the model space: the structural choices, plus a seed that draws the sizes (odd and tiny, to hit the
/// kernels' padding and panel edges), the weights and the input sequence. <see cref="ToString"/> is C# that rebuilds
/// the case, so a failure report is a reproducer.
/// <para>
/// <see cref="Vocabulary"/> matters for generic models only (the other tasks always have one). <see cref="PerLayer"/>:
/// layer 0 follows <see cref="Bias"/>, <see cref="Projection"/> and the cell's peepholes, and every later layer draws
/// each of them at random (where its cell allows), as the format lets each layer choose.
/// </para>
/// <para>
/// Layer stacks (docs/model-format.md): <see cref="InputLayers"/> dense layers before layer 0, <see cref="HeadLayers"/>
/// hidden layers before the head (only with <see cref="Head"/>), and the <see cref="Output"/> function; their sizes,
/// activations (the head's own too) and weights come from a second generator seeded by <see cref="Seed"/>, so the
/// other dimensions draw the same models as before.
/// </para>
/// <para>
/// Direction (docs/model-format.md, "Layer directions"): forward, <see cref="Reverse"/> (every layer reverse-only)
/// or <see cref="Bidirectional"/>; <see cref="Reverse"/> is ignored when <see cref="Bidirectional"/> is set.
/// </para>
/// </summary>
public sealed record ModelCase(
    CaseCell Cell,
    InputKind Input,
    ModelTask Task,
    int Layers,
    bool Bidirectional,
    bool Projection,
    bool Bias,
    bool Head,
    bool Vocabulary,
    bool PerLayer,
    int Seed,
    int InputLayers = 0,
    int HeadLayers = 0,
    OutputFunction Output = OutputFunction.None,
    WeightType Weights = WeightType.Float32,
    bool Reverse = false,
    float Clip = 0f)
{
    /// <summary>The gate clip bounds cases draw (small, so clipping changes the outputs of random weights).</summary>
    public static readonly float[] ClipBounds = { 0.25f, 0.5f, 1.5f };

    public static readonly int[] HiddenSizes = { 1, 3, 5, 17, 33 };
    public static readonly int[] VocabularySizes = { 3, 5, 7, 13, 17, 33 };
    public static readonly int[] FeatureSizes = { 1, 2, 3, 5, 17 };
    public static readonly int[] EmbeddingSizes = { 1, 3, 5, 17 };

    /// <summary>One code point each; the first ones need escaping in JSON and in a C# string literal.</summary>
    private static readonly string[] s_characters =
        new[] { "\"", "\\", "\n", "\t", "\0", "é", "\U0001F600", "\u2028", "{", "'" }
            .Concat("abcdefghijklmnopqrstuvwxyz0123456789 .,;:!?".Select(c => c.ToString()))
            .ToArray();

    /// <summary>Every structural combination, in a fixed order; case i gets seed <paramref name="seed"/> + i.</summary>
    public static IEnumerable<ModelCase> Grid(int seed)
    {
        int i = 0;
        foreach (CaseCell cell in Enum.GetValues<CaseCell>())
        {
            foreach (InputKind input in Enum.GetValues<InputKind>())
            {
                foreach (ModelTask task in Enum.GetValues<ModelTask>())
                {
                    for (int layers = 1; layers <= 3; layers++)
                    {
                        foreach ((bool bidirectional, bool reverse) in new[] { (false, false), (true, false), (false, true) })
                        {
                            foreach (bool projection in new[] { false, true })
                            {
                                foreach (bool bias in new[] { false, true })
                                {
                                    foreach (bool head in new[] { false, true })
                                    {
                                        foreach (bool vocabulary in task == ModelTask.Generic ? new[] { false, true } : new[] { true })
                                        {
                                            foreach (bool perLayer in layers == 1 ? new[] { false } : new[] { false, true })
                                            {
                                                // The weight type cycles with the index: the covering subset pairs it with every other dimension.
                                                var weights = (WeightType)(i % 3);
                                                yield return new ModelCase(cell, input, task, layers, bidirectional, projection, bias, head, vocabulary, perLayer, unchecked(seed + i++), Weights: weights, Reverse: reverse);
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>A uniformly random structural combination with a random seed.</summary>
    public static ModelCase Draw(Random rng)
    {
        var cell = (CaseCell)rng.Next(Enum.GetValues<CaseCell>().Length);
        var input = (InputKind)rng.Next(3);
        var task = (ModelTask)rng.Next(Enum.GetValues<ModelTask>().Length);
        int layers = rng.Next(1, 4);
        bool bidirectional = rng.Next(2) == 1, projection = rng.Next(2) == 1, bias = rng.Next(2) == 1, head = rng.Next(2) == 1;
        bool vocabulary = task != ModelTask.Generic || rng.Next(2) == 1;
        bool perLayer = layers > 1 && rng.Next(2) == 1;
        int seed = rng.Next();
        // Input layers for every input kind (token input must be rejected), half the draws without any.
        int inputLayers = rng.Next(2) == 0 ? 0 : rng.Next(1, 3);
        int headLayers = head && rng.Next(2) == 1 ? rng.Next(1, 3) : 0;
        var output = rng.Next(2) == 0 ? OutputFunction.None : (OutputFunction)rng.Next(4);
        // Half the unidirectional draws run in reverse; from the case seed, so the other dimensions draw as before.
        bool reverse = !bidirectional && new Random(unchecked(seed * 31 + 7)).Next(2) == 0;
        // A third of the draws clip their gates (docs/model-format.md, "Clipping"); from the case seed, as reverse.
        var clipRng = new Random(unchecked(seed * 17 + 3));
        float clip = clipRng.Next(3) == 0 ? Pick(clipRng, ClipBounds) : 0f;
        return new(cell, input, task, layers, bidirectional, projection, bias, head, vocabulary, perLayer, seed, inputLayers, headLayers, output, (WeightType)rng.Next(3), reverse, clip);
    }

    /// <summary>Every layer reverse-only (forward otherwise, unless bidirectional).</summary>
    public bool IsReverse => Reverse && !Bidirectional;

    public bool IsLstm => Cell is CaseCell.Lstm or CaseCell.LstmPeepholes or CaseCell.LstmCifg or CaseCell.LstmCifgPeepholes;

    /// <summary>
    /// The test's own statement of docs/model-format.md's rules: null when the builder must accept this combination,
    /// else the rule it breaks. The test checks the builder agrees both ways.
    /// </summary>
    public string? ExpectedRejection()
    {
        if (Projection && !IsLstm)
        {
            return "a projection (weight_hr) exists only for LSTM cells";
        }

        if (InputLayers > 0 && Input != InputKind.Dense)
        {
            return "input layers take dense input";
        }

        if (Task != ModelTask.Generic && Output is OutputFunction.Softmax or OutputFunction.Sigmoid)
        {
            return "a token task decodes from logits: its output function is none or log-softmax";
        }

        if (Task == ModelTask.Generic)
        {
            return Vocabulary && Input == InputKind.Dense && !Head
                ? "a dense-input model's vocabulary names the head's outputs, so it needs a head"
                : null;
        }

        if (Input == InputKind.Dense)
        {
            return "a char-lm, word-lm, caption, classify or seq2seq model needs token input";
        }

        if (!Head)
        {
            return Task == ModelTask.Classify
                ? "a classifier needs a head producing one logit per label"
                : "a char-lm, word-lm, caption or seq2seq model needs a head producing one logit per token";
        }

        if (Task == ModelTask.Seq2Seq && Clip > 0f)
        {
            return "clipping is not supported with rnn.task=seq2seq";
        }

        if (Task == ModelTask.Seq2Seq && (HeadLayers > 0 || Output != OutputFunction.None))
        {
            return "layer stacks and output functions are not supported with rnn.task=seq2seq yet";
        }

        if (Task == ModelTask.Seq2Seq && Bidirectional)
        {
            return "a seq2seq encoder hands one final state per layer to the decoder, and a decoder writes token by token: neither can be bidirectional";
        }

        if (Task == ModelTask.Caption && Bidirectional)
        {
            return "a caption decoder decodes word by word, so it cannot be bidirectional";
        }

        if (Task is ModelTask.Seq2Seq or ModelTask.Caption && IsReverse)
        {
            return "a seq2seq decoder or caption decoder writes token by token, so its layers cannot run in reverse";
        }

        return null;
    }

    /// <summary>The model this case describes, with sizes and weights drawn from <see cref="Seed"/>.</summary>
    public ModelSpec BuildSpec()
    {
        var rng = new Random(Seed);
        Sizes sizes = DrawSizes(rng);

        int vocabularySize = Input == InputKind.Dense ? sizes.HeadOutputs : sizes.Vocabulary;
        Vocabulary? vocabulary = Task switch
        {
            ModelTask.CharLm => Characters(rng, vocabularySize),
            ModelTask.WordLm or ModelTask.Caption => Words(rng, vocabularySize, special: true),
            ModelTask.Classify => rng.Next(2) == 0 ? Characters(rng, vocabularySize) : Words(rng, vocabularySize, special: true),
            ModelTask.Seq2Seq => rng.Next(2) == 0 ? Characters(rng, vocabularySize, startStop: true) : Words(rng, vocabularySize, special: true),
            _ when !Vocabulary => null,
            _ => rng.Next(2) == 0 ? Characters(rng, vocabularySize) : Words(rng, vocabularySize, special: rng.Next(2) == 0),
        };

        Matrix? embedding = Input == InputKind.Embedding ? Uniform(rng, sizes.Vocabulary, sizes.Embedding, 1f) : null;
        int inputSize = Input == InputKind.Dense ? sizes.Features : sizes.Vocabulary;
        int layerInput = Input switch
        {
            InputKind.Embedding => sizes.Embedding,
            InputKind.OneHot => sizes.Vocabulary,
            _ => sizes.Features,
        };
        var stackRng = new Random(unchecked(Seed * 7_919 + 13));
        var inputLayers = new List<DenseSpec>();
        for (int i = 0; i < InputLayers; i++)
        {
            int outputs = Pick(stackRng, FeatureSizes.Concat(HiddenSizes).ToArray());
            inputLayers.Add(Dense(stackRng, outputs, layerInput, Bias, RandomActivation(stackRng)));
            layerInput = outputs;
        }

        int firstInput = layerInput;

        var layers = new List<LayerSpec>();
        var clipRng = new Random(unchecked(Seed * 613 + 5)); // per-layer clips: a generator of their own
        for (int k = 0; k < Layers; k++)
        {
            int h = sizes.Hidden[k];
            int p = sizes.Projection[k];
            bool bias = Bias, peepholes = Cell is CaseCell.LstmPeepholes or CaseCell.LstmCifgPeepholes;
            if (PerLayer && k > 0)
            {
                bias = rng.Next(2) == 0;
                peepholes = IsLstm && rng.Next(2) == 0;
                p = IsLstm && rng.Next(2) == 0 ? rng.Next(1, h + 2) : 0;
            }

            LayerSpec layer = new()
            {
                Cell = IsLstm ? CellKind.Lstm : Cell is CaseCell.GruResetAfter or CaseCell.GruResetBefore ? CellKind.Gru : CellKind.Rnn,
                InputSize = layerInput,
                HiddenSize = h,
                ProjectionSize = p,
                Activation = Cell switch
                {
                    CaseCell.RnnRelu => ActivationKind.Relu,
                    CaseCell.RnnSigmoid => ActivationKind.Sigmoid,
                    _ => ActivationKind.Tanh,
                },
                GruForm = Cell == CaseCell.GruResetBefore ? GruForm.ResetBefore : GruForm.ResetAfter,
                Cifg = Cell is CaseCell.LstmCifg or CaseCell.LstmCifgPeepholes,
                Clip = Clip <= 0f ? null : PerLayer && k > 0 && clipRng.Next(3) == 0 ? null : PerLayer && k > 0 ? Pick(clipRng, ClipBounds) : Clip,
                Forward = Direction(rng, layerInput, h, p, bias, peepholes),
                Backward = Bidirectional ? Direction(rng, layerInput, h, p, bias, peepholes) : null,
                Reverse = IsReverse,
            };
            layers.Add(layer);
            layerInput = layer.OutputSize;
        }

        // A classifier's head has one output per label (at least 2), named with characters that need escaping.
        string[]? labels = Task == ModelTask.Classify
            ? Enumerable.Range(0, Math.Max(2, sizes.HeadOutputs)).Select(i => i == 1 ? "fr \"ç\"" : "label" + i.ToString(CultureInfo.InvariantCulture)).ToArray()
            : null;
        int headOutputs = Task == ModelTask.Generic ? sizes.HeadOutputs : labels?.Length ?? vocabulary!.Count;
        ModelSpec? encoder = Task == ModelTask.Seq2Seq && Input != InputKind.Dense && !Bidirectional ? BuildEncoder(rng, layers) : null;
        var headLayers = new List<DenseSpec>();
        for (int i = 0; i < HeadLayers; i++)
        {
            int outputs = Pick(stackRng, HiddenSizes);
            headLayers.Add(Dense(stackRng, outputs, layerInput, Bias, RandomActivation(stackRng)));
            layerInput = outputs;
        }

        // The output layer's own activation: identity unless the case has a layer stack, then any.
        DenseActivation headActivation = InputLayers + HeadLayers > 0 || Output != OutputFunction.None ? RandomActivation(stackRng) : DenseActivation.Identity;
        return new ModelSpec
        {
            Encoder = encoder,
            InputKind = Input,
            InputSize = inputSize,
            Embedding = embedding,
            ImageProjection = Task == ModelTask.Caption ? Dense(rng, firstInput, sizes.ImageFeatures, Bias) : null,
            Layers = layers,
            Head = Head ? Dense(rng, headOutputs, layerInput, Bias, headActivation) : null,
            InputLayers = inputLayers,
            HeadLayers = headLayers,
            Output = Output,
            Vocabulary = vocabulary,
            Task = Task,
            Labels = labels,
        };
    }

    /// <summary>The input sequence for <paramref name="spec"/>: tokens or dense steps, and image features for captions.</summary>
    public (int[] Tokens, float[][] Dense, float[] Image) DrawInputs(ModelSpec spec)
    {
        var rng = new Random(unchecked(Seed * 31 + 7));
        int steps = rng.Next(0, 8); // 0: an empty sequence is valid input for Run
        int[] tokens = Enumerable.Range(0, steps).Select(_ => rng.Next(spec.InputSize)).ToArray();
        float[][] dense = Enumerable.Range(0, steps)
            .Select(_ => Enumerable.Range(0, spec.InputSize).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray())
            .ToArray();
        float[] image = spec.ImageProjection is null
            ? Array.Empty<float>()
            : Enumerable.Range(0, spec.ImageProjection.InputSize).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        return (tokens, dense, image);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"new ModelCase(CaseCell.{Cell}, InputKind.{Input}, ModelTask.{Task}, Layers: {Layers}, Bidirectional: {B(Bidirectional)}, Projection: {B(Projection)}, Bias: {B(Bias)}, Head: {B(Head)}, Vocabulary: {B(Vocabulary)}, PerLayer: {B(PerLayer)}, Seed: {Seed}, InputLayers: {InputLayers}, HeadLayers: {HeadLayers}, Output: OutputFunction.{Output}, Weights: WeightType.{Weights}, Reverse: {B(Reverse)}, Clip: {Clip}f)");

    /// <summary>The sizes <see cref="Seed"/> draws, for failure reports.</summary>
    public string DescribeSizes()
    {
        Sizes s = DrawSizes(new Random(Seed));
        return string.Create(CultureInfo.InvariantCulture,
            $"V={s.Vocabulary} E={s.Embedding} F={s.Features} H=[{string.Join(",", s.Hidden)}] P=[{string.Join(",", s.Projection)}] O={s.HeadOutputs} image F={s.ImageFeatures}");
    }

    private static string B(bool b) => b ? "true" : "false";

    private sealed record Sizes(int Vocabulary, int Embedding, int Features, int ImageFeatures, int HeadOutputs, int[] Hidden, int[] Projection);

    private Sizes DrawSizes(Random rng)
    {
        int vocabulary = Pick(rng, VocabularySizes);
        int embedding = Pick(rng, EmbeddingSizes);
        int features = Pick(rng, FeatureSizes);
        int imageFeatures = Pick(rng, FeatureSizes);
        int headOutputs = Pick(rng, FeatureSizes);
        var hidden = new int[Layers];
        var projection = new int[Layers];
        for (int k = 0; k < Layers; k++)
        {
            hidden[k] = Pick(rng, HiddenSizes);
            if (Projection)
            {
                // PyTorch requires P < H; the format does not, so P = H and P > H are drawn too, rarely.
                hidden[k] = Math.Max(hidden[k], 3);
                projection[k] = rng.Next(8) == 0 ? hidden[k] + rng.Next(0, 3) : rng.Next(1, hidden[k]);
            }
        }

        return new Sizes(vocabulary, embedding, features, imageFeatures, headOutputs, hidden, projection);
    }

    private static int Pick(Random rng, int[] values) => values[rng.Next(values.Length)];

    private static float Pick(Random rng, float[] values) => values[rng.Next(values.Length)];

    private static Vocabulary Characters(Random rng, int count, bool startStop = false) =>
        new(ModelVocabularyKind.Characters, (startStop ? new[] { "\u0002", "\u0003" } : Array.Empty<string>())
            .Concat(s_characters.OrderBy(_ => rng.Next())).Take(count).OrderBy(_ => rng.Next()).ToArray());

    /// <summary>
    /// A seq2seq case's encoder: the decoder's cell and layer count, its own source vocabulary (characters or words)
    /// and input route, h of each layer the size of the decoder's; an LSTM layer without projection sometimes gets a
    /// larger H with a projection to the same h, so its c is not carried over (docs/model-format.md).
    /// </summary>
    private ModelSpec BuildEncoder(Random rng, List<LayerSpec> decoder)
    {
        int vocabularySize = Pick(rng, VocabularySizes);
        Vocabulary vocabulary = rng.Next(2) == 0 ? Characters(rng, vocabularySize) : Words(rng, vocabularySize, special: rng.Next(2) == 0);
        bool embed = rng.Next(2) == 0;
        int embeddingSize = Pick(rng, EmbeddingSizes);
        int layerInput = embed ? embeddingSize : vocabularySize;
        var layers = new List<LayerSpec>();
        foreach (LayerSpec d in decoder)
        {
            int h = d.HiddenSize, p = d.ProjectionSize;
            if (IsLstm && p == 0 && rng.Next(3) == 0)
            {
                p = h;
                h += 1 + rng.Next(3);
            }

            bool peepholes = d.HasPeepholes;
            layers.Add(new LayerSpec
            {
                Cell = d.Cell,
                InputSize = layerInput,
                HiddenSize = h,
                ProjectionSize = p,
                Activation = d.Activation,
                GruForm = d.GruForm,
                Cifg = d.Cifg,
                Forward = Direction(rng, layerInput, h, p, d.HasBias, peepholes),
            });
            layerInput = layers[^1].OutputSize;
        }

        return new ModelSpec
        {
            InputKind = embed ? InputKind.Embedding : InputKind.OneHot,
            InputSize = vocabularySize,
            Embedding = embed ? Uniform(rng, vocabularySize, embeddingSize, 1f) : null,
            Layers = layers,
            Vocabulary = vocabulary,
        };
    }

    /// <summary>Seq2seq cases: the source sequence (possibly empty), ids of the encoder's vocabulary.</summary>
    public int[] DrawSource(ModelSpec spec)
    {
        var rng = new Random(unchecked(Seed * 17 + 3));
        return Enumerable.Range(0, rng.Next(0, 7)).Select(_ => rng.Next(spec.Encoder!.InputSize)).ToArray();
    }

    /// <summary>Words in random order (special tokens at random ids), some needing escapes.</summary>
    private static Vocabulary Words(Random rng, int count, bool special)
    {
        var tokens = new List<string>(special ? new[] { "<start>", "<stop>", "<unk>" } : Array.Empty<string>());
        string[] odd = { "don't", "say \"hi\"", "a\\b", "naïve", "😀!", "tab\there" };
        for (int i = 0; tokens.Count < count; i++)
        {
            tokens.Add(i < odd.Length && rng.Next(2) == 0 ? odd[i] : "w" + i.ToString(CultureInfo.InvariantCulture));
        }

        // <start> and <stop> must survive the cut to count tokens; shuffle after it.
        return new Vocabulary(ModelVocabularyKind.Words, tokens.Take(count).OrderBy(_ => rng.Next()).ToArray());
    }

    private DirectionWeights Direction(Random rng, int input, int h, int p, bool bias, bool hasPeepholes)
    {
        int gates = Cell switch
        {
            CaseCell.Lstm or CaseCell.LstmPeepholes => 4,
            CaseCell.LstmCifg or CaseCell.LstmCifgPeepholes or CaseCell.GruResetAfter or CaseCell.GruResetBefore => 3,
            _ => 1,
        };
        int state = p > 0 ? p : h;
        float k = 1f / MathF.Sqrt(h); // PyTorch's default init scale: keeps 3-layer ReLU stacks bounded
        Matrix? peepholes = null;
        if (hasPeepholes)
        {
            peepholes = Uniform(rng, 3, h, k);
            if (Cell is CaseCell.LstmCifg or CaseCell.LstmCifgPeepholes)
            {
                Array.Clear(peepholes.Data, h, h); // a CIFG LSTM has no forget gate: row p_f is zero
            }
        }

        return new DirectionWeights
        {
            W_ih = Uniform(rng, gates * h, input, k),
            W_hh = Uniform(rng, gates * h, state, k),
            b_ih = bias ? Vector(rng, gates * h, k) : null,
            b_hh = bias ? Vector(rng, gates * h, k) : null,
            W_hr = p > 0 ? Uniform(rng, p, h, k) : null,
            Peepholes = peepholes,
        };
    }

    private static DenseSpec Dense(Random rng, int outputs, int inputs, bool bias, DenseActivation activation = DenseActivation.Identity)
    {
        float k = 1f / MathF.Sqrt(inputs);
        return new DenseSpec { W = Uniform(rng, outputs, inputs, k), b = bias ? Vector(rng, outputs, k) : null, Activation = activation };
    }

    private static DenseActivation RandomActivation(Random rng) => (DenseActivation)rng.Next(4);

    private static Matrix Uniform(Random rng, int rows, int cols, float scale) => new(rows, cols, Vector(rng, rows * cols, scale));

    private static float[] Vector(Random rng, int n, float scale)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        }

        return v;
    }
}
