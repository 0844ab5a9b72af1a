using System.Runtime.CompilerServices;

namespace RnnEmbedded.Runtime;

/// <summary>
/// Show-and-Tell caption decoding (Vinyals et al. 2015): the model first steps on the image feature vector
/// (<see cref="ICaptionModel{TSelf}.StartImage"/>: StepImage from the zero state, output not computed), then on
/// &lt;start&gt;; from there each step's logits choose the next word, until &lt;stop&gt; or <see cref="MaxLength"/> words.
/// Greedy or beam search.
/// In beam search <see cref="MaxLength"/> counts tokens with &lt;stop&gt; included (the <see cref="BeamSearch{TModel}"/>
/// rule): a caption that has not stopped after MaxLength words is complete as it is (truncated, scored without
/// &lt;stop&gt;); greedy decoding likewise returns at most MaxLength words.
/// Buffers are allocated in the constructor; decoding allocates nothing. Not thread-safe.
/// </summary>
public sealed class CaptionDecoder<TModel>
    where TModel : struct, ICaptionModel<TModel>, IVocabularyModel<TModel>
{
    private readonly StartStopDecoding<TModel> _decoding;

    /// <summary>A decoder writing at most <paramref name="maxLength"/> words per caption.</summary>
    public CaptionDecoder(int maxLength, int beamWidth = 3, int maxResults = 3) =>
        _decoding = new StartStopDecoding<TModel>(maxLength, beamWidth, maxResults, TModel.StartToken, TModel.StopToken, "<start> and <stop>");

    /// <summary>Most words in a caption (the stop token not counted).</summary>
    public int MaxLength => _decoding.MaxLength;

    /// <summary>Hypotheses the beam search keeps after each step.</summary>
    public int BeamWidth => _decoding.Search.BeamWidth;

    /// <summary>Most captions <see cref="DecodeBeam"/> returns.</summary>
    public int MaxResults => _decoding.Search.MaxResults;

    /// <summary>α of the beam search's length normalization (score = log P / len^α, len counting &lt;stop&gt;).</summary>
    public float LengthPenalty
    {
        get => _decoding.Search.LengthPenalty;
        set => _decoding.Search.LengthPenalty = value;
    }

    /// <summary>
    /// Steps a zero-state model on the image (<see cref="ICaptionModel{TSelf}.StartImage"/>: its output is not computed),
    /// then on &lt;start&gt;; <paramref name="logits"/> gets the first word's logits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

        TModel.StartImage(features, out state);
        state.Step(TModel.StartToken, logits);
    }

    /// <summary>Greedy caption: the most probable word at each step. Writes word ids (no start/stop) into <paramref name="words"/>; returns the count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int DecodeGreedy(ReadOnlySpan<float> features, Span<int> words)
    {
        _decoding.CheckGreedy(words, nameof(words));
        Start(features, out TModel state, _decoding.Logits);
        return _decoding.DecodeGreedy(ref state, words);
    }

    /// <summary>
    /// Beam-search captions, best first: caption r is <c>words[r * MaxLength ..][..lengths[r]]</c> (no start/stop), its
    /// score in <c>scores[r]</c>; n = scores.Length ≤ MaxResults. Returns the count found.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int DecodeBeam(ReadOnlySpan<float> features, Span<int> words, Span<int> lengths, Span<float> scores)
    {
        _decoding.CheckBeam(words, nameof(words), lengths, scores, "captions");
        Start(features, out TModel state, _decoding.Logits);
        return _decoding.DecodeBeam(state, words, lengths, scores);
    }
}
