using System.Globalization;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;

namespace RnnEmbedded.Tests.Reference;

/// <summary>
/// Seq2seq models against torch.nn encoder–decoders (tests/fixtures/seq2seq, made by make_seq2seq_fixtures.py): the
/// encoder's final (h, c) starts the decoder, as docs/model-format.md's "Sequence to sequence" says.
/// </summary>
public sealed class Seq2SeqParityTests
{
    private const double Tolerance = 1e-5;

    private static string Directory => Path.Combine(AppContext.BaseDirectory, "fixtures", "seq2seq");

    [Theory]
    [InlineData("lstm_2layer")]
    [InlineData("gru_1layer_words")]
    public void EncodeThenStep_MatchesPyTorch(string name)
    {
        ModelSpec spec = ModelBuilder.Build(SafeTensorsReader.ReadFile(Path.Combine(Directory, name + ".safetensors")));
        Assert.Equal(ModelTask.Seq2Seq, spec.Task);
        Assert.NotNull(spec.Encoder);
        (int[] source, int[] tokens, float[][] expected) = Load(Path.Combine(Directory, name + ".expected.txt"));

        float[][] actual = Seq2SeqReference.Run(spec, source, tokens);

        Assert.Equal(expected.Length, actual.Length);
        for (int t = 0; t < expected.Length; t++)
        {
            for (int k = 0; k < expected[t].Length; k++)
            {
                Assert.True(Math.Abs(expected[t][k] - actual[t][k]) <= Tolerance, $"{name} step {t} logit {k}: PyTorch {expected[t][k]}, reference {actual[t][k]}");
            }
        }
    }

    [Fact]
    public void Encode_DependsOnTheSource()
    {
        ModelSpec spec = ModelBuilder.Build(SafeTensorsReader.ReadFile(Path.Combine(Directory, "lstm_2layer.safetensors")));
        float[][] a = Seq2SeqReference.Run(spec, new[] { 0, 1, 2 }, new[] { 0 });
        float[][] b = Seq2SeqReference.Run(spec, new[] { 2, 1, 0 }, new[] { 0 });
        Assert.NotEqual(a[0], b[0]);
    }

    private static (int[] Source, int[] Tokens, float[][] Outputs) Load(string path)
    {
        int[] source = Array.Empty<int>(), tokens = Array.Empty<int>();
        var outputs = new List<float[]>();
        foreach (string line in File.ReadAllLines(path))
        {
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (parts.Length > 0 ? parts[0] : "")
            {
                case "source": source = parts.Skip(1).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray(); break;
                case "tokens": tokens = parts.Skip(1).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray(); break;
                case "output": outputs.Add(parts.Skip(1).Select(p => float.Parse(p, CultureInfo.InvariantCulture)).ToArray()); break;
            }
        }

        return (source, tokens, outputs.ToArray());
    }
}
