using System.Text.Json;
using RnnEmbedded.Cli;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

/// <summary>
/// <c>--forget-bias V</c> (docs/training.md, "Initialisation"): the LSTM forget gate's initial bias is V (b_ih's
/// forget block V, b_hh's 0) and nothing else changes; other cells, CIFG and non-finite values are refused; the value
/// is recorded in the weight file and the checkpoint, and <c>--resume</c> continues without re-initialising.
/// </summary>
public sealed class ForgetBiasTests : TrainerTestBase
{
    public ForgetBiasTests()
        : base("forget-bias")
    {
    }

    private TrainOptions Small(string corpus, string outName) => Quiet(corpus, outName) with
    {
        Task = TrainTask.Regress,
        Cell = TrainCell.Lstm,
        Hidden = 6,
        Batch = 4,
        SeqLen = 8,
        ValLimit = 0,
        ValFraction = 0.2,
    };

    [Theory]
    [InlineData(1f, 1, false)]
    [InlineData(-0.5f, 2, false)]
    [InlineData(2f, 2, true)]
    public void InitialForgetBias_IsTheValue_AndEveryOtherParameterIsAsWithoutTheOption(float value, int layers, bool peepholes)
    {
        string corpus = Write("init.csv", RegressionTests.DelayCorpus(40));
        TrainOptions plain = Small(corpus, "m.safetensors") with { Layers = layers, Peepholes = peepholes };
        Network baseline = new TrainingSession(plain).Network;
        Network net = new TrainingSession(plain with { ForgetBias = value }).Network;
        int h = plain.Hidden;
        for (int k = 0; k < layers; k++)
        {
            float[] bih = net.b_ih[k].Value, bhh = net.b_hh[k].Value;
            Assert.All(bih[h..(2 * h)], b => Assert.Equal(value, b));
            Assert.All(bhh[h..(2 * h)], b => Assert.Equal(0f, b));

            // The other gate blocks keep their PyTorch draws; so the baseline's forget block is not V.
            Assert.Equal(baseline.b_ih[k].Value[..h], bih[..h]);
            Assert.Equal(baseline.b_ih[k].Value[(2 * h)..], bih[(2 * h)..]);
            Assert.Equal(baseline.b_hh[k].Value[(2 * h)..], bhh[(2 * h)..]);
            Assert.Contains(baseline.b_ih[k].Value[h..(2 * h)], b => b != value);
        }

        for (int i = 0; i < net.Parameters.Count; i++)
        {
            if (!net.Parameters[i].Name.Contains(".bias_", StringComparison.Ordinal))
            {
                Assert.Equal(baseline.Parameters[i].Value, net.Parameters[i].Value);
            }
        }
    }

    [Fact]
    public void Seq2SeqEncoderAndDecoder_BothGetTheForgetBias()
    {
        string corpus = Write("pairs.tsv", string.Concat(Enumerable.Range(0, 40).Select(i => $"ab{i}\t{i}ba\n")));
        TrainOptions options = Quiet(corpus, "s.safetensors") with { Task = TrainTask.Seq2Seq, Hidden = 5, Embedding = 4, Batch = 4, ForgetBias = 1f };
        Network net = new TrainingSession(options).Network;
        Assert.NotNull(net.Encoder);
        foreach (Network n in new[] { net, net.Encoder! })
        {
            Assert.All(n.b_ih[0].Value[5..10], b => Assert.Equal(1f, b));
            Assert.All(n.b_hh[0].Value[5..10], b => Assert.Equal(0f, b));
        }
    }

    [Theory]
    [InlineData(TrainCell.Gru, false, 1f, "--forget-bias is an LSTM option (--cell lstm): GRU and plain RNN cells have no forget gate")]
    [InlineData(TrainCell.RnnTanh, false, 1f, "--forget-bias is an LSTM option (--cell lstm)")]
    [InlineData(TrainCell.RnnRelu, false, 0f, "--forget-bias is an LSTM option (--cell lstm)")]
    [InlineData(TrainCell.Lstm, true, 1f, "--forget-bias needs a forget gate; --cifg couples it to the input gate")]
    [InlineData(TrainCell.Lstm, false, float.NaN, "--forget-bias must be a finite number")]
    [InlineData(TrainCell.Lstm, false, float.PositiveInfinity, "--forget-bias must be a finite number")]
    public void Refused_ForCellsWithoutAForgetGate_AndNonFiniteValues(TrainCell cell, bool cifg, float value, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => new TrainOptions { Cell = cell, Cifg = cifg, ForgetBias = value }.Validate());
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void Cli_RefusesItOnGru_WithOneMessage_AndAcceptsItOnLstm()
    {
        string corpus = Write("cli.csv", RegressionTests.DelayCorpus(40));
        string[] common = ["train", "--task", "regress", "--corpus", corpus, "--hidden", "4", "--batch", "4", "--seq-len", "8", "--steps", "3",
            "--threads", "1", "--sample-seconds", "0", "--eval-streams", "1", "--val-fraction", "0.2", "--val-limit", "0", "--json"];
        var e = Assert.Throws<CommandException>(() =>
            TrainCommandTests.Run([.. common, "--cell", "gru", "--forget-bias", "1", "--out", Path.Combine(Dir, "g.safetensors")]));
        Assert.StartsWith("--forget-bias is an LSTM option (--cell lstm)", e.Message);

        string model = Path.Combine(Dir, "l.safetensors");
        (int exit, string output, _) = TrainCommandTests.Run([.. common, "--cell", "lstm", "--forget-bias", "1.5", "--out", model]);
        Assert.Equal(0, exit);
        Assert.Equal(3, JsonDocument.Parse(output).RootElement.GetProperty("steps").GetInt64());
        Assert.Equal("1.5", SafeTensorsReader.ReadFile(model).Metadata["rnn.train.forget_bias"]);
    }

    [Fact]
    public void TrainingSmoke_LearnsTheDelayTask_AndRecordsTheValue()
    {
        string corpus = Write("smoke.csv", RegressionTests.DelayCorpus(120));
        TrainOptions options = Small(corpus, "smoke.safetensors") with { Hidden = 12, Steps = 150, ForgetBias = 1f };
        TrainResult result = new TrainingSession(options).Run();
        Assert.Equal(150, result.Steps);
        var fit = result.Validation!.Regression!;
        Assert.True(fit.RSquared > 0.5, $"held-out R² {fit.RSquared} after 150 steps (the task is a one-step memory)");

        WeightFile model = SafeTensorsReader.ReadFile(result.ModelPath);
        Assert.Equal("1", model.Metadata["rnn.train.forget_bias"]);
        (_, TrainOptions saved) = TrainingCheckpoint.Read(result.CheckpointPath);
        Assert.Equal(1f, saved.ForgetBias);
    }

    [Fact]
    public void WithoutTheOption_NothingIsRecorded()
    {
        string corpus = Write("plain.csv", RegressionTests.DelayCorpus(40));
        TrainResult result = new TrainingSession(Small(corpus, "plain.safetensors") with { Steps = 2 }).Run();
        Assert.False(SafeTensorsReader.ReadFile(result.ModelPath).Metadata.ContainsKey("rnn.train.forget_bias"));
        (_, TrainOptions saved) = TrainingCheckpoint.Read(result.CheckpointPath);
        Assert.Null(saved.ForgetBias);
    }

    [Fact]
    public void Resume_DoesNotReinitialise_AndGivesTheSameWeightsAsAnUninterruptedRun()
    {
        string corpus = Write("resume.csv", RegressionTests.DelayCorpus(60));
        TrainOptions full = Small(corpus, "full.safetensors") with { Steps = 20, Layers = 2, ForgetBias = 1f };
        new TrainingSession(full).Run();
        TrainResult partial = new TrainingSession(full with { Steps = 8, Out = Path.Combine(Dir, "part.safetensors") }).Run();

        // Resumed without the option (the checkpoint's value holds) and with the same value: both continue from the
        // checkpoint's weights, whose forget biases have moved away from 1 by training.
        foreach (float? given in new float?[] { null, 1f })
        {
            var resumed = new TrainingSession(full with
            {
                Out = Path.Combine(Dir, $"resumed-{given}.safetensors"), Resume = partial.CheckpointPath, ForgetBias = given,
            });
            Assert.Equal(1f, resumed.Options.ForgetBias);
            float[] atCheckpoint = SafeTensorsReader.ReadFile(partial.CheckpointPath).Tensors.Single(t => t.Name == "rnn.bias_ih_l0").Data;
            Assert.Equal(atCheckpoint, resumed.Network.b_ih[0].Value);
            Assert.Contains(resumed.Network.b_ih[0].Value[6..12], b => b != 1f);

            TrainResult end = resumed.Run();
            Assert.Equal(20, end.Steps);
            WeightFile a = SafeTensorsReader.ReadFile(full.Out);
            WeightFile b = SafeTensorsReader.ReadFile(end.ModelPath);
            for (int i = 0; i < a.Tensors.Count; i++)
            {
                Assert.Equal(a.Tensors[i].Data, b.Tensors[i].Data);
            }

            Assert.Equal("1", b.Metadata["rnn.train.forget_bias"]);
        }
    }

    [Fact]
    public void Resume_WithAnotherValue_IsRefusedNamingBoth()
    {
        string corpus = Write("other.csv", RegressionTests.DelayCorpus(40));
        TrainResult first = new TrainingSession(Small(corpus, "a.safetensors") with { Steps = 2 }).Run();
        var e = Assert.Throws<ArgumentException>(() =>
            new TrainingSession(Small(corpus, "b.safetensors") with { Steps = 4, Resume = first.CheckpointPath, ForgetBias = 1f }));
        Assert.Equal(
            $"--forget-bias 1 with --resume: {first.CheckpointPath} was started with PyTorch's initialisation (no --forget-bias); "
            + "the forget bias only initialises a new run (drop the option, or start a new run)", e.Message);
    }
}
