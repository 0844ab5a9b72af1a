using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

public class DatasetTests
{
    [Fact]
    public void Chars_SplitsTheLastFractionForValidationAndPredictsTheNextCharacter()
    {
        Dataset d = Dataset.FromText("abcdefghij", "t.txt", TrainTask.Char, 0.2, 0, 100, false);
        Assert.Equal(ModelVocabularyKind.Characters, d.Vocabulary.Kind);
        Assert.Equal(10, d.Vocabulary.Count);
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5, 6 }, d.Train.Inputs); // "abcdefgh" → 7 (input, target) pairs
        Assert.Equal(new[] { 1, 2, 3, 4, 5, 6, 7 }, d.Train.Targets);
        Assert.Equal(new[] { 8 }, d.Validation.Inputs); // "ij"
        Assert.Equal(new[] { 9 }, d.Validation.Targets);
    }

    [Fact]
    public void Words_EachLineStartsFreshWithStartAndEndsWithStop()
    {
        Dataset d = Dataset.FromText("a b\nb c\nzzz\n", "w.txt", TrainTask.Word, 0.34, 0, 100, true);
        string[] v = d.Vocabulary.Tokens.ToArray();
        Assert.Equal(new[] { "<start>", "<stop>", "<unk>", "b", "a", "c" }, v);
        // Train: "<start> a b" → "a b <stop>", "<start> b c" → "b c <stop>".
        Assert.Equal(new[] { 0, 4, 3, 0, 3, 5 }, d.Train.Inputs);
        Assert.Equal(new[] { 4, 3, 1, 3, 5, 1 }, d.Train.Targets);
        Assert.Equal(new[] { true, false, false, true, false, false }, d.Train.Reset);
        // Validation: "zzz" is not in the training vocabulary: <start> <unk> → <unk> <stop>.
        Assert.Equal(new[] { 0, 2 }, d.Validation.Inputs);
        Assert.Equal(new[] { 2, 1 }, d.Validation.Targets);
    }

    [Fact]
    public void Captions_ImageStepHasNoTargetThenStartAndWords()
    {
        Dataset d = Dataset.FromText("1 2\tred ball\n3 4\tblue\n", "c.txt", TrainTask.Caption, 0.5, 0, 100, true);
        Assert.Equal(2, d.ImageFeatures);
        int start = d.Vocabulary.StartToken, stop = d.Vocabulary.StopToken;
        int red = d.Vocabulary.Tokens.ToList().IndexOf("red"), ball = d.Vocabulary.Tokens.ToList().IndexOf("ball");
        Assert.Equal(new[] { -1, start, red, ball }, d.Train.Inputs);
        Assert.Equal(new[] { -1, red, ball, stop }, d.Train.Targets);
        Assert.Equal(new[] { true, false, false, false }, d.Train.Reset);
        Assert.Equal(new[] { -2, start, d.Vocabulary.UnknownToken }, d.Validation.Inputs); // sample 1's features, <start>, "blue" (unseen)
        Assert.Equal(new float[] { 1, 2, 3, 4 }, d.Train.Features);
    }

    [Theory]
    [InlineData("1 2 red ball\n3 4\tblue\n", "c.txt:1: a caption line is 'f1 f2 ... fF<TAB>caption words'; no tab found")]
    [InlineData("1 2\tred\n3\tblue\n", "c.txt:2: expected 2 features, found 1")]
    [InlineData("1 x\tred\n3 4\tblue\n", "c.txt:1: feature 2 'x' is not a finite number")]
    [InlineData("1 2\t \n3 4\tblue\n", "c.txt:1: the caption after the tab is empty")]
    public void Captions_RejectMalformedLinesNamingTheLine(string text, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() => Dataset.FromText(text, "c.txt", TrainTask.Caption, 0.5, 0, 100, true));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Load_RejectsInvalidUtf8()
    {
        string path = Path.Combine(Path.GetTempPath(), "rnn-bad-" + Guid.NewGuid().ToString("N") + ".txt");
        File.WriteAllBytes(path, new byte[] { 0x61, 0xFF, 0xFE, 0x62 });
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => Dataset.Load(path, TrainTask.Char, 0.1, 0, 100, false));
            Assert.Contains("not valid UTF-8", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
