using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Tests.Model;

/// <summary>docs/model-format.md, "Sequence to sequence": what a seq2seq file must satisfy, each rule named in the error.</summary>
public sealed class Seq2SeqBuilderTests
{
    private static string Fixture => Path.Combine(AppContext.BaseDirectory, "fixtures", "seq2seq", "lstm_2layer.safetensors");

    private static WeightFile Edit(Func<Tensor, Tensor?> tensor, Action<Dictionary<string, string>>? metadata = null)
    {
        WeightFile file = SafeTensorsReader.ReadFile(Fixture);
        var tensors = file.Tensors.Select(tensor).Where(t => t is not null).Select(t => t!).ToList();
        var meta = new Dictionary<string, string>(file.Metadata);
        metadata?.Invoke(meta);
        return new WeightFile("s2s.safetensors", tensors, meta);
    }

    private static RnnFormatException Rejects(WeightFile file) => Assert.Throws<RnnFormatException>(() => ModelBuilder.Build(file));

    [Fact]
    public void Build_ReadsBothStacksAndVocabularies()
    {
        ModelSpec spec = ModelBuilder.Build(SafeTensorsReader.ReadFile(Fixture));
        Assert.Equal(2, spec.Encoder!.Layers.Count);
        Assert.Equal(9, spec.Encoder.InputSize);
        Assert.Equal(13, spec.Vocabulary!.Count);
        Assert.Equal(0, spec.Vocabulary.StartToken); // U+0002 in a character vocabulary
        Assert.Equal(1, spec.Vocabulary.StopToken);  // U+0003
        Assert.True(ModelBuilder.CarriesCellState(spec.Encoder.Layers[0], spec.Layers[0]));
    }

    [Fact]
    public void Build_RejectsATensorOutsideEncoderAndDecoder()
    {
        RnnFormatException e = Rejects(Edit(t => t.Name == "decoder.out.bias" ? new Tensor("out.bias", t.Shape, t.Data) : t));
        Assert.Equal("out.bias", e.TensorName);
        Assert.Contains("'encoder.' or 'decoder.'", e.Rule);
    }

    [Fact]
    public void Build_RejectsDifferentLayerCounts()
    {
        RnnFormatException e = Rejects(Edit(t => t.Name.StartsWith("encoder.rnn.", StringComparison.Ordinal) && t.Name.EndsWith("_l1", StringComparison.Ordinal) ? null : t));
        Assert.Contains("the counts must be equal", e.Rule);
    }

    [Fact]
    public void Build_RejectsAMissingSourceVocabulary()
    {
        RnnFormatException e = Rejects(Edit(t => t, m => m.Remove(MetadataKeys.SourceVocabulary)));
        Assert.Equal(MetadataKeys.SourceVocabulary, e.TensorName);
    }

    [Fact]
    public void Build_NamesTheSourceKeyWhenTheSourceVocabularyIsWrong()
    {
        RnnFormatException e = Rejects(Edit(t => t, m => m[MetadataKeys.SourceVocabulary] = "[\"a\",\"b\"]"));
        Assert.Equal(MetadataKeys.SourceVocabulary, e.TensorName);
        Assert.Contains("V = 9", e.Rule);
    }

    [Fact]
    public void Build_RejectsATargetVocabularyWithoutStartAndStop()
    {
        RnnFormatException e = Rejects(Edit(t => t, m => m[MetadataKeys.Vocabulary] = m[MetadataKeys.Vocabulary].Replace("\\u0002", "x", StringComparison.Ordinal)));
        Assert.Equal(MetadataKeys.Vocabulary, e.TensorName);
        Assert.Contains("start", e.Rule);
    }
}
