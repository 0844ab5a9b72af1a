namespace RnnEmbedded.Runtime;

/// <summary>
/// How a <see cref="Sampler"/> turns logits into a token. Immutable; every setter validates and throws an
/// <see cref="ArgumentOutOfRangeException"/> naming the property.
/// </summary>
/// <remarks>
/// Order of application: repetition penalty → temperature → top-k → top-p → softmax → draw.
/// <see cref="Temperature"/> = 0 means greedy (argmax after the repetition penalty; top-k/top-p and the RNG are unused).
/// </remarks>
public sealed class SamplingOptions
{
    private readonly float _temperature = 1f;
    private readonly int _topK;
    private readonly float _topP = 1f;
    private readonly float _repetitionPenalty = 1f;
    private readonly int _repetitionWindow = 64;

    /// <summary>Greedy decoding: always the most probable token.</summary>
    public static SamplingOptions Greedy { get; } = new() { Temperature = 0f };

    /// <summary>Plain sampling from the model's distribution (temperature 1, no filtering).</summary>
    public static SamplingOptions Default { get; } = new();

    /// <summary>Logits are divided by this before the softmax. 0 = greedy; must be finite and ≥ 0. Default 1.</summary>
    public float Temperature
    {
        get => _temperature;
        init
        {
            if (!(value >= 0f) || float.IsPositiveInfinity(value))
            {
                ThrowHelper.OutOfRange(nameof(Temperature), value, "Temperature must be finite and ≥ 0 (0 means greedy).");
            }

            _temperature = value;
        }
    }

    /// <summary>Keep only the k most probable tokens. 0 = off (the default); negative is rejected.</summary>
    public int TopK
    {
        get => _topK;
        init
        {
            if (value < 0)
            {
                ThrowHelper.OutOfRange(nameof(TopK), value, "TopK must be ≥ 1, or 0 to turn top-k off.");
            }

            _topK = value;
        }
    }

    /// <summary>Nucleus sampling: keep the smallest set of most probable tokens whose mass is ≥ p. In (0, 1]; 1 = off.</summary>
    public float TopP
    {
        get => _topP;
        init
        {
            if (!(value > 0f && value <= 1f))
            {
                ThrowHelper.OutOfRange(nameof(TopP), value, "TopP must be in (0, 1] (1 turns nucleus sampling off).");
            }

            _topP = value;
        }
    }

    /// <summary>
    /// CTRL-style penalty (Keskar et al. 2019) for tokens seen in the last <see cref="RepetitionWindow"/> tokens:
    /// positive logits are divided by it, negative ones multiplied. Finite and &gt; 0; 1 = off; typical 1.1–1.3.
    /// </summary>
    public float RepetitionPenalty
    {
        get => _repetitionPenalty;
        init
        {
            if (!(value > 0f) || float.IsPositiveInfinity(value))
            {
                ThrowHelper.OutOfRange(nameof(RepetitionPenalty), value, "RepetitionPenalty must be finite and > 0 (1 turns it off).");
            }

            _repetitionPenalty = value;
        }
    }

    /// <summary>How many of the most recent tokens count as "seen" for the repetition penalty. ≥ 1; default 64.</summary>
    public int RepetitionWindow
    {
        get => _repetitionWindow;
        init
        {
            if (value < 1)
            {
                ThrowHelper.OutOfRange(nameof(RepetitionWindow), value, "RepetitionWindow must be ≥ 1.");
            }

            _repetitionWindow = value;
        }
    }

    /// <summary>Seed of the <see cref="Xoshiro128StarStar"/> generator. Default 0.</summary>
    public ulong Seed { get; init; }

    /// <summary>True when <see cref="Temperature"/> is 0.</summary>
    public bool IsGreedy => _temperature == 0f;
}
