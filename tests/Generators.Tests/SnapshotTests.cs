using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Tests.Infrastructure;

namespace RnnEmbedded.Tests;

/// <summary>
/// The generated code for one small model, compared with the committed snapshot. When the emitter changes on
/// purpose, the test writes the new output beside the snapshot as *.received.cs: review it and copy it over.
/// </summary>
public class SnapshotTests
{
    private static string SnapshotDir([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "Snapshots");

    private static ModelSpec TinyGru()
    {
        // Deterministic small weights: value = (index % 7 - 3) / 8, exactly representable.
        int n = 0;
        Matrix M(int r, int c) => new(r, c, Enumerable.Range(0, r * c).Select(_ => ((n++ % 7) - 3) / 8f).ToArray());
        float[] V(int k) => Enumerable.Range(0, k).Select(_ => ((n++ % 7) - 3) / 8f).ToArray();
        return new ModelSpec
        {
            InputKind = InputKind.Embedding,
            InputSize = 3,
            Embedding = M(3, 2),
            Layers = new[] { new LayerSpec { Cell = CellKind.Gru, InputSize = 2, HiddenSize = 2, Forward = new DirectionWeights { W_ih = M(6, 2), W_hh = M(6, 2), b_ih = V(6), b_hh = V(6) } } },
            Head = new DenseSpec { W = M(3, 2), b = V(3) },
            Vocabulary = new Vocabulary(ModelVocabularyKind.Characters, new[] { "a", "b", "\"" }),
            Task = ModelTask.CharLm,
        };
    }

    [Fact]
    public void TinyGru_MatchesSnapshot()
    {
        string actual = CSharpEmitter.Emit(TinyGru(), new EmitOptions { TypeName = "Demo.TinyGru", SourceName = "tiny.safetensors" });
        string path = Path.Combine(SnapshotDir(), "TinyGru.g.cs.txt");
        string expected = File.Exists(path) ? File.ReadAllText(path) : "";
        if (expected != actual)
        {
            File.WriteAllText(Path.Combine(SnapshotDir(), "TinyGru.received.cs.txt"), actual);
        }

        Assert.True(expected == actual, $"generated code differs from {path}; see TinyGru.received.cs.txt beside it");
    }
}
