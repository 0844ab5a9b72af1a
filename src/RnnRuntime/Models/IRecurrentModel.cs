using System.Buffers;
using RnnEmbedded.Runtime.CompilerServices;

namespace RnnEmbedded.Runtime;

// ModelTask and ModelVocabularyKind live in src/Shared/ModelKinds.cs (one definition for the runtime and the compiler).

// Capabilities as types (docs/architecture.md): a generated struct implements only the interfaces its model supports,
// so giving a dense model to the keystroke engine, or calling Step on a bidirectional or reverse model, is a compile error.
//
//   IRecurrentModel            sizes, task, Reset                       every generated model
//   ├─ ITokenModel             Step(int token, …), static batched Step  unidirectional, embedding or one-hot input
//   │  └─ ICaptionModel        StepImage(features, …), StartImage       Show-and-Tell caption decoders
//   ├─ IDenseModel             Step(input, …), static batched Step      unidirectional, dense input
//   ├─ ITokenSequenceModel     static Run(tokens, outputs)              every token model (the only entry with a bidirectional or reverse layer)
//   ├─ IDenseSequenceModel     static Run(inputs, outputs)              every dense model (the only entry with a bidirectional or reverse layer)
//   └─ IVocabularyModel        vocabulary text, offsets, special tokens models whose file has a vocabulary

/// <summary>
/// The core every compiled recurrent model implements. The generated <c>partial struct</c>'s fields are the whole
/// recurrent state (so copying the value snapshots it and <c>default</c> is the zero state); sizes and weights are
/// static. Generic code takes <c>where TModel : struct, ITokenModel&lt;TModel&gt;</c> (or the capability it needs)
/// and never boxes.
/// </summary>
/// <typeparam name="TSelf">The generated struct itself.</typeparam>
public interface IRecurrentModel<TSelf>
    where TSelf : struct, IRecurrentModel<TSelf>
{
    /// <summary>Vocabulary size for token models; feature count per step for dense models.</summary>
    static abstract int InputSize { get; }

    /// <summary>Floats written per step: the head's logits, or the last layer's output without a head.</summary>
    static abstract int OutputSize { get; }

    /// <summary>What the model is for, from the weight file's <c>rnn.task</c>.</summary>
    static abstract ModelTask Task { get; }

    /// <summary>Back to the zero state (same as <c>default</c>).</summary>
    void Reset();
}

/// <summary>A model that advances one token at a time (embedding or one-hot input, every layer unidirectional).</summary>
/// <typeparam name="TSelf">The generated struct itself.</typeparam>
public interface ITokenModel<TSelf> : IRecurrentModel<TSelf>
    where TSelf : struct, ITokenModel<TSelf>
{
    /// <summary>Advance one step on token <paramref name="token"/> in [0, InputSize); writes OutputSize floats.</summary>
    /// <param name="token">The input token id.</param>
    /// <param name="output">At least OutputSize floats: the step's logits (or last layer output).</param>
    void Step(int token, Span<float> output);

    /// <summary>
    /// Advances every model in <paramref name="models"/> one step, model b on <c>tokens[b]</c>, writing its
    /// OutputSize floats to <c>outputs[b * OutputSize ..]</c>. Each weight is read once per group of models instead
    /// of once per model; each model's new state and output equal stepping it alone within rounding (the batched
    /// products sum in a different order). Allocates nothing; any count of models.
    /// </summary>
    /// <param name="models">The models to advance; their states are updated in place.</param>
    /// <param name="tokens">One token id in [0, InputSize) per model.</param>
    /// <param name="outputs">At least <c>models.Length * OutputSize</c> floats.</param>
    /// <remarks>
    /// Generated models implement it with batched matrix products; this default (for hand-written models) steps
    /// each model alone.
    /// </remarks>
    static virtual void Step(Span<TSelf> models, ReadOnlySpan<int> tokens, Span<float> outputs)
    {
        ModelGuard.CheckBatch(models.Length, tokens.Length, nameof(tokens), outputs.Length, TSelf.OutputSize);
        int o = TSelf.OutputSize;
        for (int b = 0; b < models.Length; b++)
        {
            models[b].Step(tokens[b], outputs.Slice(b * o, o));
        }
    }
}

/// <summary>A model that advances one dense feature vector at a time (every layer unidirectional).</summary>
/// <typeparam name="TSelf">The generated struct itself.</typeparam>
public interface IDenseModel<TSelf> : IRecurrentModel<TSelf>
    where TSelf : struct, IDenseModel<TSelf>
{
    /// <summary>Advance one step on a dense input of InputSize floats; writes OutputSize floats.</summary>
    /// <param name="input">Exactly InputSize floats.</param>
    /// <param name="output">At least OutputSize floats.</param>
    void Step(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>
    /// Advances every model in <paramref name="models"/> one step, model b on <c>inputs[b * InputSize ..]</c>,
    /// writing its OutputSize floats to <c>outputs[b * OutputSize ..]</c>. Each weight is read once per group of
    /// models; each model's new state and output equal stepping it alone within rounding. Allocates nothing.
    /// </summary>
    /// <param name="models">The models to advance; their states are updated in place.</param>
    /// <param name="inputs">Exactly <c>models.Length * InputSize</c> floats.</param>
    /// <param name="outputs">At least <c>models.Length * OutputSize</c> floats.</param>
    /// <remarks>
    /// Generated models implement it with batched matrix products; this default (for hand-written models) steps
    /// each model alone.
    /// </remarks>
    static virtual void Step(Span<TSelf> models, ReadOnlySpan<float> inputs, Span<float> outputs)
    {
        int i = TSelf.InputSize;
        ModelGuard.CheckBatch(models.Length, inputs.Length, nameof(inputs), outputs.Length, TSelf.OutputSize, i);
        int o = TSelf.OutputSize;
        for (int b = 0; b < models.Length; b++)
        {
            models[b].Step(inputs.Slice(b * i, i), outputs.Slice(b * o, o));
        }
    }
}

/// <summary>
/// A token model that processes a whole sequence from the zero state. Every token model has it; for a model with a
/// bidirectional or reverse layer it is the only entry (the backward direction needs the whole sequence).
/// </summary>
/// <typeparam name="TSelf">The generated struct itself.</typeparam>
public interface ITokenSequenceModel<TSelf> : IRecurrentModel<TSelf>
    where TSelf : struct, ITokenSequenceModel<TSelf>
{
    /// <summary>Whole token sequence from the zero state; writes <c>outputs[t * OutputSize + k]</c>.</summary>
    /// <param name="tokens">Token ids in [0, InputSize).</param>
    /// <param name="outputs">At least <c>tokens.Length * OutputSize</c> floats.</param>
    static abstract void Run(ReadOnlySpan<int> tokens, Span<float> outputs);
}

/// <summary>
/// A dense model that processes a whole sequence from the zero state. Every dense model has it; for a model with a
/// bidirectional or reverse layer it is the only entry.
/// </summary>
/// <typeparam name="TSelf">The generated struct itself.</typeparam>
public interface IDenseSequenceModel<TSelf> : IRecurrentModel<TSelf>
    where TSelf : struct, IDenseSequenceModel<TSelf>
{
    /// <summary>Whole dense sequence (<c>inputs[t * InputSize + j]</c>) from the zero state; writes <c>outputs[t * OutputSize + k]</c>.</summary>
    /// <param name="inputs">A multiple of InputSize floats.</param>
    /// <param name="outputs">At least <c>inputs.Length / InputSize * OutputSize</c> floats.</param>
    static abstract void Run(ReadOnlySpan<float> inputs, Span<float> outputs);
}

/// <summary>A model whose weight file carries its vocabulary (token texts and special tokens).</summary>
/// <typeparam name="TSelf">The generated struct itself.</typeparam>
public interface IVocabularyModel<TSelf> : IRecurrentModel<TSelf>
    where TSelf : struct, IVocabularyModel<TSelf>
{
    /// <summary>Whether tokens are characters or words.</summary>
    static abstract ModelVocabularyKind VocabularyKind { get; }

    /// <summary>All token texts concatenated; token t is <c>VocabularyText[VocabularyOffsets[t]..VocabularyOffsets[t + 1]]</c>.</summary>
    static abstract ReadOnlySpan<char> VocabularyText { get; }

    /// <summary>V + 1 offsets into <see cref="VocabularyText"/>.</summary>
    static abstract ReadOnlySpan<int> VocabularyOffsets { get; }

    /// <summary>Id of <c>&lt;start&gt;</c>, or −1.</summary>
    static abstract int StartToken { get; }

    /// <summary>Id of <c>&lt;stop&gt;</c>, or −1.</summary>
    static abstract int StopToken { get; }

    /// <summary>Id of <c>&lt;unk&gt;</c>, or −1.</summary>
    static abstract int UnknownToken { get; }
}

/// <summary>
/// A Show-and-Tell caption decoder: the first step consumes the image feature vector through the image
/// projection (E, F) instead of a token; later steps consume <c>&lt;start&gt;</c> and the words so far.
/// </summary>
/// <typeparam name="TSelf">The generated struct itself.</typeparam>
public interface ICaptionModel<TSelf> : ITokenModel<TSelf>
    where TSelf : struct, ICaptionModel<TSelf>
{
    /// <summary>F: the image feature vector length.</summary>
    static abstract int ImageFeatureSize { get; }

    /// <summary>Step on an image feature vector of ImageFeatureSize floats; writes OutputSize floats.</summary>
    /// <param name="features">Exactly ImageFeatureSize floats.</param>
    /// <param name="output">At least OutputSize floats.</param>
    void StepImage(ReadOnlySpan<float> features, Span<float> output);

    /// <summary>
    /// The state after the image step from the zero state, without its output: <c>state = default;
    /// state.StepImage(features, …)</c> with the output discarded — where a caption decoder stands before
    /// &lt;start&gt; (<see cref="CaptionDecoder{TModel}"/> starts every caption here). The state is bit for bit the one
    /// that call leaves.
    /// </summary>
    /// <param name="features">Exactly ImageFeatureSize floats.</param>
    /// <param name="state">Receives the model after the image step.</param>
    /// <remarks>
    /// Generated models skip the work whose result the zero state fixes — the recurrent products W_hh·h with h = 0
    /// (when that leaves the gates' bits unchanged, which the generator checks per layer) and the output head
    /// (docs/decoding.md, "Caption decoding"); this default (for hand-written models) calls StepImage on a default
    /// state with a pooled scratch output.
    /// </remarks>
    static virtual void StartImage(ReadOnlySpan<float> features, out TSelf state)
    {
        state = default;
        int o = TSelf.OutputSize;
        float[] scratch = ArrayPool<float>.Shared.Rent(o);
        try
        {
            state.StepImage(features, scratch.AsSpan(0, o));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }
}
