// Shared source: compiled into RnnEmbedded.Runtime (namespace RnnEmbedded.Runtime, what users see) and into
// RnnEmbedded.Compiler and the generator (namespace RnnEmbedded.Compiler.Model), so the two can never disagree.
// The numeric values are the weight-file metadata's order (MetadataKeys.TaskValues); do not reorder.
#if RNN_RUNTIME
namespace RnnEmbedded.Runtime;
#else
namespace RnnEmbedded.Compiler.Model;
#endif

/// <summary>What a model's vocabulary tokens are.</summary>
public enum ModelVocabularyKind
{
    /// <summary>The weight file has no vocabulary.</summary>
    None,

    /// <summary>Each token is one character (or one surrogate pair).</summary>
    Characters,

    /// <summary>Each token is a word (plus the special tokens).</summary>
    Words,
}

/// <summary>What a model is for (from the weight file's metadata).</summary>
public enum ModelTask
{
    /// <summary>No task recorded.</summary>
    Generic,

    /// <summary>Character-level language model.</summary>
    CharLm,

    /// <summary>Word-level language model.</summary>
    WordLm,

    /// <summary>Show-and-Tell caption decoder.</summary>
    Caption,

    /// <summary>Sequence classifier: the head's outputs are the logits of the labels in <c>rnn.labels</c>.</summary>
    Classify,

    /// <summary>Sequence to sequence: an encoder stack reads the source, its final state starts the decoder.</summary>
    Seq2Seq,
}
