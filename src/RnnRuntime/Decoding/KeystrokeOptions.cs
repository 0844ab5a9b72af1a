namespace RnnEmbedded.Runtime;

/// <summary>Settings of a <see cref="KeystrokeEngine{TModel}"/>. Validated by the engine's constructor.</summary>
public sealed class KeystrokeOptions
{
    /// <summary>Keystrokes whose pre-state is kept for O(1) backspace. ≥ 1; default 256.</summary>
    public int HistoryCapacity { get; init; } = 256;

    /// <summary>Most recent typed characters kept to re-prime the model when the history runs out. ≥ HistoryCapacity; default 4096.</summary>
    public int TextCapacity { get; init; } = 4096;

    /// <summary>
    /// Characters after which the model returns to its initial (primed) state, e.g. "\n" for a model trained on
    /// lines. Empty (the default): never reset.
    /// </summary>
    public string ResetAfter { get; init; } = "";

    /// <summary>Characters that end a word: a completion stops before the first of them. Default whitespace and common punctuation.</summary>
    public string WordBoundaries { get; init; } = " \t\r\n.,;:!?\"()[]{}";

    /// <summary>Text the model reads once at construction to form its initial state (e.g. "\n"). Default empty: the zero state.</summary>
    public string Primer { get; init; } = "";

    /// <summary>Live hypotheses in the completion beam search. ≥ 1; default 4.</summary>
    public int CompletionBeamWidth { get; init; } = 4;

    /// <summary>Most tokens the completion search generates, the closing boundary included (see <see cref="KeystrokeEngine{TModel}.Completions"/>). ≥ 2; default 16.</summary>
    public int MaxCompletionLength { get; init; } = 16;

    /// <summary>Most completions one call can return. ≥ 1; default 8.</summary>
    public int MaxCompletions { get; init; } = 8;

    /// <summary>α of the completion beam search (score = log P / len^α). Default 0: rank by the completion's probability.</summary>
    public float CompletionLengthPenalty { get; init; }
}
