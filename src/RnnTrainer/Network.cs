using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Runtime;

using ModelTask = RnnEmbedded.Compiler.Model.ModelTask;

namespace RnnEmbedded.Trainer;

/// <summary>The recurrent cell the trainer builds.</summary>
public enum TrainCell
{
    Lstm,
    Gru,
    RnnTanh,
    RnnRelu,
}

/// <summary>
/// Sizes of a trainable network: embedding (V, E) [+ image projection (E, F)] → L layers of H → head (O, H), where the
/// head's outputs O are the vocabulary V for language models and the label count C for classifiers (<see cref="Outputs"/>).
/// With <see cref="DenseInputs"/> F &gt; 0 (the regress task) there is no embedding: each row's F input values feed
/// layer 0 directly, and the linear head's O = <see cref="Outputs"/> outputs are trained on mean squared error.
/// A seq2seq network is the decoder's shape with <see cref="Encoder"/> set: the encoder's own shape (source vocabulary
/// and embedding, the same cell, H and L, <see cref="Head"/> false); docs/training.md, "Sequence to sequence".
/// </summary>
public sealed partial record NetworkShape(
    int Vocab, int Embedding, int Hidden, int Layers, TrainCell Cell, int ImageFeatures = 0, bool Peepholes = false, bool Cifg = false,
    bool GruResetBefore = false, int Outputs = 0, NetworkShape? Encoder = null, bool Head = true, int DenseInputs = 0,
    IReadOnlyList<DenseLayerShape>? InputLayers = null, IReadOnlyList<DenseLayerShape>? HeadLayers = null)
{
    /// <summary>True for dense input with a mean-squared-error head (the regress task).</summary>
    public bool IsRegression => DenseInputs > 0;

    /// <summary>The tensor-name prefix of this network's own parameters: "decoder." when it has an encoder, else "".</summary>
    public string NamePrefix => Encoder is not null ? ModelBuilder.DecoderPrefix : "";

    /// <summary>O, the head's outputs: <see cref="Outputs"/> when set (classifiers), else V.</summary>
    public int OutputCount => Outputs > 0 ? Outputs : Vocab;

    /// <summary>Gate blocks G: LSTM 4 (i, f, g, o) or CIFG 3 (i, g, o), GRU 3 (r, z, n), RNN 1.</summary>
    public int Gates => Cell switch
    {
        TrainCell.Lstm => Cifg ? 3 : 4,
        TrainCell.Gru => 3,
        _ => 1,
    };

    public int LayerInput(int k) => k > 0 ? Hidden : InputLayers is [.., var last] ? last.Outputs : IsRegression ? DenseInputs : Embedding;

    /// <summary>The head output layer's input size: the last head layer's outputs, else H.</summary>
    public int HeadInput => HeadLayers is [.., var last] ? last.Outputs : Hidden;

    public void Validate()
    {
        Check(IsRegression || Vocab >= 2, "the vocabulary needs at least 2 tokens");
        Check(IsRegression || Embedding >= 1, "--embedding must be at least 1");
        Check(Hidden >= 1, "--hidden must be at least 1");
        Check(Layers >= 1, "--layers must be at least 1");
        Check(ImageFeatures >= 0, "the image feature count cannot be negative");
        Check(DenseInputs >= 0, "the dense input count cannot be negative");
        Check(!IsRegression || (Outputs >= 1 && ImageFeatures == 0), "a regression network needs at least 1 output and no image projection");
        Check(IsRegression || Outputs == 0 || Outputs >= 2, "a classifier needs at least 2 labels");
        Check(!IsRegression || (Encoder is null && Head), "a regression network has a head and no seq2seq encoder");
        Check(Cell == TrainCell.Lstm || (!Peepholes && !Cifg), "--peepholes and --cifg are LSTM variants (use --cell lstm)");
        Check(Cell == TrainCell.Gru || !GruResetBefore, "--gru-form reset-before needs --cell gru");
        Check(Head || (Encoder is null && ImageFeatures == 0), "only a seq2seq encoder has no head");
        ValidateLayerStacks(); // Layers/Network.Layers.cs
        if (Encoder is not null)
        {
            Encoder.Validate();
            Check(Head && Encoder.Encoder is null && !Encoder.Head, "a seq2seq network is a decoder with a head and an encoder without one");
            Check(Encoder.Hidden == Hidden && Encoder.Layers == Layers && Encoder.Cell == Cell && Encoder.Peepholes == Peepholes
                && Encoder.Cifg == Cifg && Encoder.GruResetBefore == GruResetBefore, "a seq2seq encoder has the decoder's cell, H and layer count");
        }
    }

    private static void Check(bool ok, string rule)
    {
        if (!ok)
        {
            throw new ArgumentException(rule);
        }
    }
}

/// <summary>A parameter tensor (row-major, PyTorch layout) with its gradient and, for matrices used on the right of a forward product, a transposed copy.</summary>
public sealed class Parameter
{
    public Parameter(string name, int rows, int cols, bool transposed)
    {
        Name = name;
        Rows = rows;
        Cols = cols;
        Value = new float[rows * cols];
        Grad = new float[rows * cols];
        Transposed = transposed ? new float[rows * cols] : null;
    }

    /// <summary>Canonical tensor name, as <see cref="ModelWriter"/> writes it.</summary>
    public string Name { get; }

    public int Rows { get; }

    /// <summary>1 for vectors.</summary>
    public int Cols { get; }

    public float[] Value { get; }

    public float[] Grad { get; }

    /// <summary>(Cols, Rows) copy of Value, refreshed by <see cref="RefreshTransposed"/>.</summary>
    public float[]? Transposed { get; }

    public void RefreshTransposed()
    {
        if (Transposed is not null)
        {
            Gemm.Transpose(Value, Rows, Cols, Transposed);
        }
    }
}

/// <summary>
/// The trainable network and its exact forward and backward passes (hand-written BPTT, see docs/training.md).
/// Parameter names and layouts are the canonical ones of <see cref="ModelWriter"/>: W_ih (G·H, In), W_hh (G·H, H),
/// b_ih, b_hh (G·H), head W (V, H), b (V), embedding (V, E), image projection (E, F) + (E).
/// </summary>
public sealed partial class Network
{
    private readonly List<Parameter> _all = new();
    private readonly Parameter? _headW, _headB;

    public Network(NetworkShape shape)
        : this(shape, shape.NamePrefix)
    {
    }

    private Network(NetworkShape shape, string prefix)
    {
        shape.Validate();
        Shape = shape;
        int h = shape.Hidden;
        int gh = shape.Gates * h;
        if (shape.Encoder is not null)
        {
            // Encoder parameters first: the weight file's order (encoder.*, then decoder.*).
            Encoder = new Network(shape.Encoder, ModelBuilder.EncoderPrefix);
            _all.AddRange(Encoder.Parameters);
        }

        Embedding = shape.IsRegression ? null
            : Add(new Parameter(prefix + ModelWriter.EmbeddingModule + ".weight", shape.Vocab, shape.Embedding, false));
        if (shape.ImageFeatures > 0)
        {
            ImageW = Add(new Parameter(ModelWriter.ImageProjectionModule + ".weight", shape.Embedding, shape.ImageFeatures, false));
            ImageB = Add(new Parameter(ModelWriter.ImageProjectionModule + ".bias", shape.Embedding, 1, false));
        }

        (InputW, InputB) = AddDenseLayers(prefix + ModelWriter.InputLayersModule, shape.DenseInputs, shape.InputLayers ?? []);

        W_ih = new Parameter[shape.Layers];
        W_hh = new Parameter[shape.Layers];
        b_ih = new Parameter[shape.Layers];
        b_hh = new Parameter[shape.Layers];
        Peephole = new Parameter?[shape.Layers];
        for (int k = 0; k < shape.Layers; k++)
        {
            string p = prefix + ModelWriter.RecurrentModule + ".";
            W_ih[k] = Add(new Parameter(p + "weight_ih_l" + k, gh, shape.LayerInput(k), true));
            W_hh[k] = Add(new Parameter(p + "weight_hh_l" + k, gh, h, true));
            b_ih[k] = Add(new Parameter(p + "bias_ih_l" + k, gh, 1, false));
            b_hh[k] = Add(new Parameter(p + "bias_hh_l" + k, gh, 1, false));
            if (shape.Peepholes)
            {
                // (3, H): rows p_i, p_f, p_o (docs/model-format.md, "Math": i, f see the old cell, o the new one); CIFG leaves p_f at zero.
                Peephole[k] = Add(new Parameter(p + "peephole_l" + k, 3, h, false));
            }
        }

        (HeadLayerW, HeadLayerB) = AddDenseLayers(prefix + ModelWriter.HeadModule, h, shape.HeadLayers ?? []);
        if (shape.Head)
        {
            // With head layers the output layer is the head MLP's last module: head.{2n} (ModelWriter's names).
            string head = prefix + ModelWriter.HeadModule + (HeadLayerW.Length > 0 ? "." + 2 * HeadLayerW.Length : "");
            _headW = Add(new Parameter(head + ".weight", shape.OutputCount, shape.HeadInput, true));
            _headB = Add(new Parameter(head + ".bias", shape.OutputCount, 1, false));
        }
    }

    public NetworkShape Shape { get; }

    /// <summary>A seq2seq network's encoder (its parameters are also the first of <see cref="Parameters"/>), else null.</summary>
    public Network? Encoder { get; }

    /// <summary>False for a seq2seq encoder, whose final state is its output.</summary>
    public bool HasHead => _headW is not null;

    /// <summary>(V, E); null for dense input (<see cref="NetworkShape.IsRegression"/>).</summary>
    public Parameter? Embedding { get; }

    public Parameter? ImageW { get; }

    public Parameter? ImageB { get; }

    public Parameter[] W_ih { get; }

    public Parameter[] W_hh { get; }

    public Parameter[] b_ih { get; }

    public Parameter[] b_hh { get; }

    /// <summary>Per layer (3, H) LSTM peepholes, or null.</summary>
    public Parameter?[] Peephole { get; }

    public Parameter HeadW => _headW ?? throw new InvalidOperationException("A seq2seq encoder has no head.");

    public Parameter HeadB => _headB ?? throw new InvalidOperationException("A seq2seq encoder has no head.");

    /// <summary>Every parameter in a fixed order (the order of the weight file).</summary>
    public IReadOnlyList<Parameter> Parameters => _all;

    public long ParameterCount
    {
        get
        {
            long n = 0;
            foreach (Parameter p in _all)
            {
                n += p.Value.Length;
            }

            return n;
        }
    }

    /// <summary>PyTorch's default initialisation: embedding N(0, 1); recurrent and dense weights U(−1/√fan, 1/√fan).</summary>
    public void Initialize(ulong seed)
    {
        var rng = new Xoshiro128StarStar(seed);
        foreach (Parameter p in _all)
        {
            if (p.Name.Contains(".peephole_l", StringComparison.Ordinal))
            {
                continue; // peepholes start at zero (a plain LSTM)
            }

            if (ReferenceEquals(p, Embedding) || ReferenceEquals(p, Encoder?.Embedding))
            {
                for (int i = 0; i < p.Value.Length; i++)
                {
                    p.Value[i] = NextGaussian(ref rng);
                }

                continue;
            }

            float bound = DenseFanIn(p) is int fanIn ? 1f / MathF.Sqrt(fanIn)
                : ReferenceEquals(p, _headW) || ReferenceEquals(p, _headB) ? 1f / MathF.Sqrt(Shape.HeadInput)
                : ReferenceEquals(p, ImageW) || ReferenceEquals(p, ImageB) ? 1f / MathF.Sqrt(Shape.ImageFeatures)
                : 1f / MathF.Sqrt(Shape.Hidden);
            for (int i = 0; i < p.Value.Length; i++)
            {
                p.Value[i] = (2f * rng.NextSingle() - 1f) * bound;
            }
        }

        RefreshTransposed();
    }

    public void RefreshTransposed()
    {
        foreach (Parameter p in _all)
        {
            p.RefreshTransposed();
        }
    }

    /// <summary>
    /// Sets every LSTM layer's forget-gate bias (this network's and a seq2seq encoder's): the forget block (rows H..2H)
    /// of b_ih to <paramref name="value"/> and of b_hh to 0, so the gate starts at σ(value + W_ih x + W_hh h).
    /// </summary>
    /// <exception cref="ArgumentException">Not a plain or peephole LSTM (GRU, RNN and CIFG have no forget gate), or a non-finite value.</exception>
    public void SetForgetBias(float value)
    {
        if (Shape.Cell != TrainCell.Lstm || Shape.Cifg)
        {
            throw new ArgumentException("--forget-bias needs an LSTM with a forget gate (not GRU, RNN or CIFG)");
        }

        if (!float.IsFinite(value))
        {
            throw new ArgumentException("--forget-bias must be a finite number");
        }

        Encoder?.SetForgetBias(value);
        int h = Shape.Hidden;
        for (int k = 0; k < Shape.Layers; k++)
        {
            b_ih[k].Value.AsSpan(h, h).Fill(value); // gate order i, f, g, o: f is the second block
            b_hh[k].Value.AsSpan(h, h).Clear();
        }
    }

    public void ZeroGrad()
    {
        foreach (Parameter p in _all)
        {
            Array.Clear(p.Grad);
        }
    }

    /// <summary>The model as the compiler's IR (arrays are copies, so training can go on).</summary>
    /// <param name="sourceVocabulary">A seq2seq network's source (encoder) vocabulary; required then.</param>
    public ModelSpec ToSpec(Vocabulary? vocabulary, ModelTask task, IReadOnlyDictionary<string, string>? metadata = null,
        IReadOnlyList<string>? labels = null, Vocabulary? sourceVocabulary = null)
    {
        ModelSpec? encoder = null;
        if (Encoder is not null)
        {
            encoder = Encoder.ToSpec(sourceVocabulary ?? throw new ArgumentNullException(nameof(sourceVocabulary), "A seq2seq network needs its source vocabulary."),
                ModelTask.Generic);
        }

        int h = Shape.Hidden;
        var layers = new List<LayerSpec>();
        for (int k = 0; k < Shape.Layers; k++)
        {
            layers.Add(new LayerSpec
            {
                Cell = Shape.Cell switch
                {
                    TrainCell.Lstm => CellKind.Lstm,
                    TrainCell.Gru => CellKind.Gru,
                    _ => CellKind.Rnn,
                },
                Activation = Shape.Cell == TrainCell.RnnRelu ? ActivationKind.Relu : ActivationKind.Tanh,
                InputSize = Shape.LayerInput(k),
                HiddenSize = h,
                Cifg = Shape.Cifg,
                GruForm = Shape.GruResetBefore ? GruForm.ResetBefore : GruForm.ResetAfter,
                Forward = new DirectionWeights
                {
                    Peepholes = Peephole[k] is Parameter peep ? ToMatrix(peep) : null,
                    W_ih = ToMatrix(W_ih[k]),
                    W_hh = ToMatrix(W_hh[k]),
                    b_ih = (float[])b_ih[k].Value.Clone(),
                    b_hh = (float[])b_hh[k].Value.Clone(),
                },
            });
        }

        var meta = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (metadata is not null)
        {
            foreach (KeyValuePair<string, string> e in metadata)
            {
                meta[e.Key] = e.Value;
            }
        }

        return new ModelSpec
        {
            InputKind = Embedding is null ? InputKind.Dense : InputKind.Embedding,
            InputSize = Embedding is null ? Shape.DenseInputs : Shape.Vocab,
            Embedding = Embedding is null ? null : ToMatrix(Embedding),
            ImageProjection = ImageW is null ? null : new DenseSpec { W = ToMatrix(ImageW), b = (float[])ImageB!.Value.Clone() },
            InputLayers = DenseSpecs(InputW, InputB, Shape.InputLayers),
            Layers = layers,
            HeadLayers = DenseSpecs(HeadLayerW, HeadLayerB, Shape.HeadLayers),
            Head = _headW is null ? null : new DenseSpec { W = ToMatrix(_headW), b = (float[])_headB!.Value.Clone() },
            Encoder = encoder,
            Vocabulary = vocabulary,
            Task = task,
            Labels = labels,
            Metadata = meta,
        };
    }

    /// <summary>Standard normal (Box–Muller, one value per two uniforms).</summary>
    private static float NextGaussian(ref Xoshiro128StarStar rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }

    private static Matrix ToMatrix(Parameter p) => new(p.Rows, p.Cols, (float[])p.Value.Clone());

    private Parameter Add(Parameter p)
    {
        _all.Add(p);
        return p;
    }
}
