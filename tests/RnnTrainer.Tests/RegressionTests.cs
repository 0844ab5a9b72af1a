using System.Globalization;
using System.Text;
using System.Text.Json;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Runtime;
using RnnEmbedded.Trainer;

using ModelTask = RnnEmbedded.Compiler.Model.ModelTask;

namespace RnnEmbedded.Tests;

/// <summary>
/// The regress task: the CSV rules (file:line), sequences and masked targets, the MSE gradient against finite
/// differences, learning, resume, and the written dense-input model against the reference engine.
/// </summary>
public sealed class RegressionTests : TrainerTestBase
{
    public RegressionTests()
        : base("regress")
    {
    }

    /// <summary>
    /// Sequences of 4–9 steps; inputs x in [−1, 1] and a constant 1; target at step t ≥ 1: 0.8·x(t−1) − 0.5·x(t)
    /// (a one-step memory), empty at step 0 (masked).
    /// </summary>
    internal static string DelayCorpus(int sequences = 120, int seed = 4)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder("sequence,x,one,target\n");
        for (int q = 0; q < sequences; q++)
        {
            int n = rng.Next(4, 10);
            double previous = 0;
            for (int t = 0; t < n; t++)
            {
                double x = Math.Round(rng.NextDouble() * 2 - 1, 3);
                string target = t == 0 ? "" : (0.8 * previous - 0.5 * x).ToString("R", CultureInfo.InvariantCulture);
                sb.Append(CultureInfo.InvariantCulture, $"s{q},{x},1,{target}\n");
                previous = x;
            }
        }

        return sb.ToString();
    }

    private TrainOptions Small(string corpus, string outName) => Quiet(corpus, outName) with
    {
        Task = TrainTask.Regress,
        Hidden = 12,
        Batch = 4,
        SeqLen = 8,
        ValLimit = 0,
        ValFraction = 0.2,
    };

    [Theory]
    [InlineData("sequence,x,target\n1,0.5,1\n1,abc,2\n", "r.csv:3: column 'x': 'abc' is not a finite number")]
    [InlineData("sequence,x,target\n1,0.5,1\n1,0.5,NaN\n", "r.csv:3: column 'target': 'NaN' is not a finite number")]
    [InlineData("sequence,x,target\n1,0.5,1\n1,0.5\n", "r.csv:3: expected 3 comma-separated cells (sequence,x,target), found 2")]
    [InlineData("sequence,x,target\n1,0.5,1\n1,0.5,1,2\n", "r.csv:3: expected 3 comma-separated cells (sequence,x,target), found 4")]
    [InlineData("sequence,x,target\na,1,1\nb,1,1\n\na,1,1\n", "r.csv:5: sequence 'a' reappears after sequence 'b' (its rows ended at line 2)")]
    [InlineData("sequence,x,target\na,1,\nb,2,\n", "r.csv: no row has a target: the target column(s) 'target' are empty on all 2 rows")]
    [InlineData("sequence,x,t1,t2\na,1,1,\n", "r.csv:2: 1 of the 2 target cells are filled; a step has a value in every target column or in none", "t1,t2")]
    [InlineData("sequence,x,y\na,1,1\n", "r.csv:1: the header has no target column 'target' (--target-columns); its columns are sequence, x, y")]
    [InlineData("sequence,,target\na,1,1\n", "r.csv:1: header column 2 has no name")]
    [InlineData("x,x,target\n1,1,1\n", "r.csv:1: the header names column 'x' twice")]
    [InlineData("sequence,x,target\n,1,1\n", "r.csv:2: the sequence id (column 'sequence') is empty")]
    [InlineData("sequence,x,target\na, ,1\n", "r.csv:2: input column 'x' is empty; every input cell needs a number")]
    [InlineData("sequence,target\na,1\n", "r.csv:1: no input column: every column is a target or the sequence id")]
    [InlineData("\n\n", "r.csv: the file is empty; a regression corpus starts with a header line")]
    [InlineData("sequence,x,target\n", "r.csv: no data rows after the header (line 1)")]
    public void Load_RejectsBadInputNamingTheFileLineAndRule(string text, string expected, string targets = "target")
    {
        var e = Assert.Throws<InvalidDataException>(() => Dataset.RegressionFromText(text, "r.csv", targets, null, 0.2, 0));
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void Load_RejectsAMissingSequenceColumnOnlyWhenNamed()
    {
        const string text = "x,target\n1,1\n2,\n3,3\n4,4\n5,5\n";
        var e = Assert.Throws<InvalidDataException>(() => Dataset.RegressionFromText(text, "r.csv", "target", "id", 0.2, 0));
        Assert.StartsWith("r.csv:1: the header has no sequence column 'id' (--sequence-column)", e.Message);
        Assert.Equal(5, Dataset.RegressionFromText(text, "r.csv", "target", null, 0.2, 0).Train.Length
            + Dataset.RegressionFromText(text, "r.csv", "target", null, 0.2, 0).Validation.Length);
    }

    [Fact]
    public void Load_SplitsBySequence_ResetsAtEachStart_AndMasksStepsWithoutATarget()
    {
        // Columns in any order; the id need not be numeric; blank lines skipped; two target columns.
        const string text = "t1,x,id,y,t2\n1,0.5,a,2,-1\n,0.25,a,3,\n\n2,1e-1,b,4,5\n3,0,c,5,6\n,1,c,6,\n4,2,d,7,8\n4.5,3,d,8,9\n";
        Dataset d = Dataset.RegressionFromText(text, "r.csv", "t1, t2", "id", 0.25, 0);
        Assert.Equal(TrainTask.Regress, d.Task);
        Assert.Equal(new[] { "x", "y" }, d.InputColumns);
        Assert.Equal(new[] { "t1", "t2" }, d.TargetColumns);
        Assert.Equal(0, d.VocabularySize);
        Assert.Throws<InvalidOperationException>(() => d.Vocabulary);

        // 4 sequences: the last one (d, 2 rows) is held out.
        Assert.Equal(5, d.Train.Length);
        Assert.Equal(2, d.Validation.Length);
        Assert.Equal(new[] { true, false, true, true, false }, d.Train.Reset);
        Assert.Equal(new[] { true, false }, d.Validation.Reset);
        Assert.Equal(new[] { 0, -1, 1, 2, -1 }, d.Train.Targets);
        float[] inputs = d.Train.InputValues!;
        Assert.Equal(new[] { 0.1f, 4f }, inputs.AsSpan(d.Train.Inputs[2] * 2, 2).ToArray());
        float[] targets = d.Train.TargetValues!;
        Assert.Equal(new[] { 3f, 6f }, targets.AsSpan(d.Train.Targets[3] * 2, 2).ToArray());
        Assert.Equal(new[] { 4.5f, 9f }, targets.AsSpan(d.Validation.Targets[1] * 2, 2).ToArray());
    }

    [Fact]
    public void Load_OneSequence_IsSplitByRows_TheHeldOutPartFromTheZeroState()
    {
        string text = "x,target\n" + string.Concat(Enumerable.Range(0, 10).Select(i => $"{i},{i * 2}\n"));
        Dataset d = Dataset.RegressionFromText(text, "r.csv", "target", null, 0.3, 0);
        Assert.Equal(7, d.Train.Length);
        Assert.Equal(3, d.Validation.Length);
        Assert.True(d.Train.Reset[0]);
        Assert.Equal(1, d.Train.Reset.Count(r => r));
        Assert.True(d.Validation.Reset[0]);
        Assert.Equal(14f, d.Validation.TargetValues![d.Validation.Targets[0]]);
    }

    [Theory]
    [InlineData(TrainCell.Lstm, 1, 1)]
    [InlineData(TrainCell.Lstm, 2, 2)]
    [InlineData(TrainCell.Gru, 1, 2)]
    [InlineData(TrainCell.Gru, 2, 1)]
    [InlineData(TrainCell.RnnTanh, 1, 1)]
    [InlineData(TrainCell.RnnRelu, 2, 2)]
    public void Backward_MeanSquaredError_MatchesFiniteDifferences(TrainCell cell, int layers, int threads)
    {
        const int f = 3, o = 2, batch = 3, steps = 4;
        var shape = new NetworkShape(Vocab: 0, Embedding: 0, Hidden: 5, Layers: layers, Cell: cell, Outputs: o, DenseInputs: f);
        var net = new Network(shape);
        net.Initialize(11);
        Assert.Null(net.Embedding);
        var rng = new Xoshiro128StarStar(5);
        foreach (Parameter p in net.Parameters)
        {
            if (p.Cols == 1)
            {
                for (int i = 0; i < p.Value.Length; i++)
                {
                    p.Value[i] = 0.3f * (2f * rng.NextSingle() - 1f); // non-zero biases
                }
            }
        }

        net.RefreshTransposed();
        float dropout = layers > 1 ? 0.25f : 0f;
        int n = batch * steps;
        var window = new Window(net, batch, steps, new Workers(threads))
        {
            Dropout = dropout,
            InputValues = Enumerable.Range(0, n * f).Select(_ => 2f * rng.NextSingle() - 1f).ToArray(),
            TargetValues = Enumerable.Range(0, n * o).Select(_ => 2f * rng.NextSingle() - 1f).ToArray(),
        };
        for (int r = 0; r < n; r++)
        {
            window.Inputs[r] = n - 1 - r; // any row of the values
            window.Targets[r] = r % 4 == 1 ? -1 : (r * 5) % n; // some steps masked
        }

        window.Reset[batch * 2 + 1] = true;
        Func<double> Loss = GradientCheck.LossFromRandomState(window, ref rng, dropout > 0 ? 7UL : null);

        // The loss is Σ over scored rows of the row's mean squared error.
        net.ZeroGrad();
        double loss = Loss();
        double expected = 0;
        for (int r = 0; r < n; r++)
        {
            if (window.Targets[r] >= 0)
            {
                ReadOnlySpan<float> y = window.Outputs(r);
                double row = 0;
                for (int j = 0; j < o; j++)
                {
                    double d = (double)y[j] - window.TargetValues[window.Targets[r] * o + j];
                    row += d * d;
                }

                expected += row / o;
            }
        }

        Assert.Equal(expected, loss, 9);
        Assert.Equal(9, window.TargetCount);
        window.Backward(1f);
        const float epsilon = 3e-3f;
        int checkedCount = 0;
        foreach (Parameter p in net.Parameters)
        {
            float[] analytic = (float[])p.Grad.Clone();
            int stride = Math.Max(1, p.Value.Length / 20);
            for (int i = 0; i < p.Value.Length; i += stride)
            {
                float saved = p.Value[i];
                p.Value[i] = saved + epsilon;
                net.RefreshTransposed();
                double plus = Loss();
                p.Value[i] = saved - epsilon;
                net.RefreshTransposed();
                double minus = Loss();
                p.Value[i] = saved;
                net.RefreshTransposed();
                double numeric = (plus - minus) / (2 * epsilon);
                Assert.True(Math.Abs(numeric - analytic[i]) <= 2e-3 + 2e-2 * Math.Abs(numeric), $"{p.Name}[{i}]: analytic {analytic[i]}, numeric {numeric}");
                checkedCount++;
            }
        }

        Assert.True(checkedCount > 40, $"{checkedCount} gradients checked");
    }

    [Fact]
    public void Train_LearnsAOneStepMemory_AndTheWrittenModelRunsAsTheTrainerComputes()
    {
        string corpus = Write("delay.csv", DelayCorpus());
        var session = new TrainingSession(Small(corpus, "delay.safetensors") with { Steps = 300, Cell = TrainCell.Gru });
        TrainResult result = session.Run();
        RegressionReport fit = result.Validation!.Regression!;
        Assert.True(fit.Rows > 100, $"{fit.Rows} held-out targets");
        Assert.Equal(fit.MeanSquaredError, result.Validation.Loss, 9);
        Assert.True(fit.RSquared > 0.9, $"R² {fit.RSquared} (MSE {fit.MeanSquaredError}, variance {fit.TargetVariance}) after 300 steps");

        // The file: dense input (x, one), no vocabulary, a linear head with one output; the training record.
        ModelSpec spec = ModelBuilder.Build(SafeTensorsReader.ReadFile(result.ModelPath));
        Assert.Equal(InputKind.Dense, spec.InputKind);
        Assert.Equal(2, spec.InputSize);
        Assert.Null(spec.Vocabulary);
        Assert.Equal(ModelTask.Generic, spec.Task);
        Assert.Equal(DenseActivation.Identity, spec.Head!.Activation);
        Assert.Empty(spec.HeadLayers);
        Assert.Equal(OutputFunction.None, spec.Output);
        Assert.Equal(1, spec.OutputSize);
        Assert.Equal("regress", spec.Metadata["rnn.train.task"]);
        Assert.Equal("[\"x\",\"one\"]", spec.Metadata["rnn.train.inputs"]);
        Assert.Equal("[\"target\"]", spec.Metadata["rnn.train.targets"]);
        Assert.Equal(fit.MeanSquaredError.ToString("R", CultureInfo.InvariantCulture), spec.Metadata["rnn.train.val_mse"]);

        // The reference engine on a held-out sequence gives the trainer's own forward outputs.
        TokenStream held = session.Data.Validation;
        int length = Array.IndexOf(held.Reset, true, 1);
        length = length < 0 ? held.Length : length;
        var window = new Window(session.Network, 1, length, new Workers(1)) { InputValues = held.InputValues, TargetValues = held.TargetValues };
        var inputs = new float[length][];
        for (int t = 0; t < length; t++)
        {
            window.Inputs[t] = held.Inputs[t];
            window.Targets[t] = held.Targets[t];
            inputs[t] = held.InputValues!.AsSpan(held.Inputs[t] * 2, 2).ToArray();
        }

        window.Reset[0] = true;
        window.Forward(null);
        float[][] reference = ReferenceEngine.Run(spec, inputs);
        for (int t = 0; t < length; t++)
        {
            Assert.True(Math.Abs(reference[t][0] - window.Outputs(t)[0]) <= 1e-5f, $"step {t}: reference {reference[t][0]}, trainer {window.Outputs(t)[0]}");
        }
    }

    [Fact]
    public void Resume_GivesTheSameWeightsAsAnUninterruptedRun()
    {
        string corpus = Write("resume.csv", DelayCorpus(60));
        TrainOptions full = Small(corpus, "full.safetensors") with { Steps = 24, Cell = TrainCell.Lstm, Layers = 2, Dropout = 0.2f };
        new TrainingSession(full).Run();
        TrainResult partial = new TrainingSession(full with { Steps = 9, Out = Path.Combine(Dir, "part.safetensors") }).Run();
        TrainResult end = new TrainingSession(full with { Out = Path.Combine(Dir, "resumed.safetensors"), Resume = partial.CheckpointPath }).Run();
        Assert.Equal(24, end.Steps);
        WeightFile a = SafeTensorsReader.ReadFile(full.Out);
        WeightFile b = SafeTensorsReader.ReadFile(end.ModelPath);
        WeightFile mid = SafeTensorsReader.ReadFile(partial.ModelPath);
        Assert.Equal(a.Tensors.Select(t => t.Name), b.Tensors.Select(t => t.Name));
        for (int i = 0; i < a.Tensors.Count; i++)
        {
            Assert.Equal(a.Tensors[i].Data, b.Tensors[i].Data);
        }

        Assert.NotEqual(a.Tensors[^1].Data, mid.Tensors[^1].Data);
    }

    [Fact]
    public void Resume_OnAShorterFileWithTheSameColumns_StartsANewEpoch()
    {
        // A curriculum: the checkpoint's window index (15) is past the end of the shorter file's epoch.
        string longer = Write("long.csv", DelayCorpus(120));
        TrainResult first = new TrainingSession(Small(longer, "long.safetensors") with { Steps = 15 }).Run();
        string shorter = Write("short.csv", DelayCorpus(40, seed: 8));
        var resumed = new TrainingSession(Small(shorter, "short.safetensors") with { Steps = 20, Resume = first.CheckpointPath });
        Assert.Equal(shorter, resumed.Options.Corpus);
        TrainResult end = resumed.Run();
        Assert.Equal(20, end.Steps);
        Assert.True(double.IsFinite(end.Validation!.Loss));
    }

    [Fact]
    public void Resume_OnACsvWithOtherColumns_IsRefused()
    {
        string corpus = Write("a.csv", DelayCorpus(40));
        TrainResult first = new TrainingSession(Small(corpus, "a.safetensors") with { Steps = 2 }).Run();
        string other = Write("b.csv", DelayCorpus(40).Replace("sequence,x,one,target", "sequence,x,bias,target", StringComparison.Ordinal));
        var e = Assert.Throws<InvalidDataException>(() =>
            new TrainingSession(Small(other, "b.safetensors") with { Steps = 4, Resume = first.CheckpointPath }));
        Assert.Contains("differs from the corpus", e.Message);
    }

    [Fact]
    public void Cli_Json_WithNoScoredHeldOutTarget_WritesNullNotACrash()
    {
        // 32 validation streams over a 60-sequence corpus leave no held-out target scored: the loss is NaN, which
        // JSON cannot hold, so the summary says null.
        string corpus = Write("nan.csv", DelayCorpus(60));
        string model = Path.Combine(Dir, "nan.safetensors");
        (int exit, string output, _) = TrainCommandTests.Run("train", "--task", "regress", "--corpus", corpus, "--cell", "rnn-tanh",
            "--hidden", "6", "--batch", "2", "--seq-len", "8", "--steps", "6", "--threads", "1", "--out", model, "--json");
        Assert.Equal(0, exit);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement r = doc.RootElement;
        Assert.Equal(0, r.GetProperty("val_targets").GetInt64());
        Assert.Equal(JsonValueKind.Null, r.GetProperty("val_loss").ValueKind);
        Assert.Equal(JsonValueKind.Null, r.GetProperty("val_mse").ValueKind);
        Assert.True(r.GetProperty("train_loss").GetDouble() >= 0);
    }

    [Fact]
    public void Cli_Json_ReportsTheHeldOutError_AndACsvErrorIsOneLine()
    {
        string corpus = Write("cli.csv", DelayCorpus(60));
        string model = Path.Combine(Dir, "cli.safetensors");
        (int exit, string output, string error) = TrainCommandTests.Run("train", "--task", "regress", "--corpus", corpus, "--cell", "rnn-tanh",
            "--hidden", "6", "--batch", "2", "--seq-len", "8", "--steps", "6", "--threads", "1", "--eval-streams", "1", "--out", model, "--json");
        Assert.Equal(0, exit);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement r = doc.RootElement;
        double mse = r.GetProperty("val_mse").GetDouble();
        Assert.Equal(mse, r.GetProperty("val_loss").GetDouble(), 12);
        Assert.Equal(Math.Sqrt(mse), r.GetProperty("val_rmse").GetDouble(), 12);
        Assert.True(r.GetProperty("val_targets").GetInt64() > 0);
        Assert.True(r.GetProperty("val_target_variance").GetDouble() > 0);
        Assert.False(r.TryGetProperty("val_perplexity", out _));
        Assert.Contains("2 inputs (x, one) → 1 targets (target)", error);
        Assert.Contains("validation: MSE ", error);
        Assert.True(File.Exists(Path.ChangeExtension(model, null) + ".loss.svg"));
        Assert.Contains("mean squared error", File.ReadAllText(Path.ChangeExtension(model, null) + ".loss.svg"));

        string bad = Write("bad.csv", "sequence,x,target\n1,0.5,1\n1,0.5x,2\n");
        var e = Assert.Throws<Cli.CommandException>(() => TrainCommandTests.Run("train", "--task", "regress", "--corpus", bad, "--out", model));
        Assert.Equal($"{bad}:3: column 'x': '0.5x' is not a finite number", e.Message);
    }
}
