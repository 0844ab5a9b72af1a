using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

public sealed class TrainingTests : TrainerTestBase
{
    private const double LossTolerance = 2e-4;
    public TrainingTests()
        : base("trainer")
    {
    }

    internal static string CharCorpus()
    {
        var sb = new System.Text.StringBuilder();
        string[] lines =
        {
            "In the beginning God created the heaven and the earth.",
            "And the earth was without form, and void.",
            "And God said, Let there be light: and there was light.",
            "And God saw the light, that it was good.",
        };
        for (int i = 0; i < 40; i++)
        {
            sb.Append(lines[i % lines.Length]).Append('\n');
        }

        return sb.ToString();
    }

    private TrainOptions Small(string corpus, string outName) => Quiet(corpus, outName) with
    {
        Hidden = 24,
        Embedding = 8,
        Batch = 4,
        SeqLen = 16,
        ValLimit = 0,
    };

    [Fact]
    public void Run_LossFallsOnTinyCorpus()
    {
        string corpus = Write("tiny.txt", CharCorpus());
        var session = new TrainingSession(Small(corpus, "tiny.safetensors") with { Steps = 150 });
        double initial = Validation.EvaluateStream(session.Network, session.Data.Validation, 1, 16, new Workers(1), out _);
        TrainResult result = session.Run();
        Assert.NotNull(result.Validation);
        Assert.True(initial > 2.5, $"untrained loss {initial} should be near ln(V) = {Math.Log(session.Data.Vocabulary.Count)}");
        Assert.True(result.Validation!.Loss < 1.0, $"validation loss {result.Validation.Loss} after 150 steps (initial {initial})");
        Assert.True(File.Exists(result.PlotPath) && File.ReadAllText(result.PlotPath).Contains("<polyline"));
    }

    [Theory]
    [InlineData(TrainCell.Lstm, 2, 0.2f)]
    [InlineData(TrainCell.Gru, 1, 0f)]
    public void Resume_GivesTheSameWeightsAsAnUninterruptedRun(TrainCell cell, int layers, float dropout)
    {
        string corpus = Write("resume.txt", CharCorpus());
        TrainOptions baseOptions = Small(corpus, "full.safetensors") with { Cell = cell, Layers = layers, Dropout = dropout, Decay = LrDecay.Cosine, DecaySteps = 40, Steps = 40, WarmupSteps = 5 };
        new TrainingSession(baseOptions).Run();

        TrainOptions first = baseOptions with { Steps = 17, Out = Path.Combine(Dir, "part.safetensors") };
        TrainResult partial = new TrainingSession(first).Run();
        TrainOptions resumed = baseOptions with { Out = Path.Combine(Dir, "resumed.safetensors"), Resume = partial.CheckpointPath, Corpus = "" };
        resumed = resumed with { Corpus = corpus };
        TrainResult end = new TrainingSession(resumed).Run();
        Assert.Equal(40, end.Steps);

        WeightFile a = SafeTensorsReader.ReadFile(baseOptions.Out);
        WeightFile b = SafeTensorsReader.ReadFile(end.ModelPath);
        WeightFile mid = SafeTensorsReader.ReadFile(partial.ModelPath);
        Assert.Equal(a.Tensors.Count, b.Tensors.Count);
        for (int i = 0; i < a.Tensors.Count; i++)
        {
            Assert.Equal(a.Tensors[i].Name, b.Tensors[i].Name);
            Assert.Equal(a.Tensors[i].Data, b.Tensors[i].Data);
        }

        // The comparison is not vacuous: the weights moved after the checkpoint.
        Assert.NotEqual(a.Tensors[^1].Data, mid.Tensors[^1].Data);
    }

    [Fact]
    public void ThreadCount_DoesNotChangeTheWeights()
    {
        string corpus = Write("threads.txt", CharCorpus());
        TrainOptions one = Small(corpus, "one.safetensors") with { Threads = 1, Steps = 12, Cell = TrainCell.Gru, Layers = 2, Dropout = 0.1f, Hidden = 40 };
        TrainOptions three = one with { Threads = 3, Out = Path.Combine(Dir, "three.safetensors") };
        new TrainingSession(one).Run();
        new TrainingSession(three).Run();
        WeightFile a = SafeTensorsReader.ReadFile(one.Out);
        WeightFile b = SafeTensorsReader.ReadFile(three.Out);
        for (int i = 0; i < a.Tensors.Count; i++)
        {
            Assert.Equal(a.Tensors[i].Data, b.Tensors[i].Data);
        }
    }

    [Fact]
    public void VectorWidth_DoesNotChangeTheWeights()
    {
        string corpus = Write("widths.txt", CharCorpus());
        TrainOptions widest = Small(corpus, "widest.safetensors") with { Steps = 6, Cell = TrainCell.Lstm, Peepholes = true, Layers = 2, Dropout = 0.1f, Hidden = 40 };
        new TrainingSession(widest).Run();
        WeightFile expected = SafeTensorsReader.ReadFile(widest.Out);
        foreach (RnnEmbedded.Runtime.VectorWidth width in new[] { RnnEmbedded.Runtime.VectorWidth.V128, RnnEmbedded.Runtime.VectorWidth.Scalar })
        {
            TrainOptions narrow = widest with { VectorWidth = width, Out = Path.Combine(Dir, width + ".safetensors") };
            new TrainingSession(narrow).Run();
            WeightFile actual = SafeTensorsReader.ReadFile(narrow.Out);
            for (int i = 0; i < expected.Tensors.Count; i++)
            {
                Assert.Equal(expected.Tensors[i].Data, actual.Tensors[i].Data);
            }
        }
    }

    [Theory]
    [InlineData(TrainCell.Lstm, false, false)]
    [InlineData(TrainCell.Gru, true, false)]
    [InlineData(TrainCell.Lstm, true, false)]
    [InlineData(TrainCell.Lstm, true, true)]
    [InlineData(TrainCell.Gru, false, false)]
    [InlineData(TrainCell.RnnRelu, false, false)]
    public void CharModel_RoundTripsAndReferenceEngineGivesTheReportedValidationLoss(TrainCell cell, bool peepholes, bool cifg)
    {
        string corpus = Write("char.txt", CharCorpus());
        // For GRU, `peepholes` selects the reset-before form.
        bool gruResetBefore = cell == TrainCell.Gru && peepholes;
        peepholes &= cell == TrainCell.Lstm;
        TrainOptions options = Small(corpus, "char.safetensors") with
        {
            Cell = cell, Layers = 2, Steps = 30, Peepholes = peepholes, Cifg = cifg, GruResetBefore = gruResetBefore,
        };
        TrainResult result = new TrainingSession(options).Run();

        ModelSpec spec = ModelLoader.Load(result.ModelPath);
        Assert.Equal(ModelTask.CharLm, spec.Task);
        Assert.Equal(ModelVocabularyKind.Characters, spec.Vocabulary!.Kind);
        Assert.Equal(2, spec.Layers.Count);
        Assert.Equal(peepholes, spec.Layers[0].HasPeepholes);
        Assert.Equal(cifg, spec.Layers[0].Cifg);
        Assert.Equal(gruResetBefore ? GruForm.ResetBefore : GruForm.ResetAfter, spec.Layers[0].GruForm);
        Assert.Equal("30", spec.Metadata["rnn.train.steps"]);
        Assert.True(spec.Metadata.ContainsKey("rnn.train.val_bits_per_char"));

        var session = new TrainingSession(options with { Steps = 0 });
        TokenStream val = session.Data.Validation;
        float[][] logits = ReferenceEngine.Run(spec, val.Inputs);
        double loss = 0;
        for (int t = 0; t < val.Length; t++)
        {
            loss += CrossEntropy(logits[t], val.Targets[t]);
        }

        loss /= val.Length;
        Assert.Equal(result.Validation!.Loss, loss, LossTolerance);
        Assert.Equal(double.Parse(spec.Metadata["rnn.train.val_loss"], System.Globalization.CultureInfo.InvariantCulture), result.Validation.Loss);
    }

    [Fact]
    public void WordModel_HasSpecialTokensAndReferenceEngineGivesTheReportedValidationLoss()
    {
        var lines = new List<string>();
        string[] words = { "the cat sat on the mat .", "a dog ran in the park !", "the bird sang a song .", "don't stop the music ." };
        for (int i = 0; i < 60; i++)
        {
            lines.Add(words[i % words.Length]);
        }

        string corpus = Write("words.txt", string.Join("\n", lines) + "\n");
        TrainOptions options = Small(corpus, "word.safetensors") with { Task = TrainTask.Word, Steps = 25, SeqLen = 8, VocabSize = 16 };
        TrainResult result = new TrainingSession(options).Run();
        ModelSpec spec = ModelLoader.Load(result.ModelPath);
        Assert.Equal(ModelTask.WordLm, spec.Task);
        Assert.Equal(new[] { "<start>", "<stop>", "<unk>" }, spec.Vocabulary!.Tokens.Take(3));
        Assert.Equal(3 + 16, spec.Vocabulary.Count); // 18 distinct words: the two rarest become <unk>

        // Each validation line from the zero state: <start> w1 … wn predicts w1 … wn <stop>.
        Dataset data = Dataset.FromText(File.ReadAllText(corpus), corpus, TrainTask.Word, 0.1, 0, 16, true);
        double loss = 0;
        int count = 0;
        int at = 0;
        TokenStream val = data.Validation;
        while (at < val.Length)
        {
            int end = at + 1;
            while (end < val.Length && !val.Reset[end])
            {
                end++;
            }

            float[][] logits = ReferenceEngine.Run(spec, val.Inputs[at..end]);
            for (int t = 0; t < end - at; t++)
            {
                loss += CrossEntropy(logits[t], val.Targets[at + t]);
                count++;
            }

            at = end;
        }

        Assert.Equal(result.Validation!.Tokens, count);
        Assert.Equal(result.Validation.Loss, loss / count, LossTolerance);
    }

    [Fact]
    public void CaptionModel_WritesImageProjectionAndReferenceEngineGivesTheReportedValidationLoss()
    {
        var lines = new List<string>();
        string[] captions = { "a red ball", "a blue car on a road", "two red birds", "a blue sky" };
        for (int i = 0; i < 40; i++)
        {
            int c = i % captions.Length;
            string f = string.Join(" ", Enumerable.Range(0, 5).Select(j => ((c * 5 + j) % 7 / 7.0 - 0.4 + i * 0.001).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            lines.Add(f + "\t" + captions[c]);
        }

        string corpus = Write("captions.txt", string.Join("\n", lines));
        TrainOptions options = Small(corpus, "caption.safetensors") with { Task = TrainTask.Caption, Steps = 25, SeqLen = 8 };
        TrainResult result = new TrainingSession(options).Run();
        ModelSpec spec = ModelLoader.Load(result.ModelPath);
        Assert.Equal(ModelTask.Caption, spec.Task);
        Assert.NotNull(spec.ImageProjection);
        Assert.Equal(5, spec.ImageProjection!.InputSize);
        Assert.Equal("image_proj", spec.Metadata["rnn.image_projection"]);

        Dataset data = Dataset.FromText(File.ReadAllText(corpus), corpus, TrainTask.Caption, 0.1, 0, 10_000, true);
        TokenStream val = data.Validation;
        double loss = 0;
        int count = 0;
        int at = 0;
        while (at < val.Length)
        {
            int end = at + 1;
            while (end < val.Length && !val.Reset[end])
            {
                end++;
            }

            int sample = -1 - val.Inputs[at];
            float[] features = val.Features!.AsSpan(sample * 5, 5).ToArray();
            float[][] logits = ReferenceEngine.RunCaption(spec, features, val.Inputs[(at + 1)..end]);
            for (int t = 1; t < end - at; t++)
            {
                loss += CrossEntropy(logits[t], val.Targets[at + t]);
                count++;
            }

            at = end;
        }

        Assert.Equal(result.Validation!.Tokens, count);
        Assert.Equal(result.Validation.Loss, loss / count, LossTolerance);
    }

    [Fact]
    public void KeepBest_WritesTheWeightsOfTheBestValidation()
    {
        string corpus = Write("best.txt", CharCorpus());
        var evals = new List<EvalResult>();
        TrainOptions options = Small(corpus, "best.safetensors") with { Lr = 0.05f, Steps = 60, EvalEvery = 10, KeepBest = true };
        TrainResult result = new TrainingSession(options, new TrainObserver { Evaluated = evals.Add }).Run();
        double best = evals.Min(e => e.Loss);
        Assert.Equal(6, evals.Count);
        Assert.Equal(best, result.Validation!.Loss);

        ModelSpec spec = ModelLoader.Load(result.ModelPath);
        TokenStream val = new TrainingSession(options with { Steps = 0 }).Data.Validation;
        float[][] logits = ReferenceEngine.Run(spec, val.Inputs);
        double loss = 0;
        for (int t = 0; t < val.Length; t++)
        {
            loss += CrossEntropy(logits[t], val.Targets[t]);
        }

        Assert.Equal(best, loss / val.Length, LossTolerance);
    }

    [Fact]
    public void Constructor_RejectsACorpusShorterThanOneWindow()
    {
        string corpus = Write("short.txt", "abcabcabc");
        var e = Assert.Throws<InvalidDataException>(() => new TrainingSession(Small(corpus, "x.safetensors") with { ValFraction = 0 }));
        Assert.Contains("--batch", e.Message);
    }

    [Fact]
    public void Constructor_RejectsAMissingCorpus()
    {
        var e = Assert.Throws<FileNotFoundException>(() => new TrainingSession(Small(Path.Combine(Dir, "missing.txt"), "x.safetensors")));
        Assert.Contains("missing.txt", e.Message);
    }

    [Fact]
    public void Resume_RejectsAFileThatIsNotACheckpoint()
    {
        string corpus = Write("c.txt", CharCorpus());
        TrainResult result = new TrainingSession(Small(corpus, "m.safetensors") with { Steps = 2 }).Run();
        var e = Assert.Throws<InvalidDataException>(() => new TrainingSession(Small(corpus, "m2.safetensors") with { Resume = result.ModelPath }));
        Assert.Contains("not a training checkpoint", e.Message);
    }

    [Fact]
    public void Resume_RejectsACheckpointOfTheOldFormat_NamingTheFormat()
    {
        string corpus = Write("c.txt", CharCorpus());
        string old = Path.Combine(Dir, "old.ckpt.safetensors");
        SafeTensorsWriter.WriteFile(old, [new Tensor("opt.m.head.bias", [2], [0f, 0f])],
            new Dictionary<string, string> { ["ckpt.kind"] = TrainingCheckpoint.Kind });
        var e = Assert.Throws<InvalidDataException>(() => new TrainingSession(Small(corpus, "m.safetensors") with { Resume = old }));
        Assert.Contains("checkpoint format 1; this trainer resumes format 2 only", e.Message);
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("5m", 300)]
    [InlineData("1h30m", 5400)]
    [InlineData("2.5m", 150)]
    [InlineData("45", 45)]
    public void ParseDuration_AcceptsUnits(string text, double seconds)
    {
        Assert.Equal(seconds, TrainOptions.ParseDuration(text).TotalSeconds, 6);
    }

    [Theory]
    [InlineData("5x")]
    [InlineData("m")]
    [InlineData("-3s")]
    [InlineData("")]
    public void ParseDuration_RejectsGarbage(string text)
    {
        Assert.Throws<ArgumentException>(() => TrainOptions.ParseDuration(text));
    }

    private static double CrossEntropy(float[] logits, int target)
    {
        double max = logits.Max();
        double sum = 0;
        foreach (float z in logits)
        {
            sum += Math.Exp(z - max);
        }

        return Math.Log(sum) - (logits[target] - max);
    }
}
