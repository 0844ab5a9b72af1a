using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Tests.Reference;

namespace RnnEmbedded.Tests.Model;

/// <summary>The comparer the round-trip tests rely on must see every difference.</summary>
public sealed class ModelSpecComparerTests
{
    private static WeightFile Read(string name) =>
        SafeTensorsReader.ReadFile(ParityFixture.Load(name).WeightsPath);

    [Fact]
    public void FirstDifference_SameFileTwice_IsNull()
    {
        Assert.Null(ModelSpecComparer.FirstDifference(ModelBuilder.Build(Read("lstm_proj")), ModelBuilder.Build(Read("lstm_proj")), compareMetadata: true));
    }

    [Theory]
    [InlineData("lstm_proj", "lstm.weight_hr_l1", "Layers[1].Forward.W_hr[")]
    [InlineData("lstm_bidir_2layer", "lstm.bias_hh_l0_reverse", "Layers[0].Backward.b_hh[")]
    [InlineData("caption_lstm", "img_fc.bias", "ImageProjection.b[")]
    [InlineData("gru_1layer", "embed.weight", "Embedding[")]
    public void FirstDifference_SeesOneChangedWeight(string fixture, string tensor, string expectedPath)
    {
        WeightFile file = Read(fixture);
        ModelSpec original = ModelBuilder.Build(file);
        var changed = file.Tensors.Select(t =>
        {
            if (t.Name != tensor)
            {
                return t;
            }

            float[] data = (float[])t.Data.Clone();
            data[data.Length - 1] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(data[^1]) ^ 1); // one ulp
            return new Tensor(t.Name, t.Shape, data);
        }).ToList();

        string? difference = ModelSpecComparer.FirstDifference(original, ModelBuilder.Build(new WeightFile(file.FileName, changed, file.Metadata)));

        Assert.NotNull(difference);
        Assert.StartsWith(expectedPath, difference);
    }

    [Fact]
    public void FirstDifference_SeesVariantVocabularyAndMetadataChanges()
    {
        WeightFile reluFile = Read("rnn_relu"); // rnn.nonlinearity=relu
        ModelSpec relu = ModelBuilder.Build(reluFile);
        ModelSpec tanh = ModelBuilder.Build(new WeightFile("x", reluFile.Tensors, new SortedDictionary<string, string>()));
        Assert.StartsWith("Layers[0].Activation", ModelSpecComparer.FirstDifference(relu, tanh));

        WeightFile lm = Read("rnn_onehot_charlm");
        var metadata = new SortedDictionary<string, string>(lm.Metadata.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal)
        {
            ["rnn.vocab"] = "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\" \",\",\",\"!\",\"\\n\"]",
            ["rnn.train.seed"] = "1",
        };
        ModelSpec other = ModelBuilder.Build(new WeightFile("x", lm.Tensors, metadata));
        Assert.StartsWith("Vocabulary.Tokens[10]", ModelSpecComparer.FirstDifference(ModelBuilder.Build(lm), other));

        metadata["rnn.vocab"] = lm.Metadata["rnn.vocab"];
        ModelSpec sameButTrainKey = ModelBuilder.Build(new WeightFile("x", lm.Tensors, metadata));
        Assert.Null(ModelSpecComparer.FirstDifference(ModelBuilder.Build(lm), sameButTrainKey));
        Assert.StartsWith("Metadata", ModelSpecComparer.FirstDifference(ModelBuilder.Build(lm), sameButTrainKey, compareMetadata: true));
    }
}
