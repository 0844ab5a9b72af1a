using RnnEmbedded.Runtime;

namespace RnnEmbedded.Tests.Decoding;

public class TextGeneratorTests
{
    private static readonly CharVocabulary s_vocabulary = CharVocabulary.FromModel<TinyCharModel>();

    private struct CollectingSink : ITokenSink
    {
        public int[] Tokens;
        public int Count;
        public int StopAfter;

        public bool OnToken(int token)
        {
            Tokens[Count++] = token;
            return Count < StopAfter;
        }
    }

    [Fact]
    public void Greedy_FollowsTheArgMaxChain()
    {
        var generator = new TextGenerator<TinyCharModel>(SamplingOptions.Greedy);
        generator.PrimeText("ab", s_vocabulary);
        var tokens = new int[12];
        Assert.Equal(12, generator.Generate(tokens));

        var model = default(TinyCharModel);
        var logits = new float[TinyCharModel.V];
        model.Step(0, logits);
        model.Step(1, logits);
        for (int i = 0; i < 12; i++)
        {
            int t = Softmax.ArgMax(logits);
            Assert.Equal(t, tokens[i]);
            model.Step(t, logits);
        }

        Assert.Equal(TinyNet.Bytes(model), TinyNet.Bytes(generator.Model));
    }

    [Fact]
    public void StopToken_EndsGeneration_AndIsNotEmitted()
    {
        // Bigram greedy chain from token 0: 1, 2, then the stop token 3.
        var generator = new TextGenerator<BigramModel>(SamplingOptions.Greedy);
        generator.Prime(0);
        var tokens = new int[10];
        Assert.Equal(2, generator.Generate(tokens, stopToken: BigramModel.StopToken));
        Assert.Equal([1, 2], tokens[..2]);
    }

    [Fact]
    public void SinkAndBuffer_ReceiveTheSameTokens_ForTheSameSeed()
    {
        var options = new SamplingOptions { Seed = 77, Temperature = 0.9f, TopK = 5 };
        var a = new TextGenerator<TinyCharModel>(options);
        var b = new TextGenerator<TinyCharModel>(options);
        a.PrimeText("ca", s_vocabulary);
        b.PrimeText("ca", s_vocabulary);
        var buffer = new int[40];
        a.Generate(buffer);
        var sink = new CollectingSink { Tokens = new int[40], StopAfter = int.MaxValue };
        Assert.Equal(40, b.Generate(40, ref sink));
        Assert.Equal(buffer, sink.Tokens);
    }

    [Fact]
    public void Sink_CanStopGeneration()
    {
        var generator = new TextGenerator<TinyCharModel>(new SamplingOptions { Seed = 1 });
        generator.Prime(0);
        var sink = new CollectingSink { Tokens = new int[10], StopAfter = 3 };
        Assert.Equal(3, generator.Generate(10, ref sink));
        Assert.Equal(3, sink.Count);
    }

    [Fact]
    public void DifferentSeeds_GiveDifferentText_SameSeedSameText()
    {
        string Run(ulong seed)
        {
            var generator = new TextGenerator<TinyCharModel>(new SamplingOptions { Seed = seed });
            generator.PrimeText("a", s_vocabulary);
            var text = new char[64];
            return new string(text, 0, generator.GenerateText(text, s_vocabulary));
        }

        Assert.Equal(Run(5), Run(5));
        Assert.NotEqual(Run(5), Run(6));
    }

    [Fact]
    public void PrimeWords_StepsStartThenWordIds()
    {
        WordVocabulary vocabulary = WordVocabulary.FromModel<TinyCaptionModel>();
        var generator = new TextGenerator<TinyCaptionModel>(SamplingOptions.Greedy);
        generator.PrimeWords("a Cat zebra", vocabulary);
        var model = default(TinyCaptionModel);
        var logits = new float[TinyCaptionModel.V];
        foreach (int t in new[] { 0, 3, 4, 2 })
        {
            model.Step(t, logits);
        }

        Assert.Equal(TinyNet.Bytes(model), TinyNet.Bytes(generator.Model));
        Assert.Equal(logits, generator.Logits.ToArray());

        var text = new char[64];
        int written = generator.GenerateWords(text, vocabulary, maxWords: 5, out int words);
        Assert.InRange(words, 0, 5);
        string generated = new(text, 0, written);
        Assert.DoesNotContain("<stop>", generated);
        Assert.DoesNotContain("<start>", generated);
    }

    [Fact]
    public void PromptTokens_CountForTheRepetitionPenalty()
    {
        // Bigram row 0 is [0.1, 2.0, 0.5, -1.0]: greedy picks 1 unless 1 was seen recently.
        var plain = new TextGenerator<BigramModel>(SamplingOptions.Greedy);
        plain.Prime(0);
        Assert.Equal(1, plain.Next());

        var penalized = new TextGenerator<BigramModel>(new SamplingOptions { Temperature = 0f, RepetitionPenalty = 10f });
        penalized.Prime([1, 0]);
        Assert.Equal(2, penalized.Next()); // 2.0 / 10 = 0.2 < 0.5
    }

    [Fact]
    public void Generate_BeforePriming_Throws()
    {
        var generator = new TextGenerator<TinyCharModel>();
        Assert.Throws<InvalidOperationException>(() => generator.Generate(new int[3]));
        generator.Prime(1);
        generator.Reset();
        Assert.False(generator.IsPrimed);
        Assert.Throws<InvalidOperationException>(() => generator.Next());
        Assert.Equal("token", Assert.Throws<ArgumentOutOfRangeException>(() => generator.Prime(6)).ParamName);
    }

    [Fact]
    public void Generation_AllocatesNothingPerToken_AfterWarmUp()
    {
        var options = new SamplingOptions { Seed = 3, Temperature = 0.8f, TopK = 4, TopP = 0.9f, RepetitionPenalty = 1.2f };
        var generator = new TextGenerator<TinyCharModel>(options);
        generator.PrimeText("ab c", s_vocabulary);
        var tokens = new int[64];
        var text = new char[64];
        var sink = new CollectingSink { Tokens = new int[64], StopAfter = int.MaxValue };
        generator.Generate(tokens);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            generator.Generate(tokens);
            generator.GenerateText(text, s_vocabulary);
            sink.Count = 0;
            generator.Generate(64, ref sink);
            generator.PrimeText("ba", s_vocabulary);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

public class CaptionDecoderTests
{
    private static readonly float[] s_features = [0.3f, -1.2f, 0.8f];

    [Fact]
    public void StartImage_Default_IsStepImageOnTheZeroState()
    {
        // A hand-written model gets ICaptionModel's default StartImage: StepImage on default, output discarded.
        StartImage(s_features, out TinyCaptionModel started);
        var stepped = default(TinyCaptionModel);
        stepped.StepImage(s_features, new float[TinyCaptionModel.V]);
        var a = new float[TinyCaptionModel.V];
        var b = new float[TinyCaptionModel.V];
        started.Step(TinyCaptionModel.StartToken, a);
        stepped.Step(TinyCaptionModel.StartToken, b);
        Assert.Equal(b.Select(BitConverter.SingleToInt32Bits), a.Select(BitConverter.SingleToInt32Bits));
        var fresh = default(TinyCaptionModel);
        var c = new float[TinyCaptionModel.V];
        fresh.Step(TinyCaptionModel.StartToken, c);
        Assert.NotEqual(c, a); // the image step moved the state away from the zero state
        Assert.Throws<ArgumentException>(() => StartImage(new float[s_features.Length + 1], out TinyCaptionModel _));
    }

    // The interface's default is reached through the type parameter (a static virtual member).
    private static void StartImage<TModel>(ReadOnlySpan<float> features, out TModel state)
        where TModel : struct, ICaptionModel<TModel> => TModel.StartImage(features, out state);

    [Fact]
    public void Greedy_MatchesTheArgMaxChainAfterImageAndStart()
    {
        var decoder = new CaptionDecoder<TinyCaptionModel>(maxLength: 8);
        var words = new int[8];
        int n = decoder.DecodeGreedy(s_features, words);

        var model = default(TinyCaptionModel);
        var logits = new float[TinyCaptionModel.V];
        model.StepImage(s_features, logits);
        model.Step(TinyCaptionModel.StartToken, logits);
        var expected = new List<int>();
        for (int i = 0; i < 8; i++)
        {
            int t = Softmax.ArgMax(logits);
            if (t == TinyCaptionModel.StopToken)
            {
                break;
            }

            expected.Add(t);
            model.Step(t, logits);
        }

        Assert.Equal(expected, words[..n]);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.7f)]
    public void WideBeam_EqualsExhaustiveSearchOverCaptions(float alpha)
    {
        const int maxWords = 3;
        const int n = 4;

        // 5 non-stop words, at most 3 tokens (<stop> counted): at most 25 partial hypotheses.
        var decoder = new CaptionDecoder<TinyCaptionModel>(maxWords, beamWidth: 25, maxResults: n) { LengthPenalty = alpha };
        var words = new int[n * maxWords];
        var lengths = new int[n];
        var scores = new float[n];
        Assert.Equal(n, decoder.DecodeBeam(s_features, words, lengths, scores));

        var logits = new float[TinyCaptionModel.V];
        CaptionDecoder<TinyCaptionModel>.Start(s_features, out TinyCaptionModel state, logits);
        List<Exhaustive.Hypothesis> expected = Exhaustive.Search(state, logits, maxWords, t => t == TinyCaptionModel.StopToken, 0, alpha);
        for (int r = 0; r < n; r++)
        {
            int[] tokens = expected[r].Tokens;
            int[] caption = tokens[^1] == TinyCaptionModel.StopToken ? tokens[..^1] : tokens;
            Assert.Equal(caption, words.AsSpan(r * maxWords, lengths[r]).ToArray());
            Assert.InRange(scores[r], expected[r].Score - 1e-4, expected[r].Score + 1e-4);
        }
    }

    [Fact]
    public void BeamDecoding_AllocatesNothing_AfterWarmUp()
    {
        var decoder = new CaptionDecoder<TinyCaptionModel>(6, beamWidth: 3, maxResults: 2);
        var words = new int[12];
        var lengths = new int[2];
        var scores = new float[2];
        decoder.DecodeBeam(s_features, words, lengths, scores);
        decoder.DecodeGreedy(s_features, words);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++)
        {
            decoder.DecodeBeam(s_features, words, lengths, scores);
            decoder.DecodeGreedy(s_features, words);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void BadArguments_AreRejected_NamingThem()
    {
        var decoder = new CaptionDecoder<TinyCaptionModel>(4, beamWidth: 2, maxResults: 2);
        Assert.Equal("features", Assert.Throws<ArgumentException>(() => decoder.DecodeGreedy(new float[2], new int[4])).ParamName);
        Assert.Equal("words", Assert.Throws<ArgumentException>(() => decoder.DecodeGreedy(s_features, new int[3])).ParamName);
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => decoder.DecodeBeam(s_features, new int[12], new int[3], new float[3])).ParamName);
        Assert.Equal("words", Assert.Throws<ArgumentException>(() => decoder.DecodeBeam(s_features, new int[7], new int[2], new float[2])).ParamName);
        Assert.Equal("maxLength", Assert.Throws<ArgumentOutOfRangeException>(() => new CaptionDecoder<TinyCaptionModel>(0)).ParamName);
    }
}

public class EvaluationTests
{
    [Fact]
    public void UniformModel_HasPerplexityV_AndLog2VBits()
    {
        var model = default(UniformModel);
        EvaluationResult result = Evaluation.Evaluate(ref model, [0, 1, 2, 3, 4, 0, 1], new float[UniformModel.V]);
        Assert.Equal(6, result.Count);
        Assert.InRange(result.MeanCrossEntropy, Math.Log(5) - 1e-6, Math.Log(5) + 1e-6);
        Assert.InRange(result.Perplexity, 5 - 1e-5, 5 + 1e-5);
        Assert.InRange(result.BitsPerToken, Math.Log2(5) - 1e-6, Math.Log2(5) + 1e-6);
    }

    [Fact]
    public void Evaluate_EqualsTheMeanOfNegativeLogSoftmax()
    {
        int[] tokens = [0, 1, 3, 2, 2, 5, 4, 0];
        var model = default(TinyCharModel);
        EvaluationResult result = Evaluation.Evaluate(ref model, tokens, new float[TinyCharModel.V]);

        var reference = default(TinyCharModel);
        var logits = new float[TinyCharModel.V];
        double total = 0;
        for (int i = 0; i + 1 < tokens.Length; i++)
        {
            reference.Step(tokens[i], logits);
            double max = logits.Max();
            double lse = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
            total += lse - logits[tokens[i + 1]];
        }

        double mean = total / (tokens.Length - 1);
        Assert.InRange(result.MeanCrossEntropy, mean - 1e-5, mean + 1e-5);
        Assert.InRange(result.BitsPerToken, (mean / Math.Log(2)) - 1e-5, (mean / Math.Log(2)) + 1e-5);
        Assert.Equal(TinyNet.Bytes(reference), TinyNet.Bytes(model));
    }

    [Fact]
    public void Evaluate_RejectsShortStreamsAndBadTokens()
    {
        var model = default(TinyCharModel);
        Assert.Equal("tokens", Assert.Throws<ArgumentException>(() => Evaluation.Evaluate(ref model, [1], new float[6])).ParamName);
        Assert.Equal("logits", Assert.Throws<ArgumentException>(() => Evaluation.Evaluate(ref model, [1, 2], new float[5])).ParamName);
        Assert.Equal("tokens", Assert.Throws<ArgumentOutOfRangeException>(() => Evaluation.Evaluate(ref model, [7, 2], new float[6])).ParamName);
        Assert.Equal("target", Assert.Throws<ArgumentOutOfRangeException>(() => Evaluation.CrossEntropy(new float[3], 3)).ParamName);
    }
}
