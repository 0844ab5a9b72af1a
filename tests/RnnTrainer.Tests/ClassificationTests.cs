using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

/// <summary>The classify task (many-to-one): the corpus rules, the label at the last token, training, resume, the written model.</summary>
public sealed class ClassificationTests : TrainerTestBase
{
    public ClassificationTests()
        : base("classify")
    {
    }

    /// <summary>Words of two made-up languages: "vowel" words of a, e, o and "consonant" words ending in k, t, z.</summary>
    internal static string TwoLanguages(int perLabel = 200, int seed = 3)
    {
        var rng = new Random(seed);
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < perLabel; i++)
        {
            sb.Append(Word(rng, "aeo", 'l')).Append("\tvowel\n");
            sb.Append(Word(rng, "ktz", 'a')).Append("\tconsonant\n");
        }

        return sb.ToString();

        static string Word(Random rng, string letters, char filler)
        {
            int n = rng.Next(3, 8);
            var chars = new char[n];
            for (int k = 0; k < n; k++)
            {
                chars[k] = k % 2 == 0 ? letters[rng.Next(letters.Length)] : filler;
            }

            return new string(chars);
        }
    }

    private TrainOptions Small(string corpus, string outName) => Quiet(corpus, outName) with
    {
        Task = TrainTask.Classify,
        Hidden = 16,
        Embedding = 8,
        Batch = 4,
        SeqLen = 8,
        ValLimit = 0,
        ValFraction = 0.2,
    };

    [Theory]
    [InlineData("abc\tx\nno tab here\n", "c.tsv:2: a classify line is 'text<TAB>label'; no tab found")]
    [InlineData("abc\tx\nabd\t  \n", "c.tsv:2: the label after the tab is empty")]
    [InlineData("abc\tx\n\tx\n", "c.tsv:2: the text before the tab is empty")]
    [InlineData("abc\tx\nabd\tx\ty\n", "c.tsv:2: a classify line has one tab")]
    [InlineData("abc\tx\nabd\tx\n\nabe\tx\n", "c.tsv: every line has the label 'x'; a classifier needs at least 2 labels")]
    [InlineData("\n\n", "c.tsv: a classify corpus needs 'text<TAB>label' lines; found none")]
    public void Load_RejectsBadLinesNamingTheFileLineAndRule(string text, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() =>
            Dataset.ClassificationFromText(text, "c.tsv", ClassifyTokens.Chars, 0.2, 0, 100, true, 1));
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void Load_PutsTheLabelOnTheLastTokenOfEachSequence()
    {
        // Labels sorted ordinally; chars never seen in training ('q' only in one line, which may be held out) are skipped.
        Dataset data = Dataset.ClassificationFromText("ab\ty\nba\tx\naab\ty\nbba\tx\n", "c.tsv", ClassifyTokens.Chars, 0, 0, 100, true, 1);
        Assert.Equal(new[] { "x", "y" }, data.Labels);
        Assert.Equal(new[] { "a", "b" }, data.Vocabulary.Tokens);
        TokenStream s = data.Train;
        Assert.Equal(10, s.Length);
        int sequences = 0;
        for (int i = 0; i < s.Length; i++)
        {
            bool last = i + 1 == s.Length || s.Reset[i + 1];
            if (s.Reset[i])
            {
                sequences++;
            }

            Assert.Equal(last, s.Targets[i] >= 0);
            if (last)
            {
                // Sequences ending in 'b' (id 1) are labelled y (id 1), those ending in 'a' x.
                Assert.Equal(s.Inputs[i], s.Targets[i]);
            }
        }

        Assert.Equal(4, sequences);
    }

    [Fact]
    public void Load_Words_FeedsStartWordsStop()
    {
        Dataset data = Dataset.ClassificationFromText("good day\tpos\nbad day\tneg\n", "c.tsv", ClassifyTokens.Words, 0, 0, 100, true, 1);
        Assert.Equal(Compiler.Model.ModelVocabularyKind.Words, data.Vocabulary.Kind);
        int start = data.Vocabulary.StartToken, stop = data.Vocabulary.StopToken;
        Assert.Equal(8, data.Train.Length); // 2 × (<start> w w <stop>)
        for (int i = 0; i < 8; i += 4)
        {
            Assert.Equal(start, data.Train.Inputs[i]);
            Assert.Equal(stop, data.Train.Inputs[i + 3]);
            Assert.Equal(-1, data.Train.Targets[i + 2]);
            Assert.True(data.Train.Targets[i + 3] >= 0);
        }
    }

    [Fact]
    public void Load_ShufflesBeforeTheSplit_SoASortedFileHoldsOutEveryLabel()
    {
        Dataset data = Dataset.ClassificationFromText(TwoLanguages(), "c.tsv", ClassifyTokens.Chars, 0.1, 0, 100, true, 5);
        var held = new HashSet<int>(data.Validation.Targets.Where(t => t >= 0));
        Assert.Equal(2, held.Count);
    }

    [Fact]
    public void Train_LearnsTwoLanguages_AndWritesAClassifierTheBuilderAccepts()
    {
        string corpus = Write("two.tsv", TwoLanguages());
        var session = new TrainingSession(Small(corpus, "two.safetensors") with { Steps = 150 });
        TrainResult result = session.Run();
        ClassificationReport report = result.Validation!.Classification!;
        Assert.Equal(80, report.Total);
        Assert.True(report.Accuracy >= 0.95, $"accuracy {report.Accuracy} after 150 steps\n{report.Format()}");
        Assert.Contains("vowel", report.Format());

        ModelSpec spec = ModelBuilder.Build(SafeTensorsReader.ReadFile(result.ModelPath));
        Assert.Equal(ModelTask.Classify, spec.Task);
        Assert.Equal(new[] { "consonant", "vowel" }, spec.Labels);
        Assert.Equal(2, spec.Head!.OutputSize);
        Assert.Equal(report.Accuracy.ToString("R", System.Globalization.CultureInfo.InvariantCulture), spec.Metadata["rnn.train.val_accuracy"]);
    }

    [Fact]
    public void Resume_GivesTheSameWeightsAsAnUninterruptedRun()
    {
        string corpus = Write("resume.tsv", TwoLanguages(60));
        TrainOptions full = Small(corpus, "full.safetensors") with { Steps = 30, Cell = TrainCell.Gru };
        new TrainingSession(full).Run();
        TrainResult partial = new TrainingSession(full with { Steps = 11, Out = Path.Combine(Dir, "part.safetensors") }).Run();
        TrainResult end = new TrainingSession(full with { Out = Path.Combine(Dir, "resumed.safetensors"), Resume = partial.CheckpointPath }).Run();
        Assert.Equal(30, end.Steps);
        WeightFile a = SafeTensorsReader.ReadFile(full.Out);
        WeightFile b = SafeTensorsReader.ReadFile(end.ModelPath);
        WeightFile mid = SafeTensorsReader.ReadFile(partial.ModelPath);
        for (int i = 0; i < a.Tensors.Count; i++)
        {
            Assert.Equal(a.Tensors[i].Data, b.Tensors[i].Data);
        }

        Assert.NotEqual(a.Tensors[^1].Data, mid.Tensors[^1].Data);
    }
}
