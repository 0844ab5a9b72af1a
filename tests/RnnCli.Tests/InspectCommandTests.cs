using System.Globalization;
using RnnEmbedded.Compiler.Formats;
using static RnnEmbedded.Tests.Tool.CliHarness;

namespace RnnEmbedded.Tests.Tool;

public sealed class InspectCommandTests
{
    [Fact]
    public void Inspect_TwoLayerLstm_ShowsInputLayersHeadAndParameterCount()
    {
        string path = FixturePath("lstm_2layer_odd");

        CliResult r = Run("inspect", path);

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Error);
        string[] lines = r.Output.Split('\n');
        Assert.Equal(path, lines[0]);
        Assert.Contains("input: embedding, 10 tokens -> 13 (token ids 0..9)", lines);
        Assert.Contains("layers: 2", lines);
        Assert.Contains("  0: LSTM (standard)  in 13  H 37  P -  unidirectional  bias  out 37", lines);
        Assert.Contains("  1: LSTM (standard)  in 37  H 37  P -  unidirectional  bias  out 37", lines);
        Assert.Contains("head: dense 37 -> 10, bias", lines);
        Assert.Contains("output: 10 per step", lines);

        // Every tensor of the file is a parameter: the count must equal the file's element total.
        long expected = SafeTensorsReader.ReadFile(path).Tensors.Sum(t => (long)t.Data.Length);
        Assert.Contains($"parameters: {expected.ToString("N0", CultureInfo.InvariantCulture)}", lines);
        Assert.Contains("vocabulary: none", lines);
        Assert.Contains("metadata: 0 entries", lines);
    }

    [Theory]
    [InlineData("lstm_proj_bidir", "  0: LSTM (projection)  in 4  H 9  P 3  bidirectional  bias  out 6")]
    [InlineData("gru_nobias_untied_head", "  0: GRU (reset_after)  in 6  H 8  P -  unidirectional  no bias  out 8")]
    [InlineData("rnn_relu", "  1: RNN (relu)  in 9  H 9  P -  unidirectional  bias  out 9")]
    [InlineData("rnn_tanh_3layer", "  2: RNN (tanh)  in 37  H 37  P -  unidirectional  bias  out 37")]
    [InlineData("lstm_onehot", "input: one-hot, 7 tokens (token ids 0..6)")]
    [InlineData("gru_dense", "input: dense, 5 features per step")]
    [InlineData("gru_bidir_nohead", "head: none (output is the last layer's state)")]
    [InlineData("gru_nobias_untied_head", "head: dense 8 -> 9, no bias")]
    [InlineData("stacks/amp_gru", "head: dense 16 -> 1, bias")]
    public void Inspect_ShowsCellVariantSizesAndHead(string fixture, string expectedLine)
    {
        CliResult r = Run("inspect", FixturePath(fixture));

        Assert.Equal(0, r.ExitCode);
        Assert.Contains(expectedLine, r.Output.Split('\n'));
    }

    [Fact]
    public void Inspect_LayerStacks_ShowsInputLayersMlpHeadAndOutputFunction()
    {
        string path = FixturePath("stacks/deep_stacks_bidir_logsoftmax");
        CliResult r = Run("inspect", path);

        Assert.Equal(0, r.ExitCode);
        string text = r.Output.Replace("\r", "", StringComparison.Ordinal);
        Assert.Contains(
            "input: dense, 5 features per step\ninput layers: 3\n  0: dense 5 -> 7, bias, sigmoid\n  1: dense 7 -> 9, bias, tanh\n"
            + "  2: dense 9 -> 4, bias, identity\nlayers: 2\n", text);
        Assert.Contains("head: MLP, 2 dense layers\n  0: dense 12 -> 7, bias, tanh\n  1: dense 7 -> 3, bias, sigmoid\noutput function: log-softmax\n", text);
        Assert.Contains("output: 3 per step\n", text);
        long expected = SafeTensorsReader.ReadFile(path).Tensors.Sum(t => (long)t.Data.Length);
        Assert.Contains($"parameters: {expected.ToString("N0", CultureInfo.InvariantCulture)}\n", text);
    }

    [Fact]
    public void Inspect_CharLm_ShowsVocabularyAndMetadataInOrdinalOrder()
    {
        CliResult r = Run("inspect", FixturePath("rnn_onehot_charlm"));

        Assert.Equal(0, r.ExitCode);
        string[] lines = r.Output.Split('\n');
        Assert.Contains("task: char-lm", lines);
        Assert.Contains("vocabulary: characters, 12 tokens", lines);
        Assert.Contains("  first: \"a\" \"b\" \"c\" \"d\" \"e\" \"f\" \"g\" \"h\" \" \" \",\" \".\" \"\\n\"", lines);
        Assert.Contains("  special: <start> none, <stop> none, <unk> none", lines);
        Assert.Contains("metadata: 3 entries", lines);
        int task = Array.FindIndex(lines, l => l.StartsWith("  rnn.task = char-lm", StringComparison.Ordinal));
        int vocab = Array.FindIndex(lines, l => l.StartsWith("  rnn.vocab = [", StringComparison.Ordinal));
        int kind = Array.FindIndex(lines, l => l == "  rnn.vocab.kind = chars");
        Assert.True(task >= 0 && vocab > task && kind > vocab, r.Output);
        Assert.Contains("\\n", lines[vocab]); // the newline token is escaped, the value stays on one line
    }

    [Fact]
    public void Inspect_CaptionDecoder_ShowsImageProjectionAndSpecialTokens()
    {
        CliResult r = Run("inspect", FixturePath("caption_lstm"));

        Assert.Equal(0, r.ExitCode);
        string[] lines = r.Output.Split('\n');
        Assert.Contains("task: caption", lines);
        Assert.Contains("image projection: dense 12 -> 6, bias", lines);
        Assert.Contains("vocabulary: words, 10 tokens", lines);
        Assert.Contains("  special: <start> 0, <stop> 1, <unk> 2", lines);
    }

    [Fact]
    public void Inspect_LongMetadataValue_IsTruncated()
    {
        WeightFile source = SafeTensorsReader.ReadFile(FixturePath("lstm_1layer"));
        var metadata = new Dictionary<string, string>(source.Metadata) { ["rnn.train.note"] = new string('x', 500) };
        string path = Path.Combine(Path.GetTempPath(), "rnn-cli-" + Guid.NewGuid().ToString("N") + ".safetensors");
        SafeTensorsWriter.WriteFile(path, source.Tensors, metadata);
        try
        {
            CliResult r = Run("inspect", path);

            Assert.Equal(0, r.ExitCode);
            Assert.Contains("  rnn.train.note = " + new string('x', 100) + "... (500 chars)", r.Output.Split('\n'));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Inspect_CorruptFile_PrintsOneErrorLineAndExits1()
    {
        byte[] bytes = File.ReadAllBytes(FixturePath("lstm_1layer"));
        bytes[8] = (byte)'['; // header no longer starts with '{'
        string path = Path.Combine(Path.GetTempPath(), "rnn-cli-" + Guid.NewGuid().ToString("N") + ".safetensors");
        File.WriteAllBytes(path, bytes);
        try
        {
            CliResult r = Run("inspect", path);

            Assert.Equal(1, r.ExitCode);
            Assert.Equal("", r.Output);
            Assert.StartsWith($"error: {path}: header does not start with '{{'", r.Error);
            Assert.Single(r.Error.TrimEnd('\n').Split('\n'));
            Assert.DoesNotContain("   at ", r.Error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Inspect_MissingFile_Exits1()
    {
        string path = Path.Combine(Path.GetTempPath(), "no-such-" + Guid.NewGuid().ToString("N") + ".safetensors");

        CliResult r = Run("inspect", path);

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: " + path, r.Error);
        Assert.Contains("cannot read", r.Error);
    }

    [Fact]
    public void Inspect_ValidSafetensorsThatIsNotAModel_Exits1WithModelError()
    {
        string path = Path.Combine(Path.GetTempPath(), "rnn-cli-" + Guid.NewGuid().ToString("N") + ".safetensors");
        SafeTensorsWriter.WriteFile(path, [new Tensor("something.else", [2], [1f, 2f])]);
        try
        {
            CliResult r = Run("inspect", path);

            Assert.Equal(1, r.ExitCode);
            Assert.StartsWith("error: ", r.Error);
            Assert.Single(r.Error.TrimEnd('\n').Split('\n'));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Help_IsWrittenToTheGivenOutput_AndListsTheCommands()
    {
        CliResult r = Run("--help");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("inspect <file>", r.Output);
        Assert.Contains("run <file>", r.Output);
        Assert.Contains("convert <file>", r.Output);

        CliResult runHelp = Run("run", "--help");
        Assert.Contains("--tokens", runHelp.Output);
        Assert.Contains("--inputs", runHelp.Output);
        Assert.Contains("--text", runHelp.Output);
        Assert.Contains("--image", runHelp.Output);
    }

    [Fact]
    public void NoArguments_OrUnknownCommand_IsAParseError()
    {
        CliResult missing = Run("inspect");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.NotEqual("", missing.Error);

        CliResult unknown = Run("frobnicate");
        Assert.NotEqual(0, unknown.ExitCode);
    }

    [Fact]
    public void Inspect_Seq2Seq_ShowsEncoderAndDecoderStacksAndBothVocabularies()
    {
        string path = FixturePath(Path.Combine("seq2seq", "lstm_2layer"));

        CliResult r = Run("inspect", path);

        Assert.Equal(0, r.ExitCode);
        string[] lines = r.Output.Split('\n');
        Assert.Contains("task: seq2seq", lines);
        Assert.Contains("encoder input: embedding, 9 tokens -> 6 (token ids 0..8)", lines);
        Assert.Contains("encoder layers: 2", lines);
        Assert.Contains("  0: LSTM (standard)  in 6  H 8  P -  unidirectional  bias  out 8", lines);
        Assert.Contains("input: embedding, 13 tokens -> 5 (token ids 0..12)", lines);
        Assert.Contains("  0: LSTM (standard)  in 5  H 8  P -  unidirectional  bias  out 8", lines);
        Assert.Contains("head: dense 8 -> 13, bias", lines);
        long expected = SafeTensorsReader.ReadFile(path).Tensors.Sum(t => (long)t.Data.Length);
        Assert.Contains($"parameters: {expected.ToString("N0", CultureInfo.InvariantCulture)}", lines);
    }
}
