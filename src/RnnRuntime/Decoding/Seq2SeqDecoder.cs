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
    private readonly BeamSearch<TModel> _beam;
    private readonly float[] _logits;        // (V,)
    private readonly int[] _resultTokens;    // (MaxResults, MaxLength)
    private readonly int[] _resultLengths;   // (MaxResults,)

    /// <summary>A decoder writing at most <paramref name="maxLength"/> target tokens per source.</summary>
    /// <param name="maxLength">Most target tokens (the stop token not counted); ≥ 1.</param>
    /// <param name="beamWidth">Hypotheses kept after each step by <see cref="DecodeBeam"/>.</param>
    /// <param name="maxResults">Most results <see cref="DecodeBeam"/> returns.</param>
    public Seq2SeqDecoder(int maxLength, int beamWidth = 3, int maxResults = 3)
    {
        if (maxLength < 1)
        {
            ThrowHelper.OutOfRange(nameof(maxLength), maxLength, "maxLength must be ≥ 1.");
        }

        BeamSearch<TModel>.CheckModel();
        int v = TModel.OutputSize;
        if ((uint)TModel.StartToken >= (uint)v || (uint)TModel.StopToken >= (uint)v)
        {
            ThrowHelper.Argument(nameof(TModel), $"{typeof(TModel).Name} needs start and stop token ids in [0, {v}) (has {TModel.StartToken} and {TModel.StopToken}).");
        }

        MaxLength = maxLength;
        _beam = new BeamSearch<TModel>(beamWidth, maxLength, maxResults);
        _beam.SetStopToken(TModel.StopToken);
        _logits = new float[v];
        _resultTokens = new int[maxResults * maxLength];
        _resultLengths = new int[maxResults];
    }

    /// <summary>Most target tokens in a result (the stop token not counted).</summary>
    public int MaxLength { get; }

    /// <summary>Hypotheses the beam search keeps after each step.</summary>
    public int BeamWidth => _beam.BeamWidth;

    /// <summary>Most results <see cref="DecodeBeam"/> returns.</summary>
    public int MaxResults => _beam.MaxResults;

    /// <summary>α of the beam search's length normalization (score = log P / len^α, len counting the stop token).</summary>
    public float LengthPenalty
    {
        get => _beam.LengthPenalty;
        set => _beam.LengthPenalty = value;
    }

    /// <summary>Encodes <paramref name="source"/> into a fresh model, then steps it on the start token; <paramref name="logits"/> gets the first target token's logits.</summary>
    /// <param name="source">Source token ids.</param>
    /// <param name="state">The decoder, ready for the second target token.</param>
    /// <param name="logits">Exactly OutputSize floats.</param>
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
    public int DecodeGreedy(ReadOnlySpan<int> source, Span<int> target)
    {
        if (target.Length < MaxLength)
        {
            ThrowHelper.TooShort(nameof(target), target.Length, MaxLength);
        }

        Start(source, out TModel state, _logits);
        int stop = TModel.StopToken;
        for (int i = 0; i < MaxLength; i++)
        {
            int token = Softmax.ArgMax(_logits);
            if (token == stop)
            {
                return i;
            }

            target[i] = token;
            if (i + 1 < MaxLength)
            {
                state.Step(token, _logits);
            }
        }

        return MaxLength;
    }

    /// <summary>
    /// Beam-search results, best first: result r is <c>target[r * MaxLength ..][..lengths[r]]</c> (no start/stop), its
    /// score in <c>scores[r]</c>; n = scores.Length ≤ MaxResults. Returns the count found.
    /// </summary>
    /// <param name="source">Source token ids.</param>
    /// <param name="target">At least <c>scores.Length * MaxLength</c> ids.</param>
    /// <param name="lengths">At least <c>scores.Length</c> lengths.</param>
    /// <param name="scores">One score per result wanted.</param>
    public int DecodeBeam(ReadOnlySpan<int> source, Span<int> target, Span<int> lengths, Span<float> scores)
    {
        int n = scores.Length;
        if (n < 1 || n > MaxResults)
        {
            ThrowHelper.Argument(nameof(scores), $"scores has {n} elements; the number of results must be in [1, {MaxResults}].");
        }

        if (lengths.Length < n)
        {
            ThrowHelper.TooShort(nameof(lengths), lengths.Length, n);
        }

        if (target.Length < n * MaxLength)
        {
            ThrowHelper.TooShort(nameof(target), target.Length, n * MaxLength);
        }

        Start(source, out TModel state, _logits);
        int found = _beam.Search(state, _logits, _resultTokens, _resultLengths.AsSpan(0, n), scores);
        for (int r = 0; r < found; r++)
        {
            ReadOnlySpan<int> tokens = _resultTokens.AsSpan(r * MaxLength, _resultLengths[r]);
            int length = tokens.Length > 0 && tokens[^1] == TModel.StopToken ? tokens.Length - 1 : tokens.Length;
            tokens[..length].CopyTo(target.Slice(r * MaxLength, length));
            lengths[r] = length;
        }

        return found;
    }
}
