using RnnEmbedded.Compiler.Formats;

namespace RnnEmbedded.Tests.Tool;

/// <summary>A checkpoint written by `rnn train` opens in `rnn inspect` and `rnn run` (our own files open in our own tools).</summary>
public sealed class TrainCheckpointTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "rnn-cli-ckpt-" + Guid.NewGuid().ToString("N"));

    public TrainCheckpointTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    [Theory]
    [InlineData("lstm", "--peepholes")]
    [InlineData("gru", "--gru-form=reset-before")]
    public void Checkpoint_OpensInInspectAndRun_WithTheWeightsOfTheModelFile(string cell, string variant)
    {
        string corpus = Path.Combine(_dir, "c.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog.\n", 30)));
        string model = Path.Combine(_dir, cell + ".safetensors");
        string checkpoint = Path.Combine(_dir, cell + ".ckpt.safetensors");

        // --eval-every 2 puts validation points between training points: the curve that used to hold NaN gaps.
        CliResult train = CliHarness.Run("train", "--corpus", corpus, "--cell", cell, variant, "--hidden", "12", "--embedding", "6",
            "--layers", "2", "--batch", "4", "--seq-len", "8", "--steps", "12", "--eval-every", "2", "--threads", "1",
            "--sample-seconds", "0", "--out", model);
        Assert.True(train.ExitCode == 0, train.Error);
        Assert.True(File.Exists(checkpoint));

        // Every tensor, the trainer's state included, is finite: the strict reader accepts the file.
        WeightFile file = SafeTensorsReader.ReadFile(checkpoint);
        Assert.Contains(file.Tensors, t => t.Name == "train.curve.validation" && t.Shape[0] == 6);

        CliResult inspect = CliHarness.Run("inspect", checkpoint);
        Assert.True(inspect.ExitCode == 0, inspect.Error);
        string[] lines = inspect.Output.Split('\n');
        Assert.Contains("layers: 2", lines);
        Assert.Contains("task: char-lm", lines);
        Assert.Contains("checkpoint: step 12, epoch 0, format 2 (continue with rnn train --resume)", lines);
        CliResult inspectModel = CliHarness.Run("inspect", model);
        string parameters = inspectModel.Output.Split('\n').Single(l => l.StartsWith("parameters:", StringComparison.Ordinal));
        Assert.Contains(parameters, lines);

        // The checkpoint holds the weights of its step, which are the model file's (no --keep-best).
        CliResult runCheckpoint = CliHarness.Run("run", checkpoint, "--text", "the fox");
        CliResult runModel = CliHarness.Run("run", model, "--text", "the fox");
        Assert.True(runCheckpoint.ExitCode == 0, runCheckpoint.Error);
        Assert.Equal(7, runCheckpoint.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(runModel.Output, runCheckpoint.Output);
    }
}
