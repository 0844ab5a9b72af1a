namespace RnnEmbedded.Runtime;

/// <summary>
/// Show-and-Tell caption decoding (Vinyals et al. 2015): the model first steps on the image feature vector
/// (<see cref="ICaptionModel{TSelf}.StepImage"/>, output ignored), then on &lt;start&gt;; from there each step's logits
/// choose the next word, until &lt;stop&gt; or <see cref="MaxLength"/> words. Greedy or beam search.
/// In beam search <see cref="MaxLength"/> counts tokens with &lt;stop&gt; included (the <see cref="BeamSearch{TModel}"/>
/// rule): a caption that has not stopped after MaxLength words is complete as it is (truncated, scored without
/// &lt;stop&gt;); greedy decoding likewise returns at most MaxLength words.
/// Buffers are allocated in the constructor; decoding allocates nothing. Not thread-safe.
/// </summary>
public sealed class CaptionDecoder<TModel>
    where TModel : struct, ICaptionModel<TModel>, IVocabularyModel<TModel>
{
    private readonly BeamSearch<TModel> _beam;
    private readonly float[] _logits;        // (V,)
    private readonly int[] _resultTokens;    // (MaxResults, MaxLength)
    private readonly int[] _resultLengths;   // (MaxResults,)

    /// <summary>A decoder writing at most <paramref name="maxLength"/> words per caption.</summary>
    public CaptionDecoder(int maxLength, int beamWidth = 3, int maxResults = 3)
    {
        if (maxLength < 1)
        {
            ThrowHelper.OutOfRange(nameof(maxLength), maxLength, "maxLength must be ≥ 1.");
        }

        BeamSearch<TModel>.CheckModel();
        int v = TModel.OutputSize;
        if ((uint)TModel.StartToken >= (uint)v || (uint)TModel.StopToken >= (uint)v)
        {
            ThrowHelper.Argument(nameof(TModel), $"{typeof(TModel).Name} needs <start> and <stop> token ids in [0, {v}) (has {TModel.StartToken} and {TModel.StopToken}).");
        }

        MaxLength = maxLength;
        _beam = new BeamSearch<TModel>(beamWidth, maxLength, maxResults);
        _beam.SetStopToken(TModel.StopToken);
        _logits = new float[v];
        _resultTokens = new int[maxResults * maxLength];
        _resultLengths = new int[maxResults];
    }

    /// <summary>Most words in a caption (the stop token not counted).</summary>
    public int MaxLength { get; }

    /// <summary>Hypotheses the beam search keeps after each step.</summary>
    public int BeamWidth => _beam.BeamWidth;

    /// <summary>Most captions <see cref="DecodeBeam"/> returns.</summary>
    public int MaxResults => _beam.MaxResults;

    /// <summary>α of the beam search's length normalization (score = log P / len^α, len counting &lt;stop&gt;).</summary>
    public float LengthPenalty
    {
        get => _beam.LengthPenalty;
        set => _beam.LengthPenalty = value;
    }

    /// <summary>Steps a zero-state model on the image, then on &lt;start&gt;; <paramref name="logits"/> gets the first word's logits.</summary>
    public static void Start(ReadOnlySpan<float> features, out TModel state, Span<float> logits)
    {
        if (features.Length != TModel.ImageFeatureSize)
        {
            ThrowHelper.Length(nameof(features), features.Length, TModel.ImageFeatureSize);
        }

        if (logits.Length != TModel.OutputSize)
        {
            ThrowHelper.Length(nameof(logits), logits.Length, TModel.OutputSize);
        }

        state = default;
        state.StepImage(features, logits);
        state.Step(TModel.StartToken, logits);
    }

    /// <summary>Greedy caption: the most probable word at each step. Writes word ids (no start/stop) into <paramref name="words"/>; returns the count.</summary>
    public int DecodeGreedy(ReadOnlySpan<float> features, Span<int> words)
    {
        if (words.Length < MaxLength)
        {
            ThrowHelper.TooShort(nameof(words), words.Length, MaxLength);
        }

        Start(features, out TModel state, _logits);
        int stop = TModel.StopToken;
        for (int i = 0; i < MaxLength; i++)
        {
            int word = Softmax.ArgMax(_logits);
            if (word == stop)
            {
                return i;
            }

            words[i] = word;
            if (i + 1 < MaxLength)
            {
                state.Step(word, _logits);
            }
        }

        return MaxLength;
    }

    /// <summary>
    /// Beam-search captions, best first: caption r is <c>words[r * MaxLength ..][..lengths[r]]</c> (no start/stop), its
    /// score in <c>scores[r]</c>; n = scores.Length ≤ MaxResults. Returns the count found.
    /// </summary>
    public int DecodeBeam(ReadOnlySpan<float> features, Span<int> words, Span<int> lengths, Span<float> scores)
    {
        int n = scores.Length;
        if (n < 1 || n > MaxResults)
        {
            ThrowHelper.Argument(nameof(scores), $"scores has {n} elements; the number of captions must be in [1, {MaxResults}].");
        }

        if (lengths.Length < n)
        {
            ThrowHelper.TooShort(nameof(lengths), lengths.Length, n);
        }

        if (words.Length < n * MaxLength)
        {
            ThrowHelper.TooShort(nameof(words), words.Length, n * MaxLength);
        }

        Start(features, out TModel state, _logits);
        int found = _beam.Search(state, _logits, _resultTokens, _resultLengths.AsSpan(0, n), scores);
        int stride = MaxLength;
        for (int r = 0; r < found; r++)
        {
            ReadOnlySpan<int> tokens = _resultTokens.AsSpan(r * stride, _resultLengths[r]);
            int length = tokens.Length > 0 && tokens[^1] == TModel.StopToken ? tokens.Length - 1 : tokens.Length;
            tokens[..length].CopyTo(words.Slice(r * MaxLength, length));
            lengths[r] = length;
        }

        return found;
    }
}
