using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

/// <summary>
/// Seq2seq batches run windows fitted to their longest source and target (Seq2SeqWindow.Fill): the same training, bit
/// for bit, as windows as long as the corpus-wide longest pair (TrainOptions.FullSeq2SeqWindows), for every cell,
/// 1–3 layers, dropout (whose masks are drawn as the full window draws them) and 1 and 2 threads.
/// </summary>
public sealed class Seq2SeqFittedWindowTests : TrainerTestBase
{
    public Seq2SeqFittedWindowTests()
        : base("seq2seq-fitted")
    {
    }

    /// <summary>Sources of 1–14 letters (most short, a few long) → the letters reversed and upper-cased.</summary>
    private static string SpreadPairs(int count, int seed)
    {
        var rng = new Random(seed);
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < count; i++)
        {
            int length = rng.Next(8) == 0 ? rng.Next(8, 15) : rng.Next(1, 6);
            var chars = new char[length];
            for (int k = 0; k < length; k++)
            {
                chars[k] = "abcdef"[rng.Next(6)];
            }

            string word = new(chars);
            Array.Reverse(chars);
            sb.Append(word).Append('\t').Append(new string(chars).ToUpperInvariant()).Append('\n');
        }

        return sb.ToString();
    }

    [Theory]
    [InlineData(TrainCell.Lstm, 1, 0f, 1, false)]
    [InlineData(TrainCell.Lstm, 2, 0.3f, 2, false)]
    [InlineData(TrainCell.Lstm, 3, 0.3f, 1, true)]
    [InlineData(TrainCell.Gru, 1, 0f, 2, false)]
    [InlineData(TrainCell.Gru, 2, 0.3f, 1, false)]
    [InlineData(TrainCell.Gru, 2, 0.3f, 2, true)]
    [InlineData(TrainCell.RnnTanh, 2, 0.3f, 2, false)]
    [InlineData(TrainCell.RnnRelu, 2, 0.3f, 1, false)]
    [InlineData(TrainCell.RnnRelu, 1, 0f, 2, false)]
    public void FittedWindows_TrainBitForBitAsCorpusWideWindows(TrainCell cell, int layers, float dropout, int threads, bool variant)
    {
        string corpus = Write("spread.tsv", SpreadPairs(150, 3));
        TrainOptions fitted = Quiet(corpus, "fitted.safetensors") with
        {
            Task = TrainTask.Seq2Seq,
            Cell = cell,
            Peepholes = variant && cell == TrainCell.Lstm,
            GruResetBefore = variant && cell == TrainCell.Gru,
            Layers = layers,
            Dropout = dropout,
            Threads = threads,
            Hidden = 12,
            Embedding = 6,
            TargetEmbedding = 5,
            Batch = 8,
            EvalStreams = 6,
            ValFraction = 0.1,
            Steps = 25, // past an epoch (17 batches): a second order and a partial last batch
        };
        TrainOptions full = fitted with { FullSeq2SeqWindows = true, Out = Path.Combine(Dir, "full.safetensors") };
        var a = new TrainingSession(fitted);
        var b = new TrainingSession(full);
        Assert.True(a.Data.MaxSourceLength >= 8, "the corpus needs a long source for the windows to differ");
        TrainResult ra = a.Run();
        TrainResult rb = b.Run();

        IReadOnlyList<Parameter> pa = a.Network.Parameters, pb = b.Network.Parameters;
        Assert.Equal(pa.Count, pb.Count);
        for (int i = 0; i < pa.Count; i++)
        {
            Assert.Equal(pa[i].Name, pb[i].Name);
            for (int j = 0; j < pa[i].Value.Length; j++)
            {
                int x = BitConverter.SingleToInt32Bits(pa[i].Value[j]), y = BitConverter.SingleToInt32Bits(pb[i].Value[j]);
                Assert.True(x == y, $"{pa[i].Name}[{j}]: {pa[i].Value[j]:R} fitted, {pb[i].Value[j]:R} full");
            }
        }

        Assert.Equal(rb.TrainLoss, ra.TrainLoss); // the smoothed training loss: every step's loss is the same sum
        Assert.Equal(rb.Validation!.Loss, ra.Validation!.Loss);
        Assert.Equal(rb.Validation.Sequences!.ExactMatches, ra.Validation.Sequences!.ExactMatches);
        Assert.Equal(rb.Validation.Sequences.CorrectTokens, ra.Validation.Sequences.CorrectTokens);
        Assert.Equal(rb.Validation.Tokens, ra.Validation.Tokens);
    }

    [Fact]
    public void Fill_RunsTheBatchsLongestSourceAndTargetPlusOne_OrEveryStepWithFullWindows()
    {
        var encoder = new NetworkShape(Vocab: 6, Embedding: 4, Hidden: 5, Layers: 1, Cell: TrainCell.Gru, Head: false);
        var net = new Network(new NetworkShape(Vocab: 7, Embedding: 3, Hidden: 5, Layers: 1, Cell: TrainCell.Gru, Encoder: encoder));
        net.Initialize(1);
        var pairs = new List<SequencePair> { new([1, 2, 3, 4, 5, 1, 2], [2, 3, 4, 5, 6]), new([5, 0], [6]), new([3, 1, 1], [4, 4]) };
        var window = new Seq2SeqWindow(net, batch: 2, sourceSteps: 7, targetSteps: 6, startToken: 0, stopToken: 1, new Workers(1));
        window.Fill(pairs, [1, 2]);
        Assert.Equal((3, 3), (window.Encoder.Steps, window.Decoder.Steps));

        // Rows t·B + b: stream 0 is "5 0" right-aligned after one padding step, stream 1 is "3 1 1".
        Assert.Equal([0, 3, 5, 1, 0, 1], window.Encoder.Inputs.Take(6));
        Assert.Equal([true, true, true, false, false, false], window.Encoder.Reset.Take(6));
        Assert.Equal([6, 4, 1, 4, -1, 1], window.Decoder.Targets.Take(6)); // "6 <stop>" and "4 4 <stop>"

        window.FullWindows = true;
        window.Fill(pairs, [1, 2]);
        Assert.Equal((7, 6), (window.Encoder.Steps, window.Decoder.Steps));
        Assert.Equal([3, 5, 1, 0, 1], window.Encoder.Inputs.Skip(9).Take(5)); // steps 4–6 of 7
        Assert.True(window.Encoder.Reset[10]); // stream 0's first token at step 5

        window.FullWindows = false;
        window.Fill(pairs, [0]);
        Assert.Equal((7, 6), (window.Encoder.Steps, window.Decoder.Steps)); // the corpus' longest pair fills the buffers
        var e = Assert.Throws<ArgumentException>(() => window.Fill([new([1, 2, 3, 4, 5, 1, 2, 3], [2])], [0]));
        Assert.Equal("A pair of 8 source and 1 target tokens does not fit in windows of 7 and 6 steps.", e.Message);
    }
}
