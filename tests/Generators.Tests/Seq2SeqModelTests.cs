using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Tests.Infrastructure;

namespace RnnEmbedded.Tests;

/// <summary>
/// Seq2seq models through the whole pipeline (ModelWriter → bytes → ModelBuilder → generator at every width →
/// Encode + Step against Seq2SeqReference), one case per cell variant; the random model-space batches draw more.
/// </summary>
public class Seq2SeqModelTests
{
    public static TheoryData<ModelCase> Cases()
    {
        var data = new TheoryData<ModelCase>();
        int seed = 7_000;
        foreach (CaseCell cell in Enum.GetValues<CaseCell>())
        {
            InputKind input = seed % 2 == 0 ? InputKind.Embedding : InputKind.OneHot;
            int layers = 1 + seed % 3;
            bool projection = cell is CaseCell.Lstm or CaseCell.LstmPeepholes && seed % 2 == 0;
            data.Add(new ModelCase(cell, input, ModelTask.Seq2Seq, layers, Bidirectional: false, projection, Bias: seed % 3 != 0, Head: true, Vocabulary: true, PerLayer: layers > 1, Seed: seed));
            seed++;
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Seq2Seq_EncodeThenStep_MatchesReference_AtEveryWidth(ModelCase c)
    {
        ModelSpaceRunner.BatchResult result = ModelSpaceRunner.Run(new[] { c });
        Assert.True(result.Failures.Count == 0, string.Join(Environment.NewLine, result.Failures));
        Assert.Equal(1, result.Accepted);
        Assert.Equal(ModelSpaceRunner.Widths.Length, result.ModelsRun);
    }
}
