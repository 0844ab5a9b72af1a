using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

public class OptimizerTests
{
    private static Parameter Make(float[] value, float[] grad)
    {
        var p = new Parameter("w", value.Length, 1, false);
        value.CopyTo(p.Value, 0);
        grad.CopyTo(p.Grad, 0);
        return p;
    }

    [Fact]
    public void Adam_FirstStepMovesEachWeightByTheLearningRateAgainstItsGradientSign()
    {
        Parameter p = Make(new[] { 1f, -2f }, new[] { 0.5f, -0.1f });
        var adam = new Optimizer(new[] { p }, OptimizerKind.Adam, new Workers(1)) { Clip = 0 };
        adam.Step(0.1f);
        // Bias-corrected m̂ = g, v̂ = g², so the step is lr · g / (|g| + ε).
        Assert.Equal(0.9f, p.Value[0], 5);
        Assert.Equal(-1.9f, p.Value[1], 5);
        Assert.Equal(1, adam.StepCount);
    }

    [Fact]
    public void Clip_ScalesTheGlobalNormDownToTheLimit()
    {
        Parameter a = Make(new[] { 0f }, new[] { 3f });
        Parameter b = Make(new[] { 0f }, new[] { 4f });
        var sgd = new Optimizer(new[] { a, b }, OptimizerKind.Sgd, new Workers(1)) { Clip = 1f, Momentum = 0f };
        double norm = sgd.Step(1f);
        Assert.Equal(5.0, norm, 6);
        Assert.Equal(-0.6f, a.Value[0], 5);
        Assert.Equal(-0.8f, b.Value[0], 5);
    }

    [Fact]
    public void Sgd_MomentumAccumulatesVelocity()
    {
        Parameter p = Make(new[] { 0f }, new[] { 1f });
        var sgd = new Optimizer(new[] { p }, OptimizerKind.Sgd, new Workers(1)) { Clip = 0, Momentum = 0.5f };
        sgd.Step(0.1f); // v = 1, w = −0.1
        sgd.Step(0.1f); // v = 1.5, w = −0.25
        Assert.Equal(-0.25f, p.Value[0], 6);
    }
}
