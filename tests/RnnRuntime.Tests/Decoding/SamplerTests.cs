using RnnEmbedded.Runtime;

namespace RnnEmbedded.Tests.Decoding;

public class SamplerTests
{
    private const int Draws = 60000;

    // Chi-square critical values at p = 0.001 by degrees of freedom (a correct sampler fails this 1 time in 1000
    // seeds; the seed is fixed, so the test is deterministic).
    private static readonly double[] s_chiSquare001 = [0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46];

    private static readonly float[] s_logits = [1.0f, 3.0f, 2.0f, 0.5f, 2.5f, -1.0f];

    private static double[] SoftmaxDouble(float[] logits, double temperature = 1.0)
    {
        var p = new double[logits.Length];
        double max = logits.Max();
        double sum = 0;
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = float.IsNegativeInfinity(logits[i]) ? 0 : Math.Exp((logits[i] - max) / temperature);
            sum += p[i];
        }

        return p.Select(x => x / sum).ToArray();
    }

    private static int[] Histogram(Sampler sampler, float[] logits, int draws)
    {
        var counts = new int[logits.Length];
        var work = new float[logits.Length];
        for (int i = 0; i < draws; i++)
        {
            logits.CopyTo(work, 0);
            counts[sampler.Sample(work)]++;
        }

        return counts;
    }

    private static void AssertChiSquare(int[] counts, double[] expected, int draws)
    {
        double chi = 0;
        int dof = -1;
        for (int i = 0; i < counts.Length; i++)
        {
            if (expected[i] == 0)
            {
                Assert.Equal(0, counts[i]);
                continue;
            }

            double e = expected[i] * draws;
            chi += (counts[i] - e) * (counts[i] - e) / e;
            dof++;
        }

        if (dof == 0)
        {
            return; // one possible token: the zero-count checks above are the whole test
        }

        Assert.True(chi < s_chiSquare001[dof], $"chi-square {chi:F2} with {dof} degrees of freedom exceeds {s_chiSquare001[dof]}");
    }

    [Fact]
    public void Sample_MatchesSoftmaxProbabilities_ChiSquare()
    {
        var sampler = new Sampler(s_logits.Length, new SamplingOptions { Seed = 1 });
        AssertChiSquare(Histogram(sampler, s_logits, Draws), SoftmaxDouble(s_logits), Draws);
    }

    [Theory]
    [InlineData(0.5f)]
    [InlineData(2.0f)]
    public void Sample_WithTemperature_MatchesScaledSoftmax_ChiSquare(float temperature)
    {
        var sampler = new Sampler(s_logits.Length, new SamplingOptions { Seed = 2, Temperature = temperature });
        AssertChiSquare(Histogram(sampler, s_logits, Draws), SoftmaxDouble(s_logits, temperature), Draws);
    }

    [Fact]
    public void Sample_ChiSquareWouldCatchAWrongDistribution()
    {
        // The same draws compared against the temperature-2 distribution must fail the bound: the test has power.
        var sampler = new Sampler(s_logits.Length, new SamplingOptions { Seed = 1 });
        int[] counts = Histogram(sampler, s_logits, Draws);
        double[] wrong = SoftmaxDouble(s_logits, 2.0);
        double chi = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            double e = wrong[i] * Draws;
            chi += (counts[i] - e) * (counts[i] - e) / e;
        }

        Assert.True(chi > 1000);
    }

    [Fact]
    public void TopK_NeverEmitsExcludedTokens_AndRenormalizesTheRest()
    {
        var sampler = new Sampler(s_logits.Length, new SamplingOptions { Seed = 3, TopK = 3 });
        int[] counts = Histogram(sampler, s_logits, Draws);

        // The three largest logits are indices 1 (3.0), 4 (2.5), 2 (2.0).
        float[] kept = [float.NegativeInfinity, 3.0f, 2.0f, float.NegativeInfinity, 2.5f, float.NegativeInfinity];
        AssertChiSquare(counts, SoftmaxDouble(kept), Draws);
    }

    [Fact]
    public void ApplyTopK_KeepsExactlyK_LowestIndicesOnTies()
    {
        float[] logits = [1f, 5f, 1f, 1f, 0f, 1f];
        Sampler.ApplyTopK(logits, 3, new float[6]);
        float ninf = float.NegativeInfinity;
        Assert.Equal([1f, 5f, 1f, ninf, ninf, ninf], logits);
    }

    [Fact]
    public void ApplyTopK_MatchesSortedSelection_OnManyRandomInputs()
    {
        var rng = new Xoshiro128StarStar(9);
        var scratch = new float[300];
        for (int trial = 0; trial < 200; trial++)
        {
            int v = 1 + rng.NextInt32(300);
            int k = 1 + rng.NextInt32(v);
            var logits = new float[v];
            for (int i = 0; i < v; i++)
            {
                logits[i] = rng.NextInt32(20) - 10; // many ties
            }

            float[] original = (float[])logits.Clone();
            Sampler.ApplyTopK(logits, k, scratch);
            int[] expectedKept = Enumerable.Range(0, v).OrderByDescending(i => original[i]).ThenBy(i => i).Take(k).Order().ToArray();
            int[] kept = Enumerable.Range(0, v).Where(i => !float.IsNegativeInfinity(logits[i])).ToArray();
            Assert.Equal(expectedKept, kept);
            foreach (int i in kept)
            {
                Assert.Equal(original[i], logits[i]);
            }
        }
    }

    [Theory]
    [InlineData(0.3f)]
    [InlineData(0.6f)]
    [InlineData(0.9f)]
    public void TopP_NeverEmitsTokensOutsideTheNucleus(float p)
    {
        double[] probs = SoftmaxDouble(s_logits);
        int[] byProbability = Enumerable.Range(0, probs.Length).OrderByDescending(i => probs[i]).ToArray();
        var nucleus = new HashSet<int>();
        double mass = 0;
        foreach (int i in byProbability)
        {
            nucleus.Add(i);
            mass += probs[i];
            if (mass >= p)
            {
                break;
            }
        }

        var sampler = new Sampler(s_logits.Length, new SamplingOptions { Seed = 4, TopP = p });
        int[] counts = Histogram(sampler, s_logits, Draws);
        float[] kept = s_logits.Select((l, i) => nucleus.Contains(i) ? l : float.NegativeInfinity).ToArray();
        AssertChiSquare(counts, SoftmaxDouble(kept), Draws);
    }

    [Fact]
    public void ApplyTopP_MatchesASortedNucleus_OnManyRandomInputs()
    {
        var rng = new Xoshiro128StarStar(10);
        var scratch = new float[400];
        for (int trial = 0; trial < 300; trial++)
        {
            int v = 1 + rng.NextInt32(400);
            float p = 0.05f + (0.94f * rng.NextSingle());
            float spread = 0.5f + (8f * rng.NextSingle());
            var logits = new float[v];
            for (int i = 0; i < v; i++)
            {
                logits[i] = spread * ((rng.NextSingle() * 2f) - 1f);
            }

            float[] original = (float[])logits.Clone();
            Sampler.ApplyTopP(logits, p, scratch);

            double max = original.Max();
            double[] weights = original.Select(l => Math.Exp(l - max)).ToArray();
            double total = weights.Sum();
            int[] order = Enumerable.Range(0, v).OrderByDescending(i => original[i]).ToArray();
            var expected = new HashSet<int>();
            double mass = 0;
            foreach (int i in order)
            {
                expected.Add(i);
                mass += weights[i];
                if (mass >= p * total)
                {
                    break;
                }
            }

            for (int i = 0; i < v; i++)
            {
                bool kept = !float.IsNegativeInfinity(logits[i]);
                Assert.Equal(expected.Contains(i), kept);
                if (kept)
                {
                    Assert.Equal(original[i], logits[i]);
                }
            }
        }
    }

    [Fact]
    public void ApplyTopP_KeepsAllTokensTiedWithTheLastKept()
    {
        float[] logits = [0f, 0f, 0f, 0f];
        Sampler.ApplyTopP(logits, 0.3f, new float[4]);
        Assert.All(logits, l => Assert.Equal(0f, l));
    }

    [Fact]
    public void Greedy_IsArgMax_AndIgnoresTheRandomStream()
    {
        var sampler = new Sampler(s_logits.Length, SamplingOptions.Greedy);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(1, sampler.Sample((float[])s_logits.Clone()));
        }

        var fresh = new Xoshiro128StarStar(SamplingOptions.Greedy.Seed);
        Assert.Equal(fresh.NextUInt32(), sampler.Random.NextUInt32());
    }

    [Fact]
    public void TinyTemperature_DoesNotOverflow_AndPicksTheArgMax()
    {
        var sampler = new Sampler(s_logits.Length, new SamplingOptions { Seed = 8, Temperature = 1e-30f });
        for (int i = 0; i < 100; i++)
        {
            float[] logits = s_logits.Select(l => l * 1e10f).ToArray();
            Assert.Equal(1, sampler.Sample(logits));
            Assert.Equal(0f, logits[1]);
        }
    }

    [Fact]
    public void SameSeed_GivesSameTokens()
    {
        var options = new SamplingOptions { Seed = 99, Temperature = 0.8f, TopK = 4, TopP = 0.95f };
        var a = new Sampler(s_logits.Length, options);
        var b = new Sampler(s_logits.Length, options);
        for (int i = 0; i < 500; i++)
        {
            Assert.Equal(a.Sample((float[])s_logits.Clone()), b.Sample((float[])s_logits.Clone()));
        }
    }

    [Fact]
    public void Reseed_RestartsTheStream_AndClearHistoryForgetsSeenTokens()
    {
        var a = new Sampler(s_logits.Length, new SamplingOptions { Seed = 1, RepetitionPenalty = 3f });
        var b = new Sampler(s_logits.Length, new SamplingOptions { Seed = 2, RepetitionPenalty = 3f });
        for (int i = 0; i < 10; i++)
        {
            b.Sample((float[])s_logits.Clone());
        }

        b.Reseed(1);
        b.ClearHistory();
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(a.Sample((float[])s_logits.Clone()), b.Sample((float[])s_logits.Clone()));
        }
    }

    [Fact]
    public void RepetitionPenalty_DividesPositiveAndMultipliesNegativeLogits()
    {
        float[] logits = [2f, -1f, 3f];
        Sampler.ApplyRepetitionPenalty(logits, [0, 1, 0], 2f);
        Assert.Equal([1f, -2f, 3f], logits);
    }

    [Fact]
    public void RepetitionPenalty_InSampler_CoversOnlyTheRecentWindow()
    {
        var options = new SamplingOptions { Temperature = 0f, RepetitionPenalty = 10f, RepetitionWindow = 2 };
        var sampler = new Sampler(3, options);
        sampler.Observe(0);
        sampler.Observe(1);

        // 0 → 0.2, 1 → 0.19, 2 stays 0.5.
        Assert.Equal(2, sampler.Sample([2f, 1.9f, 0.5f]));

        // That draw recorded 2; the window now holds {1, 2}: token 0 is free again.
        Assert.Equal(0, sampler.Sample([2f, 1.9f, 0.5f]));
    }

    [Fact]
    public void Options_RejectOutOfRangeValues_NamingTheProperty()
    {
        Assert.Equal("TopK", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { TopK = -1 }).ParamName);
        Assert.Equal("TopP", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { TopP = 0f }).ParamName);
        Assert.Equal("TopP", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { TopP = 1.5f }).ParamName);
        Assert.Equal("TopP", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { TopP = float.NaN }).ParamName);
        Assert.Equal("Temperature", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { Temperature = -0.1f }).ParamName);
        Assert.Equal("Temperature", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { Temperature = float.NaN }).ParamName);
        Assert.Equal("RepetitionPenalty", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { RepetitionPenalty = 0f }).ParamName);
        Assert.Equal("RepetitionWindow", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { RepetitionWindow = 0 }).ParamName);
    }

    [Fact]
    public void StaticFilters_RejectBadArguments_NamingThem()
    {
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => Sampler.ApplyTopK(new float[3], 0, new float[3])).ParamName);
        Assert.Equal("scratch", Assert.Throws<ArgumentException>(() => Sampler.ApplyTopK(new float[3], 1, new float[2])).ParamName);
        Assert.Equal("p", Assert.Throws<ArgumentOutOfRangeException>(() => Sampler.ApplyTopP(new float[3], 0f, new float[3])).ParamName);
        Assert.Equal("temperature", Assert.Throws<ArgumentOutOfRangeException>(() => Sampler.ApplyTemperature(new float[3], 0f)).ParamName);
        Assert.Equal("recentTokens", Assert.Throws<ArgumentOutOfRangeException>(() => Sampler.ApplyRepetitionPenalty(new float[3], [3], 1.2f)).ParamName);
        var sampler = new Sampler(3);
        Assert.Equal("logits", Assert.Throws<ArgumentException>(() => sampler.Sample(new float[4])).ParamName);
        Assert.Equal("logits", Assert.Throws<ArgumentException>(() => sampler.Sample([float.NaN, 0f, 0f])).ParamName);
        Assert.Equal("token", Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Observe(3)).ParamName);
        Assert.Equal("vocabularySize", Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(0)).ParamName);
    }

    [Fact]
    public void Sample_NeverDrawsNegativeInfinity()
    {
        var sampler = new Sampler(4, new SamplingOptions { Seed = 5 });
        float ninf = float.NegativeInfinity;
        for (int i = 0; i < 2000; i++)
        {
            Assert.Equal(2, sampler.Sample([ninf, ninf, 0f, ninf]));
        }
    }

    [Fact]
    public void Sample_AllocatesNothing_AfterWarmUp()
    {
        var options = new SamplingOptions { Seed = 6, Temperature = 0.7f, TopK = 4, TopP = 0.9f, RepetitionPenalty = 1.3f };
        var sampler = new Sampler(64, options);
        var logits = new float[64];
        var work = new float[64];
        for (int i = 0; i < logits.Length; i++)
        {
            logits[i] = MathF.Sin(i);
        }

        for (int i = 0; i < 50; i++)
        {
            logits.CopyTo(work, 0);
            sampler.Sample(work);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 2000; i++)
        {
            logits.CopyTo(work, 0);
            sampler.Sample(work);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
