using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Runtime;
using RnnEmbedded.Trainer;

using ModelTask = RnnEmbedded.Compiler.Model.ModelTask;

namespace RnnEmbedded.Tests;

/// <summary>
/// Layer stacks in the trainer (docs/training.md, "Layer stacks"): input layers before the recurrent stack and hidden
/// head layers, against finite differences; the written file in the documented scheme, run by the reference engine
/// as the trainer computes it; resume; and the option rules.
/// </summary>
public sealed class LayerStackTests : TrainerTestBase
{
    public LayerStackTests()
        : base("layers")
    {
    }

    private TrainOptions Small(string corpus, string outName) => Quiet(corpus, outName) with
    {
        Task = TrainTask.Regress,
        Hidden = 8,
        Batch = 4,
        SeqLen = 8,
        ValLimit = 0,
        ValFraction = 0.2,
    };

    [Theory]
    [InlineData(TrainCell.Lstm, "4:tanh", "", 1, 1)]
    [InlineData(TrainCell.Gru, "5:relu,4:sigmoid", "3:tanh", 2, 2)]
    [InlineData(TrainCell.RnnTanh, "6:identity", "4:relu,3:sigmoid", 1, 2)]
    [InlineData(TrainCell.Lstm, "", "5:tanh", 2, 1)]
    public void Backward_DenseInputWithLayerStacks_MatchesFiniteDifferences(TrainCell cell, string inputLayers, string headLayers, int layers, int threads)
    {
        const int f = 3, o = 2, batch = 3, steps = 4;
        var shape = new NetworkShape(Vocab: 0, Embedding: 0, Hidden: 5, Layers: layers, Cell: cell, Outputs: o, DenseInputs: f,
            InputLayers: DenseLayerShape.ParseList(inputLayers, "--input-layers"), HeadLayers: DenseLayerShape.ParseList(headLayers, "--head-layers"));
        var net = new Network(shape);
        net.Initialize(11);
        Assert.Equal(shape.InputLayers!.Count, net.InputW.Length);
        Assert.Equal(shape.HeadLayers!.Count, net.HeadLayerW.Length);
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
        int n = batch * steps;
        float dropout = layers > 1 ? 0.25f : 0f;
        var window = new Window(net, batch, steps, new Workers(threads))
        {
            Dropout = dropout,
            InputValues = Enumerable.Range(0, n * f).Select(_ => 2f * rng.NextSingle() - 1f).ToArray(),
            TargetValues = Enumerable.Range(0, n * o).Select(_ => 2f * rng.NextSingle() - 1f).ToArray(),
        };
        for (int r = 0; r < n; r++)
        {
            window.Inputs[r] = (r * 7) % n;
            window.Targets[r] = r % 4 == 1 ? -1 : n - 1 - r;
        }

        window.Reset[batch * 2 + 1] = true;
        Func<double> Loss = GradientCheck.LossFromRandomState(window, ref rng, dropout > 0 ? 7UL : null);

        net.ZeroGrad();
        Loss();
        window.Backward(1f);
        int checkedCount = GradientCheck.AssertMatchesFiniteDifferences(net, Loss, 20);
        Assert.True(checkedCount > 60, $"{checkedCount} gradients checked");
    }

    [Fact]
    public void Train_InputLayersAndHead_WritesTheLayerScheme_AndTheReferenceEngineRunsAsTheTrainerComputes()
    {
        string corpus = Write("delay.csv", RegressionTests.DelayCorpus(80));
        TrainOptions options = Small(corpus, "stack.safetensors") with
        {
            Steps = 60,
            Cell = TrainCell.Lstm,
            InputLayers = "6:tanh,5:relu",
            HeadLayers = "7:sigmoid",
        };
        var session = new TrainingSession(options);
        TrainResult result = session.Run();
        Assert.True(double.IsFinite(result.Validation!.Loss));

        // The documented scheme: input.0, input.2, head.0 (hidden) and head.2 (output), activations in the metadata.
        WeightFile file = SafeTensorsReader.ReadFile(result.ModelPath);
        Assert.Equal("input.0:tanh,input.2:relu", file.Metadata["rnn.input.layers"]);
        Assert.Equal("head.0:sigmoid,head.2:identity", file.Metadata["rnn.head.layers"]);
        Assert.False(file.Metadata.ContainsKey("rnn.head"));
        Assert.Equal("6:tanh,5:relu", file.Metadata["rnn.train.input_layers"]);
        Assert.Equal("7:sigmoid", file.Metadata["rnn.train.head_layers"]);
        Assert.Equal(new[] { 6, 2 }, file.Tensors.Single(t => t.Name == "input.0.weight").Shape);
        Assert.Equal(new[] { 5, 6 }, file.Tensors.Single(t => t.Name == "input.2.weight").Shape);
        Assert.Equal(new[] { 4 * 8, 5 }, file.Tensors.Single(t => t.Name == "rnn.weight_ih_l0").Shape);
        Assert.Equal(new[] { 7, 8 }, file.Tensors.Single(t => t.Name == "head.0.weight").Shape);
        Assert.Equal(new[] { 1, 7 }, file.Tensors.Single(t => t.Name == "head.2.weight").Shape);

        ModelSpec spec = ModelBuilder.Build(file);
        Assert.Equal(InputKind.Dense, spec.InputKind);
        Assert.Equal(2, spec.InputSize);
        Assert.Equal(new[] { DenseActivation.Tanh, DenseActivation.Relu }, spec.InputLayers.Select(l => l.Activation));
        Assert.Equal(DenseActivation.Sigmoid, Assert.Single(spec.HeadLayers).Activation);
        Assert.Equal(DenseActivation.Identity, spec.Head!.Activation);
        Assert.Equal(OutputFunction.None, spec.Output);

        // The reference engine on held-out sequences gives the trainer's own forward outputs.
        TokenStream held = session.Data.Validation;
        int length = held.Length;
        var window = new Window(session.Network, 1, length, new Workers(1)) { InputValues = held.InputValues, TargetValues = held.TargetValues };
        var sequences = new List<(int Start, int Length)>();
        for (int t = 0; t < length; t++)
        {
            window.Inputs[t] = held.Inputs[t];
            window.Targets[t] = held.Targets[t];
            window.Reset[t] = held.Reset[t];
            if (held.Reset[t])
            {
                sequences.Add((t, 0));
            }

            sequences[^1] = (sequences[^1].Start, sequences[^1].Length + 1);
        }

        window.Forward(null);
        Assert.True(sequences.Count >= 2, $"{sequences.Count} held-out sequences");
        int compared = 0;
        foreach ((int start, int count) in sequences)
        {
            var inputs = new float[count][];
            for (int t = 0; t < count; t++)
            {
                inputs[t] = held.InputValues!.AsSpan(held.Inputs[start + t] * 2, 2).ToArray();
            }

            float[][] reference = ReferenceEngine.Run(spec, inputs);
            for (int t = 0; t < count; t++)
            {
                float trainer = window.Outputs(start + t)[0];
                Assert.True(Math.Abs(reference[t][0] - trainer) <= 1e-5f, $"row {start + t}: reference {reference[t][0]}, trainer {trainer}");
                compared++;
            }
        }

        Assert.Equal(length, compared);
    }

    [Fact]
    public void Resume_WithLayerStacks_GivesTheSameWeightsAsAnUninterruptedRun()
    {
        string corpus = Write("resume.csv", RegressionTests.DelayCorpus(60));
        TrainOptions full = Small(corpus, "full.safetensors") with { Steps = 20, Cell = TrainCell.Gru, InputLayers = "4:relu", HeadLayers = "5:tanh,3:relu" };
        new TrainingSession(full).Run();
        TrainResult partial = new TrainingSession(full with { Steps = 7, Out = Path.Combine(Dir, "part.safetensors") }).Run();

        // The architecture comes from the checkpoint: the resumed command line need not repeat the layer options.
        TrainResult end = new TrainingSession(full with
        {
            Out = Path.Combine(Dir, "resumed.safetensors"), Resume = partial.CheckpointPath, InputLayers = "", HeadLayers = "",
        }).Run();
        WeightFile a = SafeTensorsReader.ReadFile(full.Out);
        WeightFile b = SafeTensorsReader.ReadFile(end.ModelPath);
        Assert.Contains(a.Tensors, t => t.Name == "input.0.weight");
        Assert.Contains(a.Tensors, t => t.Name == "head.4.weight");
        Assert.Equal(a.Tensors.Select(t => t.Name), b.Tensors.Select(t => t.Name));
        for (int i = 0; i < a.Tensors.Count; i++)
        {
            Assert.Equal(a.Tensors[i].Data, b.Tensors[i].Data);
        }
    }

    [Fact]
    public void Classify_WithAnMlpHead_Learns_AndTheFileHasTheHeadStack()
    {
        var sb = new System.Text.StringBuilder();
        var rng = new Random(3);
        for (int i = 0; i < 160; i++)
        {
            bool a = rng.Next(2) == 0;
            sb.Append(a ? "aaba" : "bbab").Append(rng.Next(2) == 0 ? "a" : "b").Append('\t').Append(a ? "first" : "second").Append('\n');
        }

        string corpus = Write("cls.tsv", sb.ToString());
        TrainOptions options = Quiet(corpus, "cls.safetensors") with
        {
            Task = TrainTask.Classify,
            Hidden = 8,
            Embedding = 4,
            Batch = 8,
            SeqLen = 16,
            Steps = 80,
            ValLimit = 0,
            ValFraction = 0.2,
            HeadLayers = "6:relu",
        };
        TrainResult result = new TrainingSession(options).Run();
        Assert.True(result.Validation!.Classification!.Accuracy > 0.9, $"accuracy {result.Validation.Classification.Accuracy}");
        ModelSpec spec = ModelBuilder.Build(SafeTensorsReader.ReadFile(result.ModelPath));
        Assert.Equal(ModelTask.Classify, spec.Task);
        Assert.Equal(6, Assert.Single(spec.HeadLayers).OutputSize);
        Assert.Equal(2, spec.OutputSize);
    }

    [Fact]
    public void CharModel_WithHeadLayers_TrainsSamples_AndTheReferenceReproducesTheValidationLoss()
    {
        string corpus = Write("text.txt", string.Concat(Enumerable.Repeat("in the beginning god created the heaven and the earth. ", 40)));
        TrainOptions options = Quiet(corpus, "char.safetensors") with
        {
            Task = TrainTask.Char,
            Hidden = 12,
            Embedding = 6,
            Batch = 4,
            SeqLen = 16,
            Steps = 30,
            ValLimit = 0,
            ValFraction = 0.2,
            HeadLayers = "10:tanh,9:relu",
        };
        var session = new TrainingSession(options);
        TrainResult result = session.Run();
        Assert.False(string.IsNullOrEmpty(session.Sample(20, 3))); // the sampler runs the reference engine on the head MLP

        ModelSpec spec = ModelBuilder.Build(SafeTensorsReader.ReadFile(result.ModelPath));
        Assert.Equal(ModelTask.CharLm, spec.Task);
        Assert.Equal(new[] { 10, 9 }, spec.HeadLayers.Select(l => l.OutputSize));

        // The validation loss, recomputed by the reference engine from the written file: the same streams from the zero state.
        TokenStream held = session.Data.Validation;
        var engine = new ReferenceEngine(spec);
        var logits = new float[spec.OutputSize];
        double sum = 0;
        int count = 0;
        int streams = options.EvalStreams, length = held.Length / streams;
        for (int b = 0; b < streams; b++)
        {
            engine.Reset();
            for (int t = 0; t < length; t++)
            {
                int pos = b * length + t;
                engine.Step(held.Inputs[pos], logits);
                float max = logits.Max();
                double z = logits.Sum(v => Math.Exp(v - max));
                sum += Math.Log(z) - (logits[held.Targets[pos]] - max);
                count++;
            }
        }

        Assert.Equal(result.Validation!.Loss, sum / count, 4);
    }

    [Fact]
    public void Cli_TrainsARegressModelWithLayerStacks_AndABadListIsOneLine()
    {
        string corpus = Write("cli.csv", RegressionTests.DelayCorpus(40));
        string model = Path.Combine(Dir, "cli.safetensors");
        (int exit, _, _) = TrainCommandTests.Run("train", "--task", "regress", "--corpus", corpus, "--cell", "gru", "--hidden", "6",
            "--input-layers", "8:tanh,5:relu", "--head-layers", "7:sigmoid", "--batch", "2", "--seq-len", "8", "--steps", "4", "--threads", "1",
            "--eval-streams", "1", "--out", model);
        Assert.Equal(0, exit);
        WeightFile file = SafeTensorsReader.ReadFile(model);
        Assert.Equal("input.0:tanh,input.2:relu", file.Metadata["rnn.input.layers"]);
        Assert.Equal("head.0:sigmoid,head.2:identity", file.Metadata["rnn.head.layers"]);

        var e = Assert.Throws<Cli.CommandException>(() => TrainCommandTests.Run("train", "--task", "regress", "--corpus", corpus,
            "--head-layers", "8:swish", "--out", model));
        Assert.Equal("--head-layers '8:swish': entry 0 '8:swish': activation 'swish' is not one of identity, relu, tanh, sigmoid", e.Message);
    }

    [Theory]
    [InlineData("char", "4:relu", "", "--input-layers needs dense input (--task regress)")]
    [InlineData("seq2seq", "", "4:relu", "--head-layers is not supported with --task seq2seq")]
    [InlineData("regress", "4:gelu", "", "--input-layers '4:gelu': entry 0 '4:gelu': activation 'gelu' is not one of identity, relu, tanh, sigmoid")]
    [InlineData("regress", "", "0:relu", "--head-layers '0:relu': entry 0 '0:relu' does not start with a layer size of at least 1")]
    [InlineData("regress", "", "8,,4", "--head-layers '8,,4': entry 1 '' does not start with a layer size of at least 1")]
    public void Options_RejectBadLayerLists_NamingTheOptionAndRule(string task, string inputLayers, string headLayers, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => (new TrainOptions
        {
            Task = Enum.Parse<TrainTask>(task, ignoreCase: true),
            InputLayers = inputLayers,
            HeadLayers = headLayers,
        }).Validate());
        Assert.StartsWith(expected, e.Message);
    }
}
