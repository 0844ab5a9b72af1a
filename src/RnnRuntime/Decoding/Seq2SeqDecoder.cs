using System.Runtime.CompilerServices;

namespace RnnEmbedded.Runtime;

/// <summary>
/// Sequence-to-sequence decoding: <see cref="ISequenceToSequenceModel{TSelf}.Encode"/> sets the decoder's state from
/// the source, the decoder steps on its start token, and from there each step's logits choose the next target token
/// until the stop token or <see cref="MaxLength"/> tokens. Greedy or beam search (<see cref="BeamSearch{TModel}"/>,
/// which steps its hypotheses in one batched call). Buffers are allocated in the constructor; decoding allocates
/// nothing. Not thread-safe. docs/decoding.md, "Sequence to sequence".
/// </summary>
/// <typeparam name="TModel">The generated seq2seq struct.</typeparam>
public sealed class Seq2SeqDecoder<TModel>
    where TModel : struct, ISequenceToSequenceModel<TModel>
{
    private readonly StartStopDecoding<TModel> _decoding;

    /// <summary>A decoder writing at most <paramref name="maxLength"/> target tokens per source.</summary>
    /// <param name="maxLength">Most target tokens (the stop token not counted); ≥ 1.</param>
    /// <param name="beamWidth">Hypotheses kept after each step by <see cref="DecodeBeam"/>.</param>
    /// <param name="maxResults">Most results <see cref="DecodeBeam"/> returns.</param>
    public Seq2SeqDecoder(int maxLength, int beamWidth = 3, int maxResults = 3) =>
        _decoding = new StartStopDecoding<TModel>(maxLength, beamWidth, maxResults, TModel.StartToken, TModel.StopToken, "start and stop");

    /// <summary>Most target tokens in a result (the stop token not counted).</summary>
    public int MaxLength => _decoding.MaxLength;

    /// <summary>Hypotheses the beam search keeps after each step.</summary>
    public int BeamWidth => _decoding.Search.BeamWidth;

    /// <summary>Most results <see cref="DecodeBeam"/> returns.</summary>
    public int MaxResults => _decoding.Search.MaxResults;

    /// <summary>α of the beam search's length normalization (score = log P / len^α, len counting the stop token).</summary>
    public float LengthPenalty
    {
        get => _decoding.Search.LengthPenalty;
        set => _decoding.Search.LengthPenalty = value;
    }

    /// <summary>Encodes <paramref name="source"/> into a fresh model, then steps it on the start token; <paramref name="logits"/> gets the first target token's logits.</summary>
    /// <param name="source">Source token ids.</param>
    /// <param name="state">The decoder, ready for the second target token.</param>
    /// <param name="logits">Exactly OutputSize floats.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Start(ReadOnlySpan<int> source, out TModel state, Span<float> logits)
    {
        if (logits.Length != TModel.OutputSize)
        {
            ThrowHelper.Length(nameof(logits), logits.Length, TModel.OutputSize);
        }

        state = default;
        state.Encode(source);
        state.Step(TModel.StartToken, logits);
    }

    /// <summary>Greedy decoding: the most probable token at each step. Writes target ids (no start/stop) into <paramref name="target"/>; returns the count.</summary>
    /// <param name="source">Source token ids.</param>
    /// <param name="target">At least MaxLength ids.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int DecodeGreedy(ReadOnlySpan<int> source, Span<int> target)
    {
        _decoding.CheckGreedy(target, nameof(target));
        Start(source, out TModel state, _decoding.Logits);
        return _decoding.DecodeGreedy(ref state, target);
    }

    /// <summary>
    /// Beam-search results, best first: result r is <c>target[r * MaxLength ..][..lengths[r]]</c> (no start/stop), its
    /// score in <c>scores[r]</c>; n = scores.Length ≤ MaxResults. Returns the count found.
    /// </summary>
    /// <param name="source">Source token ids.</param>
    /// <param name="target">At least <c>scores.Length * MaxLength</c> ids.</param>
    /// <param name="lengths">At least <c>scores.Length</c> lengths.</param>
    /// <param name="scores">One score per result wanted.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int DecodeBeam(ReadOnlySpan<int> source, Span<int> target, Span<int> lengths, Span<float> scores)
    {
        _decoding.CheckBeam(target, nameof(target), lengths, scores, "results");
        Start(source, out TModel state, _decoding.Logits);
        return _decoding.DecodeBeam(state, target, lengths, scores);
    }
}
