using System.Collections.Generic;

namespace RnnEmbedded.Compiler.Model;

/// <summary>Which recurrent cell a layer uses.</summary>
public enum CellKind
{
    Rnn,
    Lstm,
    Gru,
}

/// <summary>
/// GRU candidate form. ResetAfter (PyTorch, Keras reset_after=True, ONNX linear_before_reset=1):
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)). ResetBefore (Cho et al. 2014, ONNX default):
/// n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn).
/// </summary>
public enum GruForm
{
    ResetAfter,
    ResetBefore,
}

/// <summary>How the model's input reaches the first layer.</summary>
public enum InputKind
{
    /// <summary>Token id → row of an embedding matrix (V, E).</summary>
    Embedding,

    /// <summary>Token id → one-hot vector of length V (the first layer's W_ih has V columns).</summary>
    OneHot,

    /// <summary>A dense feature vector of length InputSize per step.</summary>
    Dense,
}

/// <summary>A row-major float matrix: element (r, c) is Data[r * Cols + c].</summary>
public sealed class Matrix
{
    public Matrix(int rows, int cols, float[] data)
    {
        if (rows < 0 || cols < 0 || data is null || (long)rows * cols != data.Length)
        {
            throw new System.ArgumentException($"Matrix data length {data?.Length} does not equal rows {rows} × cols {cols}.");
        }

        Rows = rows;
        Cols = cols;
        Data = data;
    }

    public int Rows { get; }

    public int Cols { get; }

    public float[] Data { get; }

    public float this[int r, int c] => Data[r * Cols + c];
}

/// <summary>Weights of one direction of one recurrent layer, named as in PyTorch.</summary>
public sealed class DirectionWeights
{
    /// <summary>(G·H, In): gates stacked in PyTorch order (LSTM i,f,g,o; CIFG i,g,o; GRU r,z,n; RNN one block).</summary>
    public required Matrix W_ih { get; init; }

    /// <summary>(G·H, HOut) where HOut is the projection size P when the LSTM has one, else H.</summary>
    public required Matrix W_hh { get; init; }

    /// <summary>(G·H) or null when the layer has no bias.</summary>
    public float[]? b_ih { get; init; }

    /// <summary>(G·H) or null when the layer has no bias.</summary>
    public float[]? b_hh { get; init; }

    /// <summary>LSTM projection (P, H), PyTorch proj_size; null when absent.</summary>
    public Matrix? W_hr { get; init; }

    /// <summary>LSTM peepholes (3, H): rows p_i, p_f, p_o (CIFG: p_f row unused and zero); null when absent.</summary>
    public Matrix? Peepholes { get; init; }
}

/// <summary>
/// One recurrent layer: forward (<see cref="Forward"/> only), reverse (<see cref="Forward"/> only, with
/// <see cref="Reverse"/>: the one direction reads the sequence from the last step to the first) or bidirectional
/// (<see cref="Forward"/> and <see cref="Backward"/>).
/// </summary>
public sealed partial class LayerSpec
{
    public required CellKind Cell { get; init; }

    /// <summary>Width of this layer's input vector.</summary>
    public required int InputSize { get; init; }

    /// <summary>Hidden (cell) size H.</summary>
    public required int HiddenSize { get; init; }

    /// <summary>LSTM projection size P, or 0 when there is no projection.</summary>
    public int ProjectionSize { get; init; }

    public ActivationKind Activation { get; init; } = ActivationKind.Tanh;

    public GruForm GruForm { get; init; } = GruForm.ResetAfter;

    /// <summary>LSTM coupled input-forget gate: f = 1 − i; W_ih/W_hh/b have 3H rows ordered i, g, o.</summary>
    public bool Cifg { get; init; }

    public bool HasPeepholes => Forward.Peepholes is not null;

    public bool HasBias => Forward.b_ih is not null;

    public bool Bidirectional => Backward is not null;

    /// <summary>
    /// A reverse-only layer (ONNX <c>direction = reverse</c>; <c>_reverse</c> tensors alone in the safetensors scheme):
    /// its one direction, <see cref="Forward"/>, runs from the last step to the first, so a model with such a layer has
    /// no Step, only Run (<see cref="ModelSpec.RunOnly"/>). Never true together with <see cref="Backward"/>.
    /// </summary>
    public bool Reverse { get; init; }

    /// <summary>The first direction's weights: the only direction of a forward or reverse layer.</summary>
    public required DirectionWeights Forward { get; init; }

    public DirectionWeights? Backward { get; init; }

    /// <summary>Size of h per direction (P when projected, else H).</summary>
    public int StateSize => ProjectionSize > 0 ? ProjectionSize : HiddenSize;

    /// <summary>Width of this layer's output (StateSize × directions).</summary>
    public int OutputSize => StateSize * (Bidirectional ? 2 : 1);

    /// <summary>Number of gate blocks G in W_ih (rows = G·H).</summary>
    public int GateCount => Cell switch
    {
        CellKind.Lstm => Cifg ? 3 : 4,
        CellKind.Gru => 3,
        _ => 1,
    };
}

/// <summary>A dense layer y = act(W x + b) with W (Out, In); act is identity unless <see cref="Activation"/> says otherwise.</summary>
public sealed class DenseSpec
{
    public required Matrix W { get; init; }

    public float[]? b { get; init; }

    /// <summary>
    /// Elementwise activation after W x + b. Only input layers and head layers may have one; the image
    /// projection is always <see cref="DenseActivation.Identity"/>.
    /// </summary>
    public DenseActivation Activation { get; init; } = DenseActivation.Identity;

    public int InputSize => W.Cols;

    public int OutputSize => W.Rows;
}

/// <summary>A vocabulary: token id → text. Special tokens are −1 when absent.</summary>
public sealed class Vocabulary
{
    public Vocabulary(ModelVocabularyKind kind, IReadOnlyList<string> tokens)
    {
        if (kind != ModelVocabularyKind.Characters && kind != ModelVocabularyKind.Words)
        {
            throw new System.ArgumentException($"kind: a vocabulary holds Characters or Words, not {kind}.", nameof(kind));
        }

        Kind = kind;
        Tokens = tokens;
        StartToken = IndexOf("<start>");
        StopToken = IndexOf("<stop>");
        UnknownToken = IndexOf("<unk>");
    }

    public ModelVocabularyKind Kind { get; }

    public IReadOnlyList<string> Tokens { get; }

    public int Count => Tokens.Count;

    public int StartToken { get; }

    public int StopToken { get; }

    public int UnknownToken { get; }

    private int IndexOf(string token)
    {
        if (Kind != ModelVocabularyKind.Words)
        {
            // A character vocabulary's start and stop are U+0002 (start of text) and U+0003 (end of text).
            token = token switch
            {
                "<start>" => "\u0002",
                "<stop>" => "\u0003",
                _ => "",
            };
            if (token.Length == 0)
            {
                return -1;
            }
        }

        for (int i = 0; i < Tokens.Count; i++)
        {
            if (string.Equals(Tokens[i], token, System.StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>
/// The model IR: input → [input layers] → stack of recurrent layers → [head layers → head] → [output function].
/// Sizes: token models take ids in [0, InputSize); dense models take InputSize floats per step.
/// The output per step is the head's output (OutputSize) or, with no head, the last layer's output, then
/// <see cref="Output"/> (none, softmax, log-softmax or sigmoid). Layer stacks: ModelSpec.Layers.cs.
/// </summary>
public sealed partial class ModelSpec
{
    public required InputKind InputKind { get; init; }

    /// <summary>Vocabulary size V for token input; feature count for dense input.</summary>
    public required int InputSize { get; init; }

    /// <summary>(V, E) for Embedding input, else null.</summary>
    public Matrix? Embedding { get; init; }

    /// <summary>Caption decoders: image projection (E, F) applied to the image feature vector at the first step.</summary>
    public DenseSpec? ImageProjection { get; init; }

    public required IReadOnlyList<LayerSpec> Layers { get; init; }

    public DenseSpec? Head { get; init; }

    public Vocabulary? Vocabulary { get; init; }

    public ModelTask Task { get; init; } = ModelTask.Generic;

    /// <summary>Classifiers (<see cref="ModelTask.Classify"/>): the name of each head output, else null.</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>
    /// Seq2seq models (Task = Seq2Seq): the encoder stack (token input, no head, unidirectional), whose final state
    /// starts this model's layers (docs/model-format.md, "Sequence to sequence"); its Vocabulary is the source
    /// vocabulary. Null for every other task.
    /// </summary>
    public ModelSpec? Encoder { get; init; }

    /// <summary>Every __metadata__ entry of the source file, ordinal order.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new SortedDictionary<string, string>(System.StringComparer.Ordinal);

    public bool HasTokenInput => InputKind != InputKind.Dense;

    public bool Bidirectional
    {
        get
        {
            foreach (LayerSpec layer in Layers)
            {
                if (layer.Bidirectional)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Width of the vector the first layer sees.</summary>
    public int FirstLayerInputSize => InputLayers.Count > 0
        ? InputLayers[InputLayers.Count - 1].OutputSize
        : InputKind switch
        {
            InputKind.Embedding => Embedding!.Cols,
            _ => InputSize,
        };

    public int OutputSize => Head?.OutputSize ?? Layers[Layers.Count - 1].OutputSize;

    /// <summary>Total number of float parameters.</summary>
    public long ParameterCount
    {
        get
        {
            long n = (Embedding?.Data.LongLength ?? 0) + Count(ImageProjection) + Count(Head) + (Encoder?.ParameterCount ?? 0);
            foreach (DenseSpec dense in InputLayers)
            {
                n += Count(dense);
            }

            foreach (DenseSpec dense in HeadLayers)
            {
                n += Count(dense);
            }

            foreach (LayerSpec layer in Layers)
            {
                n += Count(layer.Forward) + (layer.Backward is null ? 0 : Count(layer.Backward));
            }

            return n;
        }
    }

    private static long Count(DenseSpec? d) => d is null ? 0 : d.W.Data.LongLength + (d.b?.LongLength ?? 0);

    private static long Count(DirectionWeights w) =>
        w.W_ih.Data.LongLength + w.W_hh.Data.LongLength + (w.b_ih?.LongLength ?? 0) + (w.b_hh?.LongLength ?? 0)
        + (w.W_hr?.Data.LongLength ?? 0) + (w.Peepholes?.Data.LongLength ?? 0);
}
