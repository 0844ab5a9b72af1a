using Bench;
using RnnEmbedded.Runtime;

/// <summary>
/// Prints what the decoders return on the benchmarks' inputs — each keystroke's top-3 next characters and top-3
/// completions, each caption's beam-3 results — with every float as its bits, so two builds (e.g. before and after a
/// decoder change) can be diffed for identical results: <c>StepBench --dump-decoders &gt; a.txt</c>.
/// <c>StepBench --dump-decoders int8-dynamic</c>: the keystroke part on the KJV model with int8-dynamic weights (a
/// kernel change to the int8-dynamic products must keep these bits).
/// </summary>
internal static class Dump
{
    public static void Run(bool int8Dynamic = false)
    {
        if (int8Dynamic)
        {
            Keys<KjvCharInt8Dynamic>();
            return;
        }

        Keys<KjvChar>();
        Captions();
    }

    private static void Keys<TModel>()
        where TModel : struct, ITokenModel<TModel>, IVocabularyModel<TModel>
    {
        var options = new KeystrokeOptions { MaxCompletions = 3, CompletionBeamWidth = 4, MaxCompletionLength = 16 };
        var engine = new KeystrokeEngine<TModel>(CharVocabulary.FromModel<TModel>(UnknownCharPolicy.Skip), options);
        Span<char> nextChars = stackalloc char[3];
        Span<float> nextProbs = stackalloc float[3];
        Span<char> chars = stackalloc char[3 * engine.CompletionStride];
        Span<int> lengths = stackalloc int[3];
        Span<float> scores = stackalloc float[3];
        string text = Keystroke.Passage;
        for (int i = 0; i < text.Length; i++)
        {
            if (i % 17 == 16)
            {
                engine.Backspace();
            }
            else
            {
                engine.Type(text[i]);
            }

            int next = engine.TopNextChars(nextChars, nextProbs);
            int found = engine.Completions(chars, lengths, scores);
            var line = new System.Text.StringBuilder($"key {i}:");
            for (int r = 0; r < next; r++)
            {
                line.Append($" {nextChars[r]}={Bits(nextProbs[r])}");
            }

            line.Append(" |");
            for (int r = 0; r < found; r++)
            {
                line.Append($" {chars.Slice(r * engine.CompletionStride, lengths[r]).ToString()}={Bits(scores[r])}");
            }

            Console.WriteLine(line.ToString());
        }
    }

    private static void Captions()
    {
        const int MaxLength = 16;
        Span<int> lengths = stackalloc int[3];
        Span<float> scores = stackalloc float[3];
        var decoder = new CaptionDecoder<ToyCaption>(MaxLength, beamWidth: 3, maxResults: 3);
        var random = new Random(12);
        int[] words = new int[3 * MaxLength];
        float[] features = new float[ToyCaption.ImageFeatureSize];
        for (int image = 0; image < 300; image++)
        {
            for (int j = 0; j < features.Length; j++)
            {
                features[j] = (float)random.NextDouble();
            }

            int found = decoder.DecodeBeam(features, words, lengths, scores);
            var line = new System.Text.StringBuilder($"caption {image}:");
            for (int r = 0; r < found; r++)
            {
                line.Append($" [{string.Join(',', words.AsSpan(r * MaxLength, lengths[r]).ToArray())}]={Bits(scores[r])}");
            }

            Console.WriteLine(line.ToString());
        }
    }

    private static string Bits(float value) => BitConverter.SingleToInt32Bits(value).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
}
