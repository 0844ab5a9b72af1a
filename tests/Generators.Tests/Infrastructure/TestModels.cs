using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Tests.Infrastructure;

/// <summary>Small random models built in code, and their weight-file bytes.</summary>
internal static class TestModels
{
    public static ModelSpec Lstm(int vocab = 11, int e = 5, int h = 9, int seed = 1, int layers = 1)
    {
        var rng = new Random(seed);
        var list = new List<LayerSpec>();
        int input = e;
        for (int l = 0; l < layers; l++)
        {
            list.Add(new LayerSpec
            {
                Cell = CellKind.Lstm,
                InputSize = input,
                HiddenSize = h,
                Forward = new DirectionWeights { W_ih = M(rng, 4 * h, input), W_hh = M(rng, 4 * h, h), b_ih = V(rng, 4 * h), b_hh = V(rng, 4 * h) },
            });
            input = h;
        }

        return new ModelSpec
        {
            InputKind = InputKind.Embedding,
            InputSize = vocab,
            Embedding = M(rng, vocab, e),
            Layers = list,
            Head = new DenseSpec { W = M(rng, vocab, h), b = V(rng, vocab) },
        };
    }

    public static byte[] ToBytes(ModelSpec spec)
    {
        (IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string> metadata) = ModelWriter.ToTensors(spec);
        return SafeTensorsWriter.Write(tensors, metadata);
    }

    public static Matrix M(Random rng, int rows, int cols) =>
        new(rows, cols, Enumerable.Range(0, rows * cols).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray());

    public static float[] V(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
}
