using System.Globalization;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using Xunit.Abstractions;

namespace RnnEmbedded.Tests.Reference;

/// <summary>
/// Variants PyTorch lacks (peepholes, CIFG, GRU reset-before, RNN sigmoid) at realistic sizes, against a second,
/// independent implementation (make_fixtures.py's torch-op code, itself checked against torch.nn). The tiny
/// hand-worked cases are in <see cref="HandWorkedVariantTests"/>.
/// </summary>
public sealed class VariantParityTests
{
    private const double Tolerance = 1e-5;

    private readonly ITestOutputHelper _output;

    public VariantParityTests(ITestOutputHelper output) => _output = output;

    public static IEnumerable<object[]> Variants => ParityFixture.VariantNames.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Variants))]
    public void Run_MatchesIndependentImplementation(string name)
    {
        ParityFixture fixture = ParityFixture.LoadVariant(name);
        ModelSpec spec = ModelLoader.Load(fixture.WeightsPath);

        float[][] actual = fixture.InputKind == "dense" ? ReferenceEngine.Run(spec, fixture.Dense) : ReferenceEngine.Run(spec, fixture.Tokens);

        Assert.Equal(fixture.Outputs.Length, actual.Length);
        double max = 0;
        for (int t = 0; t < actual.Length; t++)
        {
            Assert.Equal(fixture.Outputs[t].Length, actual[t].Length);
            for (int k = 0; k < actual[t].Length; k++)
            {
                double error = Math.Abs((double)fixture.Outputs[t][k] - actual[t][k]);
                Assert.True(error <= Tolerance, $"{name}: step {t} output {k}: expected {fixture.Outputs[t][k]:R}, reference {actual[t][k]:R}");
                max = Math.Max(max, error);
            }
        }

        _output.WriteLine($"{name}: max |reference - independent| = {max.ToString("E3", CultureInfo.InvariantCulture)}");
    }

    [Fact]
    public void Variants_SelectTheVariantTheirNameSays()
    {
        Assert.All(Spec("lstm_peephole").Layers, l => Assert.True(l.HasPeepholes && !l.Cifg));
        Assert.All(Spec("lstm_cifg").Layers, l => Assert.True(l.Cifg && !l.HasPeepholes));
        Assert.All(Spec("lstm_cifg_peephole_nobias").Layers, l => Assert.True(l.Cifg && l.HasPeepholes && !l.HasBias));
        ModelSpec proj = Spec("lstm_peephole_proj_bidir");
        Assert.True(proj.Bidirectional && proj.Layers[0].ProjectionSize == 3 && proj.Layers[0].Backward!.Peepholes is not null);
        Assert.All(Spec("gru_reset_before").Layers, l => Assert.Equal(GruForm.ResetBefore, l.GruForm));
        Assert.All(Spec("rnn_sigmoid").Layers, l => Assert.Equal(ActivationKind.Sigmoid, l.Activation));
        Assert.Equal(InputKind.OneHot, Spec("rnn_sigmoid").InputKind);
    }

    [Fact]
    public void VariantDirectory_HoldsExactlyTheListedFixtures()
    {
        string[] found = Directory.GetFiles(ParityFixture.VariantDirectory, "*.safetensors")
            .Select(p => Path.GetFileName(p)[..^".safetensors".Length])
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(ParityFixture.VariantNames.Order(StringComparer.Ordinal), found);
    }

    private static ModelSpec Spec(string name) => ModelLoader.Load(ParityFixture.LoadVariant(name).WeightsPath);
}
