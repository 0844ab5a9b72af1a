namespace RnnEmbedded.Runtime;

/// <summary>
/// A sequence classifier (weight file <c>rnn.task=classify</c>): its head's outputs are the logits of the labels
/// named in <c>rnn.labels</c>, read after the last step of a sequence (or after every step, when streaming).
/// <see cref="SequenceClassifier"/> turns them into class probabilities.
/// </summary>
/// <typeparam name="TSelf">The generated struct itself.</typeparam>
public interface IClassifierModel<TSelf> : IRecurrentModel<TSelf>
    where TSelf : struct, IClassifierModel<TSelf>
{
    /// <summary>All label names concatenated; label k is <c>LabelText[LabelOffsets[k]..LabelOffsets[k + 1]]</c>.</summary>
    static abstract ReadOnlySpan<char> LabelText { get; }

    /// <summary>C + 1 offsets into <see cref="LabelText"/>, where C = OutputSize is the number of labels.</summary>
    static abstract ReadOnlySpan<int> LabelOffsets { get; }
}
