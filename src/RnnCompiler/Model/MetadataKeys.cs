using System.Collections.Generic;

namespace RnnEmbedded.Compiler.Model;

/// <summary>
/// The <c>__metadata__</c> keys a weight file may carry (docs/model-format.md). Every other key under
/// <c>rnn.</c> except <c>rnn.train.*</c> is rejected, so a misspelt key fails loudly instead of being ignored.
/// </summary>
public static class MetadataKeys
{
    /// <summary>Format version; the only value is <see cref="CurrentFormat"/>.</summary>
    public const string Format = "rnn.format";

    /// <summary>generic | char-lm | word-lm | caption | classify | seq2seq.</summary>
    public const string Task = "rnn.task";

    /// <summary>chars | words.</summary>
    public const string VocabularyKind = "rnn.vocab.kind";

    /// <summary>JSON array of token strings; index = token id.</summary>
    public const string Vocabulary = "rnn.vocab";

    /// <summary>Seq2seq models: chars | words, the source (encoder) vocabulary's kind.</summary>
    public const string SourceVocabularyKind = "rnn.source.vocab.kind";

    /// <summary>Seq2seq models: JSON array of the source (encoder) vocabulary's token strings.</summary>
    public const string SourceVocabulary = "rnn.source.vocab";

    /// <summary>JSON array of label names (classify task); index = head output.</summary>
    public const string Labels = "rnn.labels";

    /// <summary>embedding | one-hot | dense.</summary>
    public const string Input = "rnn.input";

    /// <summary>tanh | relu | sigmoid (plain RNN cells only).</summary>
    public const string Nonlinearity = "rnn.nonlinearity";

    /// <summary>reset_after | reset_before (GRU only).</summary>
    public const string GruForm = "rnn.gru.form";

    /// <summary>true | false (LSTM only): coupled input-forget gate, f = 1 − i.</summary>
    public const string LstmCifg = "rnn.lstm.cifg";

    /// <summary>Module prefix of the caption decoder's image projection: tensors &lt;prefix&gt;.weight (E, F) [+ .bias (E)].</summary>
    public const string ImageProjection = "rnn.image_projection";

    /// <summary>Module prefix of the embedding: tensor &lt;prefix&gt;.weight (V, E).</summary>
    public const string Embedding = "rnn.embedding";

    /// <summary>Module prefix of the dense head: tensors &lt;prefix&gt;.weight (O, In) [+ .bias (O)].</summary>
    public const string Head = "rnn.head";

    /// <summary>
    /// Input layers before the recurrent stack (dense input only): comma-separated <c>module[:activation]</c> in
    /// order, e.g. <c>input.0:relu,input.2:tanh</c>; each module has <c>&lt;module&gt;.weight</c> (O, In) [+ .bias].
    /// </summary>
    public const string InputLayers = "rnn.input.layers";

    /// <summary>
    /// The head MLP after the recurrent stack: comma-separated <c>module[:activation]</c> in order, the last
    /// being the output layer, e.g. <c>head.0:relu,head.2</c>. Excludes <see cref="Head"/>.
    /// </summary>
    public const string HeadLayers = "rnn.head.layers";

    /// <summary>none | softmax | log-softmax | sigmoid: applied to the step's output vector.</summary>
    public const string Output = "rnn.output";

    /// <summary>
    /// Gate pre-activation clipping (ONNX <c>clip</c>): one bound for every layer, or one entry per layer, each a positive
    /// number or <c>none</c>, e.g. <c>3</c> or <c>3,none</c>; see <see cref="LayerSpec.Clip"/>.
    /// </summary>
    public const string Clip = "rnn.clip";

    /// <summary>Free-form training record: any key starting with this prefix is kept and not interpreted.</summary>
    public const string TrainPrefix = "rnn.train.";

    /// <summary>Every key under <c>rnn.</c> is ours.</summary>
    public const string Namespace = "rnn.";

    /// <summary>The value <see cref="ModelWriter"/> writes for <see cref="Format"/>.</summary>
    public const string CurrentFormat = "1";

    /// <summary>The interpreted keys, ordinal order.</summary>
    public static IReadOnlyList<string> Known { get; } = new[]
    {
        Clip, Embedding, Format, GruForm, Head, HeadLayers, ImageProjection, Input, InputLayers, Labels, LstmCifg, Nonlinearity,
        Output, SourceVocabulary, SourceVocabularyKind, Task, Vocabulary, VocabularyKind,
    };

    internal static readonly string[] TaskValues = { "generic", "char-lm", "word-lm", "caption", "classify", "seq2seq" };
    internal static readonly string[] VocabularyKindValues = { "chars", "words" };
    internal static readonly string[] InputValues = { "embedding", "one-hot", "dense" };
    internal static readonly string[] NonlinearityValues = { "tanh", "relu", "sigmoid" };
    internal static readonly string[] GruFormValues = { "reset_after", "reset_before" };
    internal static readonly string[] BoolValues = { "true", "false" };
    internal static readonly string[] FormatValues = { CurrentFormat };
    internal static readonly string[] DenseActivationValues = { "identity", "relu", "tanh", "sigmoid" };
    internal static readonly string[] OutputValues = { "none", "softmax", "log-softmax", "sigmoid" };

    internal static string ToText(DenseActivation activation) => DenseActivationValues[(int)activation];

    internal static string ToText(OutputFunction output) => OutputValues[(int)output];

    internal static string ToText(ModelTask task) => TaskValues[(int)task];

    internal static string ToText(InputKind input) => InputValues[(int)input];

    internal static string ToText(ActivationKind activation) => NonlinearityValues[(int)activation];

    internal static string ToText(Model.GruForm form) => GruFormValues[(int)form];

    internal static string ToText(Model.ModelVocabularyKind kind) => kind switch
    {
        Model.ModelVocabularyKind.Characters => "chars",
        Model.ModelVocabularyKind.Words => "words",
        _ => throw new System.ArgumentException("A vocabulary needs kind Characters or Words, not None.", nameof(kind)),
    };
}
