using System.Globalization;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using Xunit.Abstractions;

namespace RnnEmbedded.Tests.Reference;

/// <summary>
/// The reference engine against real PyTorch 1.13 modules (tests/fixtures, made by make_fixtures.py):
/// the weight files carry PyTorch's own tensor names, so these tests also prove the builder's inference.
/// </summary>
public sealed class PyTorchParityTests
{
    /// <summary>Absolute tolerance against PyTorch's float32 CPU results (different summation order and exp/tanh).</summary>
    private const double Tolerance = 1e-5;

    private readonly ITestOutputHelper _output;

    public PyTorchParityTests(ITestOutputHelper output) => _output = output;

    public static IEnumerable<object[]> Fixtures => ParityFixture.Names.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Run_MatchesPyTorch(string name)
    {
        ParityFixture fixture = ParityFixture.Load(name);
        ModelSpec spec = ModelLoader.Load(fixture.WeightsPath);

        float[][] actual = RunWhole(fixture, spec);

        double maxError = AssertClose(fixture, actual, "Run");
        _output.WriteLine($"{name}: max |reference - PyTorch| = {maxError.ToString("E3", CultureInfo.InvariantCulture)}");
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Step_MatchesPyTorch_OrRefusesBidirectional(string name)
    {
        ParityFixture fixture = ParityFixture.Load(name);
        ModelSpec spec = ModelLoader.Load(fixture.WeightsPath);
        var engine = new ReferenceEngine(spec);
        var output = new float[spec.OutputSize];
        if (spec.Bidirectional)
        {
            Assert.Throws<InvalidOperationException>(() => engine.Step(0, output));
            Assert.Throws<InvalidOperationException>(() => engine.Step(new float[spec.InputSize], output));
            return;
        }

        var actual = new List<float[]>();
        if (fixture.InputKind == "caption")
        {
            engine.StepImage(fixture.Image!, output);
            actual.Add((float[])output.Clone());
        }

        if (fixture.InputKind == "dense")
        {
            foreach (float[] x in fixture.Dense)
            {
                engine.Step(x, output);
                actual.Add((float[])output.Clone());
            }
        }
        else
        {
            foreach (int token in fixture.Tokens)
            {
                engine.Step(token, output);
                actual.Add((float[])output.Clone());
            }
        }

        AssertClose(fixture, actual.ToArray(), "Step");
    }

    [Fact]
    public void AllFixtures_MaxAbsoluteErrorIsWithinTolerance()
    {
        double worst = 0;
        string worstName = "";
        foreach (string name in ParityFixture.Names)
        {
            ParityFixture fixture = ParityFixture.Load(name);
            double error = AssertClose(fixture, RunWhole(fixture, ModelLoader.Load(fixture.WeightsPath)), "Run");
            if (error > worst)
            {
                worst = error;
                worstName = name;
            }
        }

        _output.WriteLine($"max |reference - PyTorch| over {ParityFixture.Names.Length} fixtures = {worst.ToString("E3", CultureInfo.InvariantCulture)} ({worstName})");
        Assert.InRange(worst, 0, Tolerance);
    }

    [Fact]
    public void FixtureDirectory_HoldsExactlyTheListedFixtures()
    {
        Assert.True(Directory.Exists(ParityFixture.Directory), $"Missing fixture directory {ParityFixture.Directory}");
        string[] found = Directory.GetFiles(ParityFixture.Directory, "*.safetensors")
            .Select(p => Path.GetFileName(p)[..^".safetensors".Length])
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(ParityFixture.Names.Order(StringComparer.Ordinal), found);
        foreach (string name in ParityFixture.Names)
        {
            Assert.True(File.Exists(Path.Combine(ParityFixture.Directory, name + ".expected.txt")), $"Missing {name}.expected.txt");
        }
    }

    private static float[][] RunWhole(ParityFixture fixture, ModelSpec spec) => fixture.InputKind switch
    {
        "tokens" => ReferenceEngine.Run(spec, fixture.Tokens),
        "dense" => ReferenceEngine.Run(spec, fixture.Dense),
        _ => ReferenceEngine.RunCaption(spec, fixture.Image!, fixture.Tokens),
    };

    /// <summary>Asserts every output within <see cref="Tolerance"/>; returns the largest absolute difference.</summary>
    private static double AssertClose(ParityFixture fixture, float[][] actual, string how)
    {
        Assert.Equal(fixture.Outputs.Length, actual.Length);
        double max = 0;
        for (int t = 0; t < actual.Length; t++)
        {
            Assert.Equal(fixture.Outputs[t].Length, actual[t].Length);
            for (int k = 0; k < actual[t].Length; k++)
            {
                double error = Math.Abs((double)fixture.Outputs[t][k] - actual[t][k]);
                Assert.False(double.IsNaN(error), $"{fixture.Name} ({how}): step {t} output {k} is NaN");
                Assert.True(error <= Tolerance,
                    $"{fixture.Name} ({how}): step {t} output {k}: PyTorch {fixture.Outputs[t][k]:R}, reference {actual[t][k]:R}, |diff| {error:E3} > {Tolerance:E0}");
                max = Math.Max(max, error);
            }
        }

        return max;
    }
}
