using RnnEmbedded.Runtime;

namespace RnnEmbedded.Tests.Decoding;

public class SoftmaxTests
{
    private const float Tolerance = 1e-6f;

    private static double[] NaiveSoftmax(float[] logits)
    {
        var p = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            p[i] = Math.Exp(logits[i]);
            sum += p[i];
        }

        for (int i = 0; i < p.Length; i++)
        {
            p[i] /= sum;
        }

        return p;
    }

    [Fact]
    public void Apply_MatchesDoublePrecisionDefinition()
    {
        float[] logits = [0.5f, -1.25f, 3.0f, 0f, 2.2f, -7f];
        var probs = new float[logits.Length];
        Softmax.Apply(logits, probs);
        double[] expected = NaiveSoftmax(logits);
        float sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            Assert.InRange(probs[i], expected[i] - Tolerance, expected[i] + Tolerance);
            sum += probs[i];
        }

        Assert.InRange(sum, 1f - 1e-6f, 1f + 1e-6f);
    }

    [Fact]
    public void Apply_DoesNotOverflow_OnLogitsFarAbove88()
    {
        float[] logits = [1000f, 999f, 500f];
        Softmax.Apply(logits.AsSpan());
        double e = Math.Exp(-1.0);
        Assert.InRange(logits[0], (1 / (1 + e)) - Tolerance, (1 / (1 + e)) + Tolerance);
        Assert.InRange(logits[1], (e / (1 + e)) - Tolerance, (e / (1 + e)) + Tolerance);
        Assert.Equal(0f, logits[2]);
    }

    [Fact]
    public void Apply_GivesZeroProbability_ToNegativeInfinity()
    {
        float[] logits = [float.NegativeInfinity, 0f, float.NegativeInfinity, 0f];
        var probs = new float[4];
        Softmax.Apply(logits, probs);
        Assert.Equal([0f, 0.5f, 0f, 0.5f], probs);
    }

    [Fact]
    public void Apply_RejectsAllNegativeInfinity_NamingTheArgument()
    {
        float[] logits = [float.NegativeInfinity, float.NegativeInfinity];
        var ex = Assert.Throws<ArgumentException>(() => Softmax.Apply(logits, new float[2]));
        Assert.Equal("logits", ex.ParamName);
        Assert.Throws<ArgumentException>(() => Softmax.LogSoftmax(logits, new float[2]));
    }

    [Fact]
    public void Apply_RejectsNaNAndPositiveInfinity_NamingTheIndex()
    {
        var ex = Assert.Throws<ArgumentException>(() => Softmax.Apply([0f, float.NaN], new float[2]));
        Assert.Contains("logits[1]", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Softmax.Apply([float.PositiveInfinity, 0f], new float[2]));
        Assert.Contains("logits[0]", ex.Message);
    }

    [Fact]
    public void Apply_RejectsEmptyAndMismatchedSpans()
    {
        Assert.Throws<ArgumentException>(() => Softmax.Apply([], []));
        var ex = Assert.Throws<ArgumentException>(() => Softmax.Apply([1f, 2f], new float[3]));
        Assert.Equal("probs", ex.ParamName);
    }

    [Fact]
    public void LogSoftmax_EqualsLogOfSoftmax_AndStaysFinite()
    {
        float[] logits = [200f, 0f, -300f, float.NegativeInfinity, 199f];
        var logProbs = new float[logits.Length];
        Softmax.LogSoftmax(logits, logProbs);
        double lse = 200 + Math.Log(1 + Math.Exp(-200) + Math.Exp(-500) + Math.Exp(-1));
        for (int i = 0; i < logits.Length; i++)
        {
            if (float.IsNegativeInfinity(logits[i]))
            {
                Assert.True(float.IsNegativeInfinity(logProbs[i]));
                continue;
            }

            Assert.InRange(logProbs[i], logits[i] - lse - 1e-4, logits[i] - lse + 1e-4);
        }
    }

    [Fact]
    public void LogSumExp_IsStable_AndAllNegativeInfinityGivesNegativeInfinity()
    {
        Assert.InRange(Softmax.LogSumExp([1000f, 1000f]), 1000f + MathF.Log(2f) - 1e-3f, 1000f + MathF.Log(2f) + 1e-3f);
        Assert.Equal(float.NegativeInfinity, Softmax.LogSumExp([float.NegativeInfinity, float.NegativeInfinity]));
        Assert.InRange(Softmax.LogSumExp([-1000f]), -1000f - 1e-3f, -1000f + 1e-3f);
    }

    [Fact]
    public void ArgMax_ReturnsFirstIndexOnTies()
    {
        Assert.Equal(1, Softmax.ArgMax([0f, 3f, 3f, -1f]));
        Assert.Equal(0, Softmax.ArgMax([float.NegativeInfinity, float.NegativeInfinity]));
    }
}
