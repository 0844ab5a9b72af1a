using System.CommandLine;
using RnnEmbedded.Cli;
using RnnEmbedded.Cli.Commands;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

/// <summary>
/// --bucket: seq2seq batches of pairs of similar length (Seq2SeqBuckets), recorded in the metadata, resumed bit for
/// bit, refused for other tasks and against a checkpoint started otherwise.
/// </summary>
public sealed class Seq2SeqBucketTests : TrainerTestBase
{
    public Seq2SeqBucketTests()
        : base("seq2seq-bucket")
    {
    }

    private static List<SequencePair> RandomPairs(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(_ => new SequencePair(new int[rng.Next(1, 30)], new int[rng.Next(1, 12)]))
            .ToList();
    }

    private static int[] Drawn(int count, int seed)
    {
        int[] order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        return order;
    }

    [Fact]
    public void Group_OneChunk_BatchesAreSlicesOfTheSortedOrder_PartialBatchLast()
    {
        List<SequencePair> pairs = RandomPairs(103, 1);
        int[] drawn = Drawn(pairs.Count, 2);
        int[] order = (int[])drawn.Clone();
        Seq2SeqBuckets.Group(order, pairs, batch: 10, chunkBatches: 100, seed: 1, epoch: 0);
        Assert.Equal(Enumerable.Range(0, pairs.Count), order.Order()); // a permutation

        // One chunk sorted by (source, target, drawn position): batch k of the sorted order is some batch of the result.
        int[] sorted = drawn.Select((p, i) => (p, i)).OrderBy(x => pairs[x.p].Source.Length).ThenBy(x => pairs[x.p].Target.Length).ThenBy(x => x.i)
            .Select(x => x.p).ToArray();
        var slices = Enumerable.Range(0, 10).Select(k => string.Join(",", sorted.Skip(k * 10).Take(10))).ToHashSet();
        for (int k = 0; k < 10; k++)
        {
            Assert.Contains(string.Join(",", order.Skip(k * 10).Take(10)), slices);
        }

        Assert.Equal(sorted[100..], order[100..]); // the partial batch: the longest three, last
        Assert.NotEqual(sorted[..100], order[..100]); // the full batches were shuffled
    }

    [Fact]
    public void Group_Chunks_SortWithinEachChunkOnly_AndDependOnSeedAndEpoch()
    {
        List<SequencePair> pairs = RandomPairs(200, 3);
        int[] drawn = Drawn(pairs.Count, 4);
        int[] order = (int[])drawn.Clone();
        Seq2SeqBuckets.Group(order, pairs, batch: 8, chunkBatches: 5, seed: 7, epoch: 3);
        for (int b = 0; b < 25; b++)
        {
            // Each batch holds pairs of one chunk of 40 drawn pairs, in increasing source length.
            int[] batch = order[(b * 8)..(b * 8 + 8)];
            int chunk = Array.IndexOf(drawn, batch[0]) / 40;
            Assert.All(batch, p => Assert.Equal(chunk, Array.IndexOf(drawn, p) / 40));
            Assert.Equal(batch.Select(p => pairs[p].Source.Length).Order(), batch.Select(p => pairs[p].Source.Length));
        }

        int[] again = (int[])drawn.Clone(), otherEpoch = (int[])drawn.Clone();
        Seq2SeqBuckets.Group(again, pairs, 8, 5, 7, 3);
        Seq2SeqBuckets.Group(otherEpoch, pairs, 8, 5, 7, 4);
        Assert.Equal(order, again);
        Assert.NotEqual(order, otherEpoch);
    }

    private TrainOptions Small(string corpus, string outName) => Quiet(corpus, outName) with
    {
        Task = TrainTask.Seq2Seq,
        Cell = TrainCell.Lstm,
        Layers = 2,
        Dropout = 0.2f,
        Hidden = 16,
        Embedding = 6,
        Batch = 8,
        EvalStreams = 5,
        Bucket = 4,
    };

    [Fact]
    public void Train_Bucketed_RecordedInMetadata_ResumesBitForBit_AndDiffersFromUnbucketed()
    {
        string corpus = Write("rev.tsv", Seq2SeqTrainingTests.Reversals(150, 8));
        TrainOptions full = Small(corpus, "full.safetensors") with { Steps = 22 };
        new TrainingSession(full).Run();
        TrainResult partial = new TrainingSession(full with { Steps = 9, Out = Path.Combine(Dir, "part.safetensors") }).Run();
        TrainResult end = new TrainingSession(full with { Bucket = 0, Out = Path.Combine(Dir, "resumed.safetensors"), Resume = partial.CheckpointPath }).Run();
        TrainResult plain = new TrainingSession(full with { Bucket = 0, Out = Path.Combine(Dir, "plain.safetensors") }).Run();
        WeightFile a = SafeTensorsReader.ReadFile(full.Out), b = SafeTensorsReader.ReadFile(end.ModelPath), c = SafeTensorsReader.ReadFile(plain.ModelPath);
        for (int i = 0; i < a.Tensors.Count; i++)
        {
            Assert.Equal(a.Tensors[i].Data, b.Tensors[i].Data);
        }

        Assert.NotEqual(a.Tensors[0].Data, c.Tensors[0].Data); // other batches, other weights
        ModelSpec spec = TrainingCheckpoint.LoadModel(end.ModelPath);
        Assert.Equal("4", spec.Metadata["rnn.train.bucket"]); // the resumed run keeps the checkpoint's --bucket
        Assert.False(TrainingCheckpoint.LoadModel(plain.ModelPath).Metadata.ContainsKey("rnn.train.bucket"));

        var e = Assert.Throws<ArgumentException>(() => new TrainingSession(full with { Bucket = 6, Resume = partial.CheckpointPath }));
        Assert.Equal($"--bucket 6 with --resume: {partial.CheckpointPath} was started with --bucket 4; the batches' order comes from the checkpoint "
            + "(drop the option, or start a new run)", e.Message);
    }

    [Theory]
    [InlineData(TrainTask.Char, 4, "--bucket is a seq2seq option (--task seq2seq): it groups source<TAB>target pairs of similar length into batches")]
    [InlineData(TrainTask.Classify, 2, "--bucket is a seq2seq option (--task seq2seq)")]
    [InlineData(TrainTask.Seq2Seq, -1, "--bucket cannot be negative")]
    public void Options_Bucket_RefusedForOtherTasksAndBelowZero(TrainTask task, int bucket, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => new TrainOptions { Task = task, Bucket = bucket }.Validate());
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void Cli_BucketWithAnotherTask_OneErrorNamingTheOption()
    {
        string corpus = Write("text.txt", "some text to train on\n");
        var root = new RootCommand { TrainCommand.Create() };
        var e = Assert.Throws<CommandException>(() => root.Parse(["train", "--task", "char", "--corpus", corpus, "--bucket", "4", "--out", Path.Combine(Dir, "m.safetensors")])
            .Invoke(new InvocationConfiguration { Output = new StringWriter(), Error = new StringWriter(), EnableDefaultExceptionHandler = false }));
        Assert.StartsWith("--bucket is a seq2seq option (--task seq2seq)", e.Message);
    }
}
