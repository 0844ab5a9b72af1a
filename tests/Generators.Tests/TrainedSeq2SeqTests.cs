using System.Reflection;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Runtime;
using RnnEmbedded.Tests.Infrastructure;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

/// <summary>
/// A seq2seq model written by the trainer (<c>rnn train --task seq2seq</c>'s library, trained here on a small
/// reversal task) compiles with the generator's emitter and <see cref="Seq2SeqDecoder{TModel}"/>'s greedy decoding of
/// the compiled struct gives the tokens the trainer's own greedy decoding gives.
/// </summary>
public sealed class TrainedSeq2SeqTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "rnn-trained-seq2seq-" + Guid.NewGuid().ToString("N"));

    public TrainedSeq2SeqTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    [Theory]
    [InlineData(TrainCell.Gru, 1, 512)]
    [InlineData(TrainCell.Lstm, 2, 0)]
    public void TrainedModel_CompilesAndDecodesAsTheTrainer(TrainCell cell, int layers, int width)
    {
        string corpus = Path.Combine(_dir, "rev.tsv");
        File.WriteAllText(corpus, Reversals());
        var session = new TrainingSession(new TrainOptions
        {
            Corpus = corpus,
            Task = TrainTask.Seq2Seq,
            Cell = cell,
            Layers = layers,
            Hidden = 20,
            Embedding = 8,
            TargetEmbedding = 5,
            Batch = 16,
            Lr = 1e-2f,
            Steps = 150,
            Threads = 1,
            Out = Path.Combine(_dir, "rev.safetensors"),
            SampleSeconds = 0,
            CheckpointSeconds = 0,
            EvalSeconds = 1e9,
        });
        TrainResult result = session.Run();

        ModelSpec spec = ModelBuilder.Build(Compiler.Formats.SafeTensorsReader.ReadFile(result.ModelPath));
        string name = "Trained.S2S" + cell + layers;
        string src = CSharpEmitter.Emit(spec, new EmitOptions { TypeName = name, MaxVectorWidth = width });
        Type type = InMemoryCompiler.EmitAndLoad(InMemoryCompiler.CreateCompilation("TrainedS2S" + cell + layers + "w" + width, src)).GetType(name)!;

        IReadOnlyList<SequencePair> held = session.Data.ValidationPairs!;
        int maxLength = session.Data.MaxTargetLength;
        int[][] trainer = session.DecodeGreedy(held, maxLength);
        MethodInfo greedy = typeof(TrainedSeq2SeqTests).GetMethod(nameof(Greedy), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        var distinct = new HashSet<string>();
        for (int i = 0; i < held.Count; i++)
        {
            int[] compiled = (int[])greedy.Invoke(null, [held[i].Source, maxLength])!;
            Assert.Equal(trainer[i], compiled);
            distinct.Add(string.Join(",", compiled));
        }

        Assert.True(distinct.Count > 5, $"only {distinct.Count} distinct decodings: the comparison would say little");
    }

    private static int[] Greedy<TModel>(int[] source, int maxLength)
        where TModel : struct, ISequenceToSequenceModel<TModel>
    {
        var decoder = new Seq2SeqDecoder<TModel>(maxLength);
        var target = new int[maxLength];
        int n = decoder.DecodeGreedy(source, target);
        return target[..n];
    }

    // Words of 1–5 letters from "abcde" → the word reversed and upper-cased.
    private static string Reversals()
    {
        var rng = new Random(5);
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < 300; i++)
        {
            var chars = new char[rng.Next(1, 6)];
            for (int k = 0; k < chars.Length; k++)
            {
                chars[k] = "abcde"[rng.Next(5)];
            }

            string word = new(chars);
            Array.Reverse(chars);
            sb.Append(word).Append('\t').Append(new string(chars).ToUpperInvariant()).Append('\n');
        }

        return sb.ToString();
    }
}
