using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using static RnnEmbedded.Tests.Reference.TestModels;

namespace RnnEmbedded.Tests.Model;

/// <summary>rnn.task=classify and rnn.labels: what the builder accepts, what it rejects (naming the key and rule), and the round trip.</summary>
public sealed class ModelBuilderClassifierTests
{
    private const string Vocab = "[\"a\",\"b\",\"c\",\"d\",\"e\"]";

    /// <summary>emb (5, 3) → LSTM(3, 2) → fc Linear(2, <paramref name="outputs"/>).</summary>
    private static Tensor[] Classifier(int outputs = 3) =>
    [
        T("emb.weight", [5, 3], Values(15, 1)),
        T("lstm.weight_ih_l0", [8, 3], Values(24, 2)),
        T("lstm.weight_hh_l0", [8, 2], Values(16, 3)),
        T("lstm.bias_ih_l0", [8], Values(8, 4)),
        T("lstm.bias_hh_l0", [8], Values(8, 5)),
        T("fc.weight", [outputs, 2], Values(2 * outputs, 6)),
        T("fc.bias", [outputs], Values(outputs, 7)),
    ];

    private static Dictionary<string, string> Meta(string? labels = "[\"de\",\"en\",\"fr\"]", string task = "classify")
    {
        var m = new Dictionary<string, string>
        {
            ["rnn.task"] = task,
            ["rnn.vocab.kind"] = "chars",
            ["rnn.vocab"] = Vocab,
            ["rnn.embedding"] = "emb",
            ["rnn.head"] = "fc",
        };
        if (labels is not null)
        {
            m["rnn.labels"] = labels;
        }

        return m;
    }

    [Fact]
    public void Build_Classifier_ReadsTheLabels_AndTheWriterRoundTripsThem()
    {
        ModelSpec spec = BuildWith(Meta(), Classifier());
        Assert.Equal(ModelTask.Classify, spec.Task);
        Assert.Equal(new[] { "de", "en", "fr" }, spec.Labels);
        Assert.Equal(3, spec.OutputSize);

        (IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string> metadata) = ModelWriter.ToTensors(spec);
        Assert.Equal("[\"de\",\"en\",\"fr\"]", metadata["rnn.labels"]);
        Assert.Equal("classify", metadata["rnn.task"]);
        ModelSpec again = ModelBuilder.Build(SafeTensorsReader.Read(SafeTensorsWriter.Write(tensors, metadata), "again.safetensors"));
        Assert.Null(ModelSpecComparer.FirstDifference(spec, again));
    }

    [Fact]
    public void Comparer_SeesADifferentLabel()
    {
        ModelSpec a = BuildWith(Meta(), Classifier());
        ModelSpec b = BuildWith(Meta("[\"de\",\"en\",\"it\"]"), Classifier());
        Assert.Equal("Labels[2]: expected 'fr', actual 'it'", ModelSpecComparer.FirstDifference(a, b));
    }

    [Theory]
    [InlineData(null, 3, "rnn.task", "'classify' needs the label names in 'rnn.labels'")]
    [InlineData("[\"de\"]", 1, "rnn.labels", "a classifier needs at least 2 labels, found 1")]
    [InlineData("[\"de\",\"en\"]", 3, "rnn.labels", "'classify' needs one head output per label (2), but the head has 3 outputs")]
    [InlineData("[\"de\",\"de\",\"fr\"]", 3, "rnn.labels", "item 1 \"de\" repeats item 0; labels must be unique")]
    [InlineData("[\"de\",\"\",\"fr\"]", 3, "rnn.labels", "item 1 is an empty string; labels must be non-empty")]
    [InlineData("[]", 3, "rnn.labels", "the label list is empty")]
    [InlineData("{\"de\":1}", 3, "rnn.labels", "must be a JSON array of strings")]
    public void Build_RejectsBadLabels_NamingTheKeyAndRule(string? labels, int outputs, string key, string rule)
    {
        var e = Assert.Throws<RnnFormatException>(() => BuildWith(Meta(labels), Classifier(outputs)));
        Assert.Equal(key, e.TensorName);
        Assert.Contains(rule, e.Rule);
    }

    [Fact]
    public void Build_RejectsLabelsOnAnotherTask()
    {
        var e = Assert.Throws<RnnFormatException>(() => BuildWith(Meta("[\"a\",\"b\",\"c\",\"d\",\"e\"]", "char-lm"), Classifier(5)));
        Assert.Equal("rnn.labels", e.TensorName);
        Assert.Contains("labels are only valid with rnn.task=classify (found 'char-lm')", e.Rule);
    }

    [Fact]
    public void Build_RejectsAClassifierWithoutVocabularyOrHead()
    {
        Dictionary<string, string> noVocabulary = Meta();
        noVocabulary.Remove("rnn.vocab");
        noVocabulary.Remove("rnn.vocab.kind");
        var e = Assert.Throws<RnnFormatException>(() => BuildWith(noVocabulary, Classifier()));
        Assert.Contains("'classify' needs a vocabulary", e.Rule);

        Dictionary<string, string> noHead = Meta();
        noHead.Remove("rnn.head");
        Tensor[] headless = Classifier()[..5];
        e = Assert.Throws<RnnFormatException>(() => BuildWith(noHead, headless));
        Assert.Contains("'classify' needs one head output per label (3), but the model has no head", e.Rule);
    }
}
