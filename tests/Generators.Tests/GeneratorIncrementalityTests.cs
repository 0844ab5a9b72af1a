using Microsoft.CodeAnalysis;
using RnnEmbedded.Tests.Infrastructure;

namespace RnnEmbedded.Tests;

public class GeneratorIncrementalityTests
{
    private const string RequestsStep = "RnnModelRequests";
    private const string ResultsStep = "RnnGeneratedModels";

    [Fact]
    public void SecondRun_WithNoChange_IsCachedOrUnchanged()
    {
        GeneratorDriver driver = GeneratorHarness.CreateDriver(new[] { new ModelItem("Demo.CharModel", TestModels.ToBytes(TestModels.Lstm())) });
        (driver, _, _) = GeneratorHarness.Run(driver);
        (driver, _, _) = GeneratorHarness.Run(driver, "class UserEdit { }"); // an unrelated source change

        GeneratorRunResult run = Assert.Single(driver.GetRunResult().Results);
        foreach (string step in new[] { RequestsStep, ResultsStep })
        {
            IncrementalGeneratorRunStep tracked = Assert.Single(run.TrackedSteps[step]);
            Assert.All(tracked.Outputs, o => Assert.True(
                o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                $"step {step} reported {o.Reason}"));
        }

        Assert.All(run.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void ChangedWeights_Regenerate()
    {
        var first = new ModelItem("Demo.CharModel", TestModels.ToBytes(TestModels.Lstm(seed: 1)));
        var second = first with { WeightFile = TestModels.ToBytes(TestModels.Lstm(seed: 2)) };
        (GeneratorDriver d1, _, _) = GeneratorHarness.Run(GeneratorHarness.CreateDriver(new[] { first }));
        (GeneratorDriver d2, _, _) = GeneratorHarness.Run(GeneratorHarness.CreateDriver(new[] { second }));
        string a = Assert.Single(d1.GetRunResult().GeneratedTrees).ToString();
        string b = Assert.Single(d2.GetRunResult().GeneratedTrees).ToString();
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Generation_IsDeterministic()
    {
        var item = new ModelItem("Demo.CharModel", TestModels.ToBytes(TestModels.Lstm(layers: 2)));
        (GeneratorDriver d1, _, _) = GeneratorHarness.Run(GeneratorHarness.CreateDriver(new[] { item }));
        (GeneratorDriver d2, _, _) = GeneratorHarness.Run(GeneratorHarness.CreateDriver(new[] { item }));
        Assert.Equal(Assert.Single(d1.GetRunResult().GeneratedTrees).ToString(), Assert.Single(d2.GetRunResult().GeneratedTrees).ToString());
    }
}
