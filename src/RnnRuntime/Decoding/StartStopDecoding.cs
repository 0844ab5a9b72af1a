using System.Runtime.CompilerServices;

namespace RnnEmbedded.Runtime;

/// <summary>
/// The greedy and beam drivers that <see cref="CaptionDecoder{TModel}"/> and <see cref="Seq2SeqDecoder{TModel}"/>
/// share once their model is primed (after the image or the source, and the start token): each step's logits choose
/// the next token until the model's stop token or <see cref="MaxLength"/> tokens. Owns the beam search and the
/// buffers (allocated here, once); decoding allocates nothing. Not thread-safe.
/// </summary>
internal sealed class StartStopDecoding<TModel>
    where TModel : struct, ITokenModel<TModel>
{
    private readonly BeamSearch<TModel> _beam;
    private readonly int _stopToken;
    private readonly int[] _resultTokens;    // (MaxResults, MaxLength)
    private readonly int[] _resultLengths;   // (MaxResults,)

    /// <param name="maxLength">Most tokens per result, the stop token not counted; ≥ 1.</param>
    /// <param name="beamWidth">Hypotheses kept after each step.</param>
    /// <param name="maxResults">Most results a beam decoding returns.</param>
    /// <param name="startToken">The model's start token id, checked to be in [0, V).</param>
    /// <param name="stopToken">The model's stop token id, checked to be in [0, V).</param>
    /// <param name="tokenNames">How the model's documentation names the two tokens ("&lt;start&gt; and &lt;stop&gt;"), for the error message.</param>
    public StartStopDecoding(int maxLength, int beamWidth, int maxResults, int startToken, int stopToken, string tokenNames)
    {
        if (maxLength < 1)
        {
            ThrowHelper.OutOfRange(nameof(maxLength), maxLength, "maxLength must be ≥ 1.");
        }

        BeamSearch<TModel>.CheckModel();
        int v = TModel.OutputSize;
        if ((uint)startToken >= (uint)v || (uint)stopToken >= (uint)v)
        {
            ThrowHelper.Argument(nameof(TModel), $"{typeof(TModel).Name} needs {tokenNames} token ids in [0, {v}) (has {startToken} and {stopToken}).");
        }

        MaxLength = maxLength;
        _stopToken = stopToken;
        _beam = new BeamSearch<TModel>(beamWidth, maxLength, maxResults);
        _beam.SetStopToken(stopToken);
        Logits = new float[v];
        _resultTokens = new int[maxResults * maxLength];
        _resultLengths = new int[maxResults];
    }

    /// <summary>Most tokens in a result (the stop token not counted).</summary>
    public int MaxLength { get; }

    /// <summary>The beam search (its width, result count and length penalty).</summary>
    public BeamSearch<TModel> Search => _beam;

    /// <summary>(V,) The primed model's logits: the caller's start step writes them here.</summary>
    public float[] Logits { get; }

    /// <summary>Checks a greedy call's output span before the caller primes its model.</summary>
    public void CheckGreedy(Span<int> output, string outputName)
    {
        if (output.Length < MaxLength)
        {
            ThrowHelper.TooShort(outputName, output.Length, MaxLength);
        }
    }

    /// <summary>Checks a beam call's spans before the caller primes its model.</summary>
    public void CheckBeam(Span<int> output, string outputName, Span<int> lengths, Span<float> scores, string resultNoun)
    {
        int n = scores.Length;
        if (n < 1 || n > _beam.MaxResults)
        {
            ThrowHelper.Argument(nameof(scores), $"scores has {n} elements; the number of {resultNoun} must be in [1, {_beam.MaxResults}].");
        }

        if (lengths.Length < n)
        {
            ThrowHelper.TooShort(nameof(lengths), lengths.Length, n);
        }

        if (output.Length < n * MaxLength)
        {
            ThrowHelper.TooShort(outputName, output.Length, n * MaxLength);
        }
    }

    /// <summary>
    /// Greedy decoding from <paramref name="state"/>, whose last step wrote <see cref="Logits"/>: the most probable
    /// token each step until the stop token or MaxLength tokens. Writes the tokens (no stop) and returns their count.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int DecodeGreedy(ref TModel state, Span<int> output)
    {
        float[] logits = Logits;
        for (int i = 0; i < MaxLength; i++)
        {
            int token = Softmax.ArgMax(logits);
            if (token == _stopToken)
            {
                return i;
            }

            output[i] = token;
            if (i + 1 < MaxLength)
            {
                state.Step(token, logits);
            }
        }

        return MaxLength;
    }

    /// <summary>
    /// Beam search from <paramref name="state"/>, whose last step wrote <see cref="Logits"/>. Result r goes to
    /// <c>output[r * MaxLength ..][..lengths[r]]</c> without its stop token, its score to <c>scores[r]</c>; returns the
    /// count found. The spans were checked by <see cref="CheckBeam"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int DecodeBeam(in TModel state, Span<int> output, Span<int> lengths, Span<float> scores)
    {
        int n = scores.Length;
        int found = _beam.Search(state, Logits, _resultTokens, _resultLengths.AsSpan(0, n), scores);
        for (int r = 0; r < found; r++)
        {
            ReadOnlySpan<int> tokens = _resultTokens.AsSpan(r * MaxLength, _resultLengths[r]);
            int length = tokens.Length > 0 && tokens[^1] == _stopToken ? tokens.Length - 1 : tokens.Length;
            tokens[..length].CopyTo(output.Slice(r * MaxLength, length));
            lengths[r] = length;
        }

        return found;
    }
}
