namespace RnnEmbedded.Runtime;

/// <summary>What a model's vocabulary tokens are.</summary>
public enum ModelVocabularyKind
{
    None,
    Characters,
    Words,
}

/// <summary>What a model is for (from the weight file's metadata).</summary>
public enum ModelTask
{
    Generic,
    CharLm,
    WordLm,
    Caption,
}

/// <summary>
/// A compiled recurrent model. Implemented by the generated <c>partial struct</c>: the struct's fields are the
/// whole recurrent state (so copying the value snapshots it and <c>default</c> is the zero state); sizes and
/// weights are static. Generic code takes <c>where TModel : struct, IRecurrentModel&lt;TModel&gt;</c> and never boxes.
/// </summary>
public interface IRecurrentModel<TSelf>
    where TSelf : struct, IRecurrentModel<TSelf>
{
    /// <summary>Vocabulary size for token models; feature count per step for dense models.</summary>
    static abstract int InputSize { get; }

    /// <summary>Floats written per step: the head's logits, or the last layer's output without a head.</summary>
    static abstract int OutputSize { get; }

    /// <summary>True when <see cref="Step(int, Span{float})"/> is the input path (embedding or one-hot).</summary>
    static abstract bool HasTokenInput { get; }

    /// <summary>True when some layer is bidirectional: only <c>Run</c> is valid then, not <c>Step</c>.</summary>
    static abstract bool IsBidirectional { get; }

    static abstract ModelTask Task { get; }

    static abstract ModelVocabularyKind VocabularyKind { get; }

    /// <summary>All token texts concatenated; token t is <c>VocabularyText[VocabularyOffsets[t]..VocabularyOffsets[t + 1]]</c>. Empty without a vocabulary.</summary>
    static abstract ReadOnlySpan<char> VocabularyText { get; }

    /// <summary>V + 1 offsets into <see cref="VocabularyText"/>; empty without a vocabulary.</summary>
    static abstract ReadOnlySpan<int> VocabularyOffsets { get; }

    /// <summary>Id of <c>&lt;start&gt;</c>, or −1.</summary>
    static abstract int StartToken { get; }

    /// <summary>Id of <c>&lt;stop&gt;</c>, or −1.</summary>
    static abstract int StopToken { get; }

    /// <summary>Id of <c>&lt;unk&gt;</c>, or −1.</summary>
    static abstract int UnknownToken { get; }

    /// <summary>Advance one step on token <paramref name="token"/> in [0, InputSize); writes OutputSize floats.</summary>
    void Step(int token, Span<float> output);

    /// <summary>Advance one step on a dense input of InputSize floats; writes OutputSize floats.</summary>
    void Step(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>Back to the zero state (same as <c>default</c>).</summary>
    void Reset();

    /// <summary>Whole sequence from the zero state; outputs[t * OutputSize + k]. Required for bidirectional models.</summary>
    static abstract void Run(ReadOnlySpan<int> tokens, Span<float> outputs);

    /// <summary>Whole dense sequence (inputs[t * InputSize + j]) from the zero state; outputs[t * OutputSize + k].</summary>
    static abstract void Run(ReadOnlySpan<float> inputs, Span<float> outputs);
}

/// <summary>
/// A Show-and-Tell caption decoder: the first step consumes the image feature vector through the image
/// projection (E, F) instead of a token; later steps consume <c>&lt;start&gt;</c> and the words so far.
/// </summary>
public interface ICaptionModel<TSelf> : IRecurrentModel<TSelf>
    where TSelf : struct, ICaptionModel<TSelf>
{
    /// <summary>F: the image feature vector length.</summary>
    static abstract int ImageFeatureSize { get; }

    /// <summary>Step on an image feature vector of ImageFeatureSize floats; writes OutputSize floats.</summary>
    void StepImage(ReadOnlySpan<float> features, Span<float> output);
}
