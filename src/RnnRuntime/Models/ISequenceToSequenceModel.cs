namespace RnnEmbedded.Runtime;

/// <summary>
/// A sequence-to-sequence model (<c>rnn.task=seq2seq</c>): an encoder stack reads the source tokens, its final state
/// per layer starts the decoder (h, and c when both cells are LSTM of the same size; docs/model-format.md), then
/// <see cref="ITokenModel{TSelf}.Step(int, System.Span{float})"/> decodes the target token by token. The struct's
/// state is the decoder's; the encoder runs inside <see cref="Encode"/> on the stack. The target vocabulary is the
/// model's <see cref="IVocabularyModel{TSelf}"/> vocabulary; the source vocabulary is described here.
/// </summary>
/// <typeparam name="TSelf">The generated struct itself.</typeparam>
public interface ISequenceToSequenceModel<TSelf> : ITokenModel<TSelf>, IVocabularyModel<TSelf>
    where TSelf : struct, ISequenceToSequenceModel<TSelf>
{
    /// <summary>Source vocabulary size: source tokens are ids in [0, SourceInputSize).</summary>
    static abstract int SourceInputSize { get; }

    /// <summary>Whether source tokens are characters or words.</summary>
    static abstract ModelVocabularyKind SourceVocabularyKind { get; }

    /// <summary>All source token texts concatenated; token t is <c>SourceVocabularyText[SourceVocabularyOffsets[t]..SourceVocabularyOffsets[t + 1]]</c>.</summary>
    static abstract ReadOnlySpan<char> SourceVocabularyText { get; }

    /// <summary>SourceInputSize + 1 offsets into <see cref="SourceVocabularyText"/>.</summary>
    static abstract ReadOnlySpan<int> SourceVocabularyOffsets { get; }

    /// <summary>
    /// Runs the encoder over <paramref name="source"/> from its zero state and replaces this model's (the decoder's)
    /// state with the encoder's final state. Allocates nothing. An empty source leaves the zero state.
    /// </summary>
    /// <param name="source">Source token ids in [0, SourceInputSize).</param>
    void Encode(ReadOnlySpan<int> source);
}
