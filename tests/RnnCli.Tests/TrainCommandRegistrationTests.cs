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

    [Fact]
    public void Train_HugeHidden_IsAnOptionErrorNotAnInternalError()
    {
        CliResult result = CliHarness.Run("train", "--corpus", "unused.txt", "--hidden", "100000000");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: --hidden 100000000 is too large: W_hh (4·H × H) would have 40,000,000,000,000,000 elements", result.Error);
        Assert.DoesNotContain("internal error", result.Error);
    }
}
