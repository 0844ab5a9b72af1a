using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Tests.Tool;

/// <summary>
/// Small random character models written with ModelWriter, for the rnn visualize tests (also compiled into
/// tests/Browser.Tests). The vocabulary has every character the text features look at.
/// </summary>
internal static class CharModels
{
    public const string Characters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n.,;:'\"()?!-";

    /// <summary>A sample text: quotes, parentheses, digits and lines of different lengths.</summary>
    public const string SampleText =
        "In the year 1611 (a long time ago) a book was printed.\n" +
        "He said, \"Let there be light\" and there was light (and it was good).\n" +
        "Chapter 3: verses 16 to 21.\n" +
        "She asked, \"Where (if anywhere) is the 2nd copy?\"\n" +
        "No.\n";

    /// <summary>An LSTM (embedding 8, <paramref name="layers"/> × H <paramref name="hidden"/>, head) over <see cref="Characters"/>.</summary>
    public static ModelSpec Lstm(int hidden = 12, int layers = 2, int seed = 7)
    {
        var rng = new Random(seed);
        string[] tokens = Characters.Select(c => c.ToString()).ToArray();
        int vocab = tokens.Length;
        const int Embedding = 8;
        var list = new List<LayerSpec>();
        int input = Embedding;
        for (int k = 0; k < layers; k++)
        {
            list.Add(new LayerSpec
            {
                Cell = CellKind.Lstm,
                InputSize = input,
                HiddenSize = hidden,
                Forward = new DirectionWeights
                {
                    W_ih = Random(rng, 4 * hidden, input),
                    W_hh = Random(rng, 4 * hidden, hidden),
                    b_ih = Random(rng, 1, 4 * hidden).Data,
                    b_hh = Random(rng, 1, 4 * hidden).Data,
                },
            });
            input = hidden;
        }

        return new ModelSpec
        {
            InputKind = InputKind.Embedding,
            InputSize = vocab,
            Embedding = Random(rng, vocab, Embedding),
            Layers = list,
            Head = new DenseSpec { W = Random(rng, vocab, hidden), b = Random(rng, 1, vocab).Data },
            Vocabulary = new Vocabulary(ModelVocabularyKind.Characters, tokens),
            Task = ModelTask.CharLm,
        };
    }

    /// <summary>Writes <paramref name="spec"/> to a new temporary .safetensors file and returns its path.</summary>
    public static string WriteTemp(ModelSpec spec)
    {
        string path = Path.Combine(Path.GetTempPath(), "rnn-charmodel-" + Guid.NewGuid().ToString("N") + ".safetensors");
        ModelWriter.WriteFile(path, spec);
        return path;
    }

    private static Matrix Random(Random rng, int rows, int cols)
    {
        var data = new float[rows * cols];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)(rng.NextDouble() * 2 - 1);
        }

        return new Matrix(rows, cols, data);
    }
}
