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

    /// <summary>
    /// One driver through New → Cached → Modified (as System.Text.Json's generator tests do): the first run
    /// creates everything, an unrelated edit reuses it, and new weights under the same carrier path re-run both
    /// tracked steps and the output, whose source changes.
    /// </summary>
    [Fact]
    public void ChangedWeights_Regenerate()
    {
        var first = new ModelItem("Demo.CharModel", TestModels.ToBytes(TestModels.Lstm(seed: 1)));
        var second = first with { WeightFile = TestModels.ToBytes(TestModels.Lstm(seed: 2)) };
        GeneratorDriver driver = GeneratorHarness.CreateDriver(new[] { first }, out IReadOnlyList<AdditionalText> carriers);

        (driver, _, _) = GeneratorHarness.Run(driver);
        AssertReasons(driver, IncrementalStepRunReason.New);
        string before = Assert.Single(driver.GetRunResult().GeneratedTrees).ToString();

        (driver, _, _) = GeneratorHarness.Run(driver, "class UserEdit { }");
        AssertReasons(driver, IncrementalStepRunReason.Cached);

        driver = driver.ReplaceAdditionalText(Assert.Single(carriers), GeneratorHarness.CarrierText(second));
        (driver, _, _) = GeneratorHarness.Run(driver, "class UserEdit { }");
        AssertReasons(driver, IncrementalStepRunReason.Modified);
        string after = Assert.Single(driver.GetRunResult().GeneratedTrees).ToString();

        Assert.NotEqual(before, after);
        Assert.Contains("struct CharModel", after);
    }

    private static void AssertReasons(GeneratorDriver driver, IncrementalStepRunReason expected)
    {
        GeneratorRunResult run = Assert.Single(driver.GetRunResult().Results);
        foreach (string step in new[] { RequestsStep, ResultsStep })
        {
            IncrementalGeneratorRunStep tracked = Assert.Single(run.TrackedSteps[step]);
            (object _, IncrementalStepRunReason reason) = Assert.Single(tracked.Outputs);
            Assert.True(reason == expected, $"step {step}: {reason}, expected {expected}");
        }

        (object _, IncrementalStepRunReason output) = Assert.Single(run.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs));
        Assert.True(output == expected, $"source output: {output}, expected {expected}");
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
