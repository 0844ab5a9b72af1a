using RnnEmbedded.Runtime;

namespace RnnEmbedded.Tests.Decoding;

/// <summary>The interfaces' batched Step: the default (hand-written models) and its argument checks.</summary>
public sealed class BatchedStepTests
{
    private static void StepAll<TModel>(Span<TModel> models, ReadOnlySpan<int> tokens, Span<float> outputs)
        where TModel : struct, ITokenModel<TModel> => TModel.Step(models, tokens, outputs);

    [Fact]
    public void DefaultBatchedStep_EqualsSteppingEachModel()
    {
        int o = TinyCharModel.OutputSize;
        var together = new TinyCharModel[5];
        var alone = new TinyCharModel[5];
        var tokens = new int[5];
        var outTogether = new float[5 * o];
        var outAlone = new float[5 * o];
        for (int t = 0; t < 7; t++)
        {
            for (int b = 0; b < 5; b++)
            {
                tokens[b] = (t + (2 * b)) % TinyCharModel.V;
                alone[b].Step(tokens[b], outAlone.AsSpan(b * o, o));
            }

            StepAll<TinyCharModel>(together, tokens, outTogether);
            Assert.Equal(outAlone, outTogether); // the default steps each model alone: bit-identical
        }
    }

    [Fact]
    public void BatchedStep_RejectsOneTokenPerModelMismatch_NamingTokens()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            StepAll<TinyCharModel>(new TinyCharModel[3], new int[2], new float[3 * TinyCharModel.OutputSize]));
        Assert.Equal("tokens", e.ParamName);
        Assert.Contains("3 models need 3", e.Message);
    }

    [Fact]
    public void BatchedStep_RejectsShortOutputs_NamingOutputs()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            StepAll<TinyCharModel>(new TinyCharModel[3], new int[3], new float[(3 * TinyCharModel.OutputSize) - 1]));
        Assert.Equal("outputs", e.ParamName);
    }
}
