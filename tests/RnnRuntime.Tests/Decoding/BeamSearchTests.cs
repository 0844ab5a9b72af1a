using RnnEmbedded.Runtime;

namespace RnnEmbedded.Tests.Decoding;

public class BeamSearchTests
{
    private const double ScoreTolerance = 1e-4;

    // TinyCharModel tokens: a b c ' ' '.' '\n'; the last three are stop tokens here.
    private static bool IsStop(int t) => t >= 3;

    private static (TinyCharModel State, float[] Logits) Primed(string text)
    {
        var vocabulary = CharVocabulary.FromModel<TinyCharModel>();
        var state = default(TinyCharModel);
        var logits = new float[TinyCharModel.V];
        foreach (char c in text)
        {
            state.Step(vocabulary.Map(c), logits);
        }

        return (state, logits);
    }

    private static BeamSearch<TinyCharModel> NewSearch(int width, int maxLength, int maxResults, float alpha = 0f, int minLength = 0)
    {
        var search = new BeamSearch<TinyCharModel>(width, maxLength, maxResults) { LengthPenalty = alpha, MinLength = minLength };
        search.AddStopToken(3);
        search.AddStopToken(4);
        search.AddStopToken(5);
        return search;
    }

    [Theory]
    [InlineData(0f, 0, "ab")]
    [InlineData(0.6f, 0, "c")]
    [InlineData(1f, 0, "a b")]
    [InlineData(0f, 2, "ba")]
    [InlineData(1.5f, 3, "\n")]
    public void WideBeam_EqualsExhaustiveSearch(float alpha, int minLength, string prompt)
    {
        const int maxLength = 4;
        const int n = 6;
        (TinyCharModel state, float[] logits) = Primed(prompt);

        // 3 non-stop tokens: at most 3^3 = 27 partial hypotheses at any depth, so width 27 prunes nothing.
        BeamSearch<TinyCharModel> search = NewSearch(27, maxLength, n, alpha, minLength);
        var tokens = new int[n * maxLength];
        var lengths = new int[n];
        var scores = new float[n];
        int found = search.Search(state, logits, tokens, lengths, scores);

        List<Exhaustive.Hypothesis> expected = Exhaustive.Search(state, logits, maxLength, IsStop, minLength, alpha);
        Assert.Equal(n, found);
        for (int r = 0; r < n; r++)
        {
            Assert.Equal(expected[r].Tokens, tokens.AsSpan(r * maxLength, lengths[r]).ToArray());
            Assert.InRange(scores[r], expected[r].Score - ScoreTolerance, expected[r].Score + ScoreTolerance);
            Assert.InRange(search.GetLogProbability(r), expected[r].LogProb - ScoreTolerance, expected[r].LogProb + ScoreTolerance);
        }
    }

    [Fact]
    public void NarrowBeam_WithoutLengthPenalty_StillFindsTheBestOnThisModel_AndNeverBeatsExhaustive()
    {
        (TinyCharModel state, float[] logits) = Primed("ab");
        List<Exhaustive.Hypothesis> expected = Exhaustive.Search(state, logits, 5, IsStop, 0, 0);
        foreach (int width in new[] { 1, 2, 3 })
        {
            BeamSearch<TinyCharModel> search = NewSearch(width, 5, 1);
            var tokens = new int[5];
            var lengths = new int[1];
            var scores = new float[1];
            Assert.Equal(1, search.Search(state, logits, tokens, lengths, scores));
            Assert.True(scores[0] <= expected[0].Score + ScoreTolerance);
        }
    }

    [Fact]
    public void WidthOne_ScoresAtLeastTheGreedyChain()
    {
        var search = new BeamSearch<BigramModel>(1, 6, 1);
        search.SetStopToken(BigramModel.StopToken);
        var state = default(BigramModel);
        var logits = new float[BigramModel.V];
        state.Step(0, logits);

        // Greedy chain by hand.
        var greedyState = state;
        var greedyLogits = (float[])logits.Clone();
        double greedyLogProb = 0;
        var chain = new List<int>();
        for (int i = 0; i < 6; i++)
        {
            int t = Softmax.ArgMax(greedyLogits);
            greedyLogProb += greedyLogits[t] - Softmax.LogSumExp(greedyLogits);
            chain.Add(t);
            if (t == BigramModel.StopToken)
            {
                break;
            }

            greedyState.Step(t, greedyLogits);
        }

        Assert.Equal([1, 2, 3], chain);
        var tokens = new int[6];
        var lengths = new int[1];
        var scores = new float[1];
        search.Search(state, logits, tokens, lengths, scores);
        Assert.True(scores[0] >= greedyLogProb - ScoreTolerance);
        Assert.Equal(chain, tokens[..lengths[0]]);
    }

    [Fact]
    public void Search_LeavesThePrimedStateUntouched_AndResultsAreSortedBestFirst()
    {
        (TinyCharModel state, float[] logits) = Primed("abc");
        byte[] before = TinyNet.Bytes(state);
        float[] logitsBefore = (float[])logits.Clone();
        BeamSearch<TinyCharModel> search = NewSearch(4, 6, 5, alpha: 0.7f);
        var scores = new float[5];
        int found = search.Search(state, logits, new int[30], new int[5], scores);
        Assert.Equal(before, TinyNet.Bytes(state));
        Assert.Equal(logitsBefore, logits);
        for (int r = 1; r < found; r++)
        {
            Assert.True(scores[r - 1] >= scores[r]);
        }
    }

    [Fact]
    public void Search_WithoutStopTokens_ReturnsFullLengthSequences()
    {
        (TinyCharModel state, float[] logits) = Primed("a");
        var search = new BeamSearch<TinyCharModel>(3, 3, 2);
        var lengths = new int[2];
        Assert.Equal(2, search.Search(state, logits, new int[6], lengths, new float[2]));
        Assert.Equal([3, 3], lengths);
    }

    [Fact]
    public void Search_WithEveryLogitMasked_FindsNothing()
    {
        var search = new BeamSearch<TinyCharModel>(2, 3, 2);
        float ninf = float.NegativeInfinity;
        float[] logits = [ninf, ninf, ninf, ninf, ninf, ninf];
        Assert.Equal(0, search.Search(default, logits, new int[6], new int[2], new float[2]));
        Assert.Equal("rank", Assert.Throws<ArgumentOutOfRangeException>(() => search.GetLogProbability(0)).ParamName);
    }

    [Fact]
    public void Search_AllocatesNothing_AfterWarmUp()
    {
        (TinyCharModel state, float[] logits) = Primed("ab");
        BeamSearch<TinyCharModel> search = NewSearch(4, 8, 3, alpha: 0.5f);
        var tokens = new int[24];
        var lengths = new int[3];
        var scores = new float[3];
        search.Search(state, logits, tokens, lengths, scores);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++)
        {
            search.Search(state, logits, tokens, lengths, scores);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void BadArguments_AreRejected_NamingTheArgument()
    {
        Assert.Equal("beamWidth", Assert.Throws<ArgumentOutOfRangeException>(() => new BeamSearch<TinyCharModel>(0, 3, 1)).ParamName);
        Assert.Equal("maxLength", Assert.Throws<ArgumentOutOfRangeException>(() => new BeamSearch<TinyCharModel>(1, 0, 1)).ParamName);
        Assert.Equal("maxResults", Assert.Throws<ArgumentOutOfRangeException>(() => new BeamSearch<TinyCharModel>(1, 3, 0)).ParamName);
        var search = new BeamSearch<TinyCharModel>(2, 3, 2);
        Assert.Equal("LengthPenalty", Assert.Throws<ArgumentOutOfRangeException>(() => search.LengthPenalty = -1f).ParamName);
        Assert.Equal("LengthPenalty", Assert.Throws<ArgumentOutOfRangeException>(() => search.LengthPenalty = float.NaN).ParamName);
        Assert.Equal("MinLength", Assert.Throws<ArgumentOutOfRangeException>(() => search.MinLength = 4).ParamName);
        Assert.Equal("token", Assert.Throws<ArgumentOutOfRangeException>(() => search.AddStopToken(6)).ParamName);
        var logits = new float[TinyCharModel.V];
        var state = default(TinyCharModel);
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => search.Search(state, logits, new int[9], new int[3], new float[3])).ParamName);
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => search.Search(state, logits, new int[9], new int[3], [])).ParamName);
        Assert.Equal("tokens", Assert.Throws<ArgumentException>(() => search.Search(state, logits, new int[5], new int[2], new float[2])).ParamName);
        Assert.Equal("lengths", Assert.Throws<ArgumentException>(() => search.Search(state, logits, new int[6], new int[1], new float[2])).ParamName);
        Assert.Equal("logits", Assert.Throws<ArgumentException>(() => search.Search(state, new float[5], new int[6], new int[2], new float[2])).ParamName);
        logits[2] = float.NaN;
        Assert.Equal("logits", Assert.Throws<ArgumentException>(() => search.Search(state, logits, new int[6], new int[2], new float[2])).ParamName);
    }
}
