using System.Reflection;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Runtime;
using RnnEmbedded.Tests.Infrastructure;

namespace RnnEmbedded.Tests;

/// <summary>
/// <see cref="Seq2SeqDecoder{TModel}"/> over a generated seq2seq model (the PyTorch fixture lstm_2layer): greedy decoding
/// equals argmax decoding through the reference engine, beam search's best is at least as likely as greedy's, and
/// decoding allocates nothing.
/// </summary>
[Collection(nameof(NoParallelGc))]
public class Seq2SeqDecoderTests
{
    private static readonly int[][] s_sources = { new[] { 0, 3, 8, 1, 2, 7, 4 }, new[] { 5 }, Array.Empty<int>(), new[] { 8, 8, 1, 0 } };

    private static (ModelSpec Spec, Type Type) Compile(int width)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "fixtures", "seq2seq", "lstm_2layer.safetensors");
        ModelSpec spec = ModelBuilder.Build(RnnEmbedded.Compiler.Formats.SafeTensorsReader.ReadFile(path));
        string name = "S2S.D" + width;
        string src = CSharpEmitter.Emit(spec, new EmitOptions { TypeName = name, MaxVectorWidth = width });
        return (spec, InMemoryCompiler.EmitAndLoad(InMemoryCompiler.CreateCompilation("S2S" + width, src)).GetType(name)!);
    }

    [Theory]
    [InlineData(512)]
    [InlineData(0)]
    public void DecodeGreedy_EqualsArgmaxThroughTheReference(int width)
    {
        (ModelSpec spec, Type type) = Compile(width);
        foreach (int[] source in s_sources)
        {
            int[] actual = (int[])Call(nameof(Greedy), type, source, 8)!;
            Assert.Equal(ReferenceGreedy(spec, source, 8), actual);
        }
    }

    [Fact]
    public void DecodeBeam_BestIsAtLeastAsLikelyAsGreedy()
    {
        (ModelSpec spec, Type type) = Compile(256);
        foreach (int[] source in s_sources)
        {
            int[] greedy = ReferenceGreedy(spec, source, 8);
            int[] best = (int[])Call(nameof(BeamBest), type, source, 8)!;
            Assert.True(LogProbability(spec, source, best) >= LogProbability(spec, source, greedy) - 1e-4,
                $"beam [{string.Join(",", best)}] is less likely than greedy [{string.Join(",", greedy)}]");
        }
    }

    [Fact]
    public void Decode_AllocatesNothing()
    {
        (_, Type type) = Compile(512);
        var (bytes, gcs) = ((long, int))Call(nameof(Measure), type, s_sources[0], 500)!;
        Assert.Equal(0L, bytes);
        Assert.Equal(0, gcs);
    }

    private static object? Call(string method, Type type, params object[] args) =>
        typeof(Seq2SeqDecoderTests).GetMethod(method, BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type).Invoke(null, args);

    private static int[] Greedy<TModel>(int[] source, int maxLength)
        where TModel : struct, ISequenceToSequenceModel<TModel>
    {
        var decoder = new Seq2SeqDecoder<TModel>(maxLength);
        var target = new int[maxLength];
        int n = decoder.DecodeGreedy(source, target);
        return target[..n];
    }

    private static int[] BeamBest<TModel>(int[] source, int maxLength)
        where TModel : struct, ISequenceToSequenceModel<TModel>
    {
        var decoder = new Seq2SeqDecoder<TModel>(maxLength, beamWidth: 4, maxResults: 2) { LengthPenalty = 0f };
        var target = new int[2 * maxLength];
        var lengths = new int[2];
        var scores = new float[2];
        int found = decoder.DecodeBeam(source, target, lengths, scores);
        Assert.True(found >= 1);
        return target[..lengths[0]];
    }

    private static (long, int) Measure<TModel>(int[] source, int rounds)
        where TModel : struct, ISequenceToSequenceModel<TModel>
    {
        var decoder = new Seq2SeqDecoder<TModel>(8, beamWidth: 3, maxResults: 2);
        var target = new int[16];
        var lengths = new int[2];
        var scores = new float[2];
        decoder.DecodeGreedy(source, target);
        decoder.DecodeBeam(source, target, lengths, scores);
        int gc0 = GC.CollectionCount(0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 0; r < rounds; r++)
        {
            decoder.DecodeGreedy(source, target);
            decoder.DecodeBeam(source, target, lengths, scores);
        }

        return (GC.GetAllocatedBytesForCurrentThread() - before, GC.CollectionCount(0) - gc0);
    }

    private static int[] ReferenceGreedy(ModelSpec spec, int[] source, int maxLength)
    {
        var engine = new Seq2SeqReference(spec);
        engine.Encode(source);
        var logits = new float[spec.OutputSize];
        var result = new List<int>();
        int token = spec.Vocabulary!.StartToken;
        while (result.Count < maxLength)
        {
            engine.Step(token, logits);
            token = Array.IndexOf(logits, logits.Max());
            if (token == spec.Vocabulary.StopToken)
            {
                break;
            }

            result.Add(token);
        }

        return result.ToArray();
    }

    /// <summary>log P(tokens, then stop unless the length is the cap) under the reference.</summary>
    private static double LogProbability(ModelSpec spec, int[] source, int[] tokens)
    {
        var engine = new Seq2SeqReference(spec);
        engine.Encode(source);
        var logits = new float[spec.OutputSize];
        var logProbs = new float[spec.OutputSize];
        double sum = 0;
        int previous = spec.Vocabulary!.StartToken;
        for (int t = 0; t <= tokens.Length; t++)
        {
            engine.Step(previous, logits);
            ReferenceEngine.LogSoftmax(logits, logProbs);
            if (t == tokens.Length)
            {
                if (tokens.Length < 8)
                {
                    sum += logProbs[spec.Vocabulary.StopToken];
                }

                break;
            }

            sum += logProbs[tokens[t]];
            previous = tokens[t];
        }

        return sum;
    }
}
