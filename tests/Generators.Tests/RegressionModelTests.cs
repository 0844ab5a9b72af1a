using System.Globalization;
using System.Reflection;
using System.Text;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Tests.Infrastructure;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

/// <summary>
/// A model trained by <c>rnn train --task regress</c> (dense input, linear head) compiles, and the generated struct's
/// Step gives the trainer's own forward outputs and the reference engine's, step by step, for every cell.
/// </summary>
public sealed class RegressionModelTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "rnn-regress-gen-" + Guid.NewGuid().ToString("N"));

    public RegressionModelTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    // Sequences of 5–9 steps, inputs x, y in [−1, 1]; targets at odd steps: x(t−1) + 0.5·y(t) and x(t)·y(t).
    private static string Corpus()
    {
        var rng = new Random(9);
        var sb = new StringBuilder("id,x,y,sum,product\n");
        for (int q = 0; q < 60; q++)
        {
            double previous = 0;
            for (int t = 0, n = rng.Next(5, 10); t < n; t++)
            {
                double x = Math.Round(rng.NextDouble() * 2 - 1, 3), y = Math.Round(rng.NextDouble() * 2 - 1, 3);
                string targets = t % 2 == 1 ? string.Create(CultureInfo.InvariantCulture, $"{previous + 0.5 * y:R},{x * y:R}") : ",";
                sb.Append(CultureInfo.InvariantCulture, $"q{q},{x},{y},{targets}\n");
                previous = x;
            }
        }

        return sb.ToString();
    }

    [Theory]
    [InlineData(TrainCell.Lstm, 1)]
    [InlineData(TrainCell.Gru, 2)]
    [InlineData(TrainCell.RnnTanh, 1)]
    [InlineData(TrainCell.Lstm, 1, "6:tanh,5:relu", "7:sigmoid")]
    [InlineData(TrainCell.Gru, 2, "4:sigmoid", "")]
    [InlineData(TrainCell.RnnRelu, 1, "", "6:relu,4:tanh")]
    public void TrainedModel_Generated_EqualsTheTrainersForwardAndTheReference(TrainCell cell, int layers, string inputLayers = "", string headLayers = "")
    {
        string corpus = Path.Combine(_dir, "c.csv");
        File.WriteAllText(corpus, Corpus());
        var options = new TrainOptions
        {
            Corpus = corpus,
            Task = TrainTask.Regress,
            TargetColumns = "sum,product",
            SequenceColumn = "id",
            Cell = cell,
            Layers = layers,
            Hidden = 9,
            Batch = 4,
            SeqLen = 8,
            Lr = 1e-2f,
            Steps = 40,
            Threads = 1,
            Out = Path.Combine(_dir, $"{cell}.safetensors"),
            SampleSeconds = 0,
            CheckpointSeconds = 0,
            EvalSeconds = 1e9,
            EvalStreams = 1,
            InputLayers = inputLayers,
            HeadLayers = headLayers,
        };
        var session = new TrainingSession(options);
        TrainResult result = session.Run();

        ModelSpec spec = ModelBuilder.Build(SafeTensorsReader.ReadFile(result.ModelPath));
        Assert.Equal(InputKind.Dense, spec.InputKind);
        Assert.Equal(2, spec.InputSize);
        Assert.Equal(2, spec.OutputSize);
        Assert.Equal(DenseActivation.Identity, spec.Head!.Activation);
        Assert.Equal(DenseLayerShape.ParseList(inputLayers, "--input-layers").Count, spec.InputLayers.Count);
        Assert.Equal(DenseLayerShape.ParseList(headLayers, "--head-layers").Count, spec.HeadLayers.Count);

        // The trainer's forward pass over the first held-out sequence, from the zero state.
        TokenStream held = session.Data.Validation;
        int length = Array.IndexOf(held.Reset, true, 1);
        length = length < 0 ? held.Length : length;
        var window = new Window(session.Network, 1, length, new Workers(1)) { InputValues = held.InputValues, TargetValues = held.TargetValues };
        var inputs = new float[length][];
        for (int t = 0; t < length; t++)
        {
            window.Inputs[t] = held.Inputs[t];
            window.Targets[t] = -1;
            inputs[t] = held.InputValues!.AsSpan(held.Inputs[t] * 2, 2).ToArray();
        }

        window.Reset[0] = true;
        window.Forward(null);

        // Layer-stack models at every vector width (512, 256, 128, scalar); the others at the widest.
        int[] widths = inputLayers.Length + headLayers.Length > 0 ? [512, 256, 128, 0] : [512];
        float[][] reference = ReferenceEngine.Run(spec, inputs);
        foreach (int width in widths)
        {
            string name = "M" + cell + layers + (inputLayers.Length + headLayers.Length > 0 ? "Stack" : "") + "W" + width;
            string source = CSharpEmitter.Emit(spec, new EmitOptions { TypeName = "Regress." + name, MaxVectorWidth = width });
            Assembly assembly = InMemoryCompiler.EmitAndLoad(InMemoryCompiler.CreateCompilation("Regress_" + name, source));
            Type type = assembly.GetType("Regress." + name, throwOnError: true)!;
            float[][] generated = ModelRunner.StepDense(type, inputs);
            for (int t = 0; t < length; t++)
            {
                for (int j = 0; j < 2; j++)
                {
                    float trainer = window.Outputs(t)[j];
                    Assert.True(MathF.Abs(generated[t][j] - trainer) <= 1e-5f, $"width {width} step {t} output {j}: generated {generated[t][j]}, trainer {trainer}");
                    Assert.True(MathF.Abs(reference[t][j] - trainer) <= 1e-5f, $"step {t} output {j}: reference {reference[t][j]}, trainer {trainer}");
                }
            }
        }
    }
}
