using System.CommandLine;
using System.Text.Json;
using RnnEmbedded.Cli;
using RnnEmbedded.Cli.Commands;

namespace RnnEmbedded.Tests;

public sealed class TrainCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "rnn-train-cli-" + Guid.NewGuid().ToString("N"));

    public TrainCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    internal static (int Exit, string Output, string Error) Run(params string[] args) => Invoke(args);

    private static (int Exit, string Output, string Error) Invoke(params string[] args)
    {
        var root = new RootCommand { TrainCommand.Create() };
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        return (exit, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("--cell", "peephole-gru", "--cell 'peephole-gru' is not one of")]
    [InlineData("--task", "image", "--task 'image' is not one of")]
    [InlineData("--hidden", "0", "--hidden must be at least 1")]
    [InlineData("--dropout", "1.5", "--dropout must be in [0, 1)")]
    [InlineData("--time-limit", "soon", "--time-limit 'soon' is not a duration")]
    public void Train_RejectsBadOptionsWithOneClearMessage(string option, string value, string expected)
    {
        string corpus = Path.Combine(_dir, "c.txt");
        File.WriteAllText(corpus, TrainingTests.CharCorpus());
        var e = Assert.Throws<CommandException>(() => Invoke("train", "--corpus", corpus, option, value, "--out", Path.Combine(_dir, "m.safetensors")));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData(new[] { "--hidden", "100000000" },
        "--hidden 100000000 is too large: W_hh (4·H × H) would have 40,000,000,000,000,000 elements, more than the 2,147,483,591 an array can hold")]
    [InlineData(new[] { "--cell", "rnn-tanh", "--hidden", "50000" }, "--hidden 50000 is too large: W_hh (H × H) would have 2,500,000,000 elements")]
    [InlineData(new[] { "--embedding", "1000000000" }, "--hidden 256 with --embedding 1000000000 is too large: W_ih of layer 0 (4·H × E)")]
    [InlineData(new[] { "--batch", "100000", "--seq-len", "100000" },
        "--batch 100000 × --seq-len 100000 with --hidden 256 is too large: the window's gate buffer (B·T × 4·H) would have 10,240,000,000,000 elements")]
    [InlineData(new[] { "--hidden", "8", "--embedding", "20000000" }, "--batch 32 × --seq-len 64 with --embedding 20000000 is too large: the window's input buffer (B·T × E)")]
    [InlineData(new[] { "--hidden", "8", "--eval-streams", "1000000", "--seq-len", "1000" }, "--eval-streams 1000000 × --seq-len 1000 with --hidden 8 is too large")]
    [InlineData(new[] { "--hidden", "1", "--embedding", "100000000", "--batch", "1", "--seq-len", "1" },
        "--embedding 100000000 with a vocabulary of 28 tokens is too large: the embedding (V × E) would have 2,800,000,000 elements")]
    [InlineData(new[] { "--hidden", "20000", "--layers", "100" }, "--hidden 20000, --layers 100, --embedding 64, --batch 32 and --seq-len 64 with a vocabulary of 28 tokens need about")]
    public void Train_RejectsSizesThatCannotBeAllocated_NamingTheOptionsAndTheProduct(string[] options, string expected)
    {
        string corpus = Path.Combine(_dir, "c.txt");
        File.WriteAllText(corpus, TrainingTests.CharCorpus());
        string[] args = ["train", "--corpus", corpus, .. options, "--out", Path.Combine(_dir, "m.safetensors")];
        var e = Assert.Throws<CommandException>(() => Invoke(args));
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void Train_RejectsAMissingCorpusNamingTheFile()
    {
        string missing = Path.Combine(_dir, "nope.txt");
        var e = Assert.Throws<CommandException>(() => Invoke("train", "--corpus", missing));
        Assert.Contains("nope.txt", e.Message);
    }

    [Fact]
    public void Train_RequiresACorpus()
    {
        var e = Assert.Throws<CommandException>(() => Invoke("train", "--steps", "3"));
        Assert.Contains("--corpus", e.Message);
    }

    [Fact]
    public void Train_Json_PrintsTheSummaryObject()
    {
        string corpus = Path.Combine(_dir, "c.txt");
        File.WriteAllText(corpus, TrainingTests.CharCorpus());
        string model = Path.Combine(_dir, "m.safetensors");
        (int exit, string output, string error) = Invoke("train", "--corpus", corpus, "--hidden", "16", "--embedding", "8", "--batch", "4",
            "--seq-len", "8", "--steps", "5", "--threads", "1", "--sample-seconds", "0", "--out", model, "--json");
        Assert.Equal(0, exit);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement r = doc.RootElement;
        Assert.Equal(5, r.GetProperty("steps").GetInt64());
        Assert.True(r.GetProperty("val_loss").GetDouble() > 0);
        Assert.True(r.GetProperty("tokens_per_second").GetDouble() > 0);
        Assert.True(r.GetProperty("elapsed_seconds").GetDouble() > 0);
        Assert.Contains("done (step limit): 5 steps", error);
        Assert.True(File.Exists(model));
        Assert.True(File.Exists(Path.Combine(_dir, "m.loss.svg")));
        Assert.True(File.Exists(Path.Combine(_dir, "m.ckpt.safetensors")));
    }

    [Fact]
    public void Train_Classify_Json_HasAccuracyAndTheConfusionMatrix()
    {
        string corpus = Path.Combine(_dir, "two.tsv");
        File.WriteAllText(corpus, ClassificationTests.TwoLanguages(40));
        string model = Path.Combine(_dir, "c.safetensors");
        (int exit, string output, string error) = Invoke("train", "--task", "classify", "--corpus", corpus, "--hidden", "8", "--embedding", "4",
            "--batch", "2", "--seq-len", "8", "--steps", "5", "--threads", "1", "--eval-streams", "1", "--out", model, "--json");
        Assert.Equal(0, exit);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement r = doc.RootElement;
        Assert.Equal(new[] { "consonant", "vowel" }, r.GetProperty("labels").EnumerateArray().Select(e => e.GetString()!).ToArray());
        long[][] confusion = r.GetProperty("confusion").EnumerateArray().Select(row => row.EnumerateArray().Select(e => e.GetInt64()).ToArray()).ToArray();
        long total = confusion.Sum(row => row.Sum());
        Assert.Equal(8, total); // 10% of 80 lines held out
        Assert.Equal((confusion[0][0] + confusion[1][1]) / (double)total, r.GetProperty("val_accuracy").GetDouble(), 12);
        Assert.Contains("true \\ predicted", error);
        Assert.Contains("nats/sequence, accuracy", error);
    }

    [Fact]
    public void Train_Classify_RejectsALineWithoutATab()
    {
        string corpus = Path.Combine(_dir, "bad.tsv");
        File.WriteAllText(corpus, "abc\tx\nabd\ty\nno tab\n");
        var e = Assert.Throws<CommandException>(() => Invoke("train", "--task", "classify", "--corpus", corpus, "--out", Path.Combine(_dir, "m.safetensors")));
        Assert.Equal($"{corpus}:3: a classify line is 'text<TAB>label'; no tab found", e.Message);
    }

    [Fact]
    public void Train_Classify_RejectsAnUnknownTokenKind()
    {
        string corpus = Path.Combine(_dir, "two.tsv");
        File.WriteAllText(corpus, ClassificationTests.TwoLanguages(10));
        var e = Assert.Throws<CommandException>(() => Invoke("train", "--task", "classify", "--tokens", "bytes", "--corpus", corpus));
        Assert.Contains("--tokens 'bytes' is not one of: chars, words", e.Message);
    }
}
