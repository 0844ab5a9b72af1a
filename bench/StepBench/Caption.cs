using Bench;
using Bench.Before;
using RnnEmbedded.Runtime;

/// <summary>
/// Caption beam-3 decoding (the shipped toy-shapes caption model, GRU H=128) with the batched step against the
/// same decoder stepping each hypothesis alone, as before the batched step (issue 12's target: ≥ 2× faster). The
/// "alone" decoder runs the same generated model through <see cref="OneByOne{TModel}"/>, whose batched Step is the
/// interface's looping default, so both decode the same captions in the same run; thread CPU time, median of 7.
/// A third decoder is the code before issue 12 as a whole: c424011's start (the full image step on a zero state, output
/// included) and its frozen beam search (bench/StepBench/Before) over the same one-by-one model — its captions and
/// scores must equal the "alone" decoder's bit for bit, and "before / batched" is the figure issue 12's target names.
/// </summary>
internal static class Caption
{
    public static void Run(int images)
    {
        const int MaxLength = 16;
        var batched = new CaptionDecoder<ToyCaption>(MaxLength, beamWidth: 3, maxResults: 3);
        var alone = new CaptionDecoder<OneByOne<ToyCaption>>(MaxLength, beamWidth: 3, maxResults: 3);
        var random = new Random(12);
        float[][] features = Enumerable.Range(0, images)
            .Select(_ => Enumerable.Range(0, ToyCaption.ImageFeatureSize).Select(_ => (float)random.NextDouble()).ToArray())
            .ToArray();
        int[] words = new int[3 * MaxLength], wordsAlone = new int[3 * MaxLength];
        int[] lengths = new int[3], lengthsAlone = new int[3];
        float[] scores = new float[3], scoresAlone = new float[3];
        var before = new BeamSearchBefore<OneByOne<ToyCaption>>(3, MaxLength, 3);
        before.SetStopToken(ToyCaption.StopToken);
        float[] logitsBefore = new float[ToyCaption.OutputSize];
        int[] tokensBefore = new int[3 * MaxLength], lengthsBefore = new int[3];
        float[] scoresBefore = new float[3];
        int totalWords = 0;
        foreach (float[] f in features)
        {
            int n = batched.DecodeBeam(f, words, lengths, scores);
            int m = alone.DecodeBeam(f, wordsAlone, lengthsAlone, scoresAlone);
            if (n != m || !words.AsSpan().SequenceEqual(wordsAlone) || !lengths.AsSpan().SequenceEqual(lengthsAlone))
            {
                throw new InvalidOperationException("the batched and the one-by-one decoder found different captions");
            }

            int k = DecodeBefore(before, f, logitsBefore, tokensBefore, lengthsBefore, scoresBefore);
            for (int r = 0; r < k; r++)
            {
                ReadOnlySpan<int> tokens = tokensBefore.AsSpan(r * MaxLength, lengthsBefore[r]);
                int length = tokens.Length > 0 && tokens[^1] == ToyCaption.StopToken ? tokens.Length - 1 : tokens.Length;
                if (k != m || length != lengthsAlone[r] || !tokens[..length].SequenceEqual(wordsAlone.AsSpan(r * MaxLength, length)) ||
                    BitConverter.SingleToInt32Bits(scoresBefore[r]) != BitConverter.SingleToInt32Bits(scoresAlone[r]))
                {
                    throw new InvalidOperationException("today's beam search over single steps and c424011's differ");
                }
            }

            totalWords += lengths[0];
        }

        var tBatched = new double[7];
        var tAlone = new double[7];
        var tBefore = new double[7];
        for (int r = -1; r < tBatched.Length; r++)
        {
            long t0 = ThreadClock.Now();
            foreach (float[] f in features)
            {
                alone.DecodeBeam(f, wordsAlone, lengthsAlone, scoresAlone);
            }

            long t1 = ThreadClock.Now();
            foreach (float[] f in features)
            {
                batched.DecodeBeam(f, words, lengths, scores);
            }

            long t2 = ThreadClock.Now();
            foreach (float[] f in features)
            {
                DecodeBefore(before, f, logitsBefore, tokensBefore, lengthsBefore, scoresBefore);
            }

            long t3 = ThreadClock.Now();
            if (r >= 0)
            {
                tAlone[r] = (t1 - t0) / 1000.0 / images;
                tBatched[r] = (t2 - t1) / 1000.0 / images;
                tBefore[r] = (t3 - t2) / 1000.0 / images;
            }
        }

        Array.Sort(tAlone);
        Array.Sort(tBatched);
        Array.Sort(tBefore);
        string clock = ThreadClock.IsThreadTime ? "thread CPU time" : "wall";
        string weights = ToyCaption.WeightsAddress() % 64 == 0 ? "64-byte aligned" : "in place, misaligned";
        Console.WriteLine(FormattableString.Invariant(
            $"caption beam-3 (toy-shapes GRU, {images} images, mean best length {totalWords / (double)images:F1}; clock: {clock}; weights {weights}, {ToyCaption.WeightsAddress() % 64} bytes past a 64-byte boundary):"));
        Console.WriteLine(FormattableString.Invariant(
            $"  before issue 12 (c424011 beam, one by one) {tBefore[3]:F1} us/caption, one by one {tAlone[3]:F1}, batched {tBatched[3]:F1}; before / batched {tBefore[3] / tBatched[3]:F2}× (target ≥ 2×), one by one / batched {tAlone[3] / tBatched[3]:F2}×"));
    }

    // c424011's caption decoding: its CaptionDecoder.Start (the full image step on a zero state, output included, then
    // <start>), then its beam search.
    private static int DecodeBefore(
        BeamSearchBefore<OneByOne<ToyCaption>> search, float[] features, float[] logits, int[] tokens, int[] lengths, float[] scores)
    {
        OneByOne<ToyCaption> state = default;
        state.StepImage(features, logits);
        state.Step(ToyCaption.StartToken, logits);
        return search.Search(state, logits, tokens, lengths, scores);
    }
}

/// <summary>
/// A generated caption model whose batched Step is the interface default: each model stepped alone (its StartImage is
/// the model's own, so it differs from the batched decoder only in the beam's steps).
/// </summary>
internal struct OneByOne<TModel> : ICaptionModel<OneByOne<TModel>>, IVocabularyModel<OneByOne<TModel>>
    where TModel : struct, ICaptionModel<TModel>, IVocabularyModel<TModel>
{
    private TModel _model;

    public static int InputSize => TModel.InputSize;

    public static int OutputSize => TModel.OutputSize;

    public static ModelTask Task => TModel.Task;

    public static int ImageFeatureSize => TModel.ImageFeatureSize;

    public static ModelVocabularyKind VocabularyKind => TModel.VocabularyKind;

    public static ReadOnlySpan<char> VocabularyText => TModel.VocabularyText;

    public static ReadOnlySpan<int> VocabularyOffsets => TModel.VocabularyOffsets;

    public static int StartToken => TModel.StartToken;

    public static int StopToken => TModel.StopToken;

    public static int UnknownToken => TModel.UnknownToken;

    public void Reset() => _model.Reset();

    public void Step(int token, Span<float> output) => _model.Step(token, output);

    public void StepImage(ReadOnlySpan<float> features, Span<float> output) => _model.StepImage(features, output);

    public static void StartImage(ReadOnlySpan<float> features, out OneByOne<TModel> state)
    {
        state = default;
        TModel.StartImage(features, out state._model);
    }
}
