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

    /// <summary>
    /// bfloat16 and int8 seq2seq models: the encoder's streamed matrices are quantized like the decoder's (the nested
    /// SourceEncoder is planned with the model's weight type), and <see cref="WeightQuantizer.Apply"/> quantizes the
    /// reference's encoder the same way, so Encode + Step match within the float32 tolerance at every width. Were
    /// either side to leave the encoder float32, the int8 rounding of its weights would exceed the tolerance.
    /// </summary>
    public static TheoryData<ModelCase> QuantizedCases()
    {
        var data = new TheoryData<ModelCase>();
        int seed = 7_200;
        foreach (CaseCell cell in new[] { CaseCell.Lstm, CaseCell.LstmPeepholes, CaseCell.GruResetAfter, CaseCell.GruResetBefore, CaseCell.RnnTanh })
        {
            foreach (WeightType type in new[] { WeightType.BFloat16, WeightType.Int8 })
            {
                // At least 3 source tokens and 2 target steps (the first draws of ModelCase.DrawSource and DrawInputs),
                // and an encoder whose final state its quantization visibly moves (tiny drawn sizes can quantize
                // almost exactly), so a generated encoder left float32 would fail the comparison.
                ModelCase c;
                while (true)
                {
                    InputKind input = seed % 2 == 0 ? InputKind.Embedding : InputKind.OneHot;
                    int layers = 1 + seed % 2;
                    bool projection = cell is CaseCell.Lstm && type == WeightType.Int8;
                    c = new ModelCase(cell, input, ModelTask.Seq2Seq, layers, Bidirectional: false, projection, Bias: true, Head: true, Vocabulary: true, PerLayer: layers > 1, Seed: seed, Weights: type);
                    seed++;
                    if (c.ExpectedRejection() is null && new Random(unchecked(c.Seed * 17 + 3)).Next(0, 7) >= 3 && new Random(unchecked(c.Seed * 31 + 7)).Next(0, 8) >= 2
                        && EncoderQuantizationError(c) > 1e-4f)
                    {
                        break;
                    }
                }

                data.Add(c);
            }
        }

        return data;
    }

    /// <summary>max |final state of the quantized encoder − of the float32 encoder| over the case's source.</summary>
    private static float EncoderQuantizationError(ModelCase c)
    {
        ModelSpec spec = c.BuildSpec();
        int[] source = c.DrawSource(spec);
        float[] fp32 = RnnEmbedded.Compiler.Reference.Seq2SeqReference.EncoderFinalState(spec.Encoder!, source);
        float[] quantized = RnnEmbedded.Compiler.Reference.Seq2SeqReference.EncoderFinalState(WeightQuantizer.Apply(spec, c.Weights).Encoder!, source);
        return fp32.Zip(quantized, (a, b) => MathF.Abs(a - b)).Max();
    }

    [Theory]
    [MemberData(nameof(QuantizedCases))]
    public void Seq2Seq_QuantizedWeights_MatchQuantizedReference_AtEveryWidth(ModelCase c)
    {
        ModelSpaceRunner.BatchResult result = ModelSpaceRunner.Run(new[] { c });
        Assert.True(result.Failures.Count == 0, string.Join(Environment.NewLine, result.Failures));
        Assert.Equal(1, result.Accepted);
        Assert.Equal(ModelSpaceRunner.Widths.Length, result.ModelsRun);
    }
}
