namespace RnnEmbedded.Tests.Tool;

/// <summary>`rnn train` is reachable from the rnn root command (its behaviour is tested in RnnTrainer.Tests).</summary>
public class TrainCommandRegistrationTests
{
    [Fact]
    public void Train_IsARegisteredCommand_AndRejectsAMissingCorpus()
    {
        string missing = Path.Combine(Path.GetTempPath(), "rnn-no-such-corpus-" + Guid.NewGuid().ToString("N") + ".txt");
        CliResult result = CliHarness.Run("train", "--corpus", missing, "--out", Path.Combine(Path.GetTempPath(), "never.safetensors"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error", result.Error);
        Assert.Contains(Path.GetFileName(missing), result.Error);
        Assert.DoesNotContain("Unrecognized command", result.Error);
    }
}
