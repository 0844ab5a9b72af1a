using System.Text.Json;
using System.Text.RegularExpressions;
using RnnEmbedded.Cli.Commands;
using RnnEmbedded.Cli.Visualize;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using static RnnEmbedded.Tests.Tool.CliHarness;

namespace RnnEmbedded.Tests.Tool;

public sealed class VisualizeCommandTests
{
    private const double Tolerance = 1e-9;

    // ------------------------------------------------------------------ features, by hand

    [Fact]
    public void Features_MatchHandComputedValues()
    {
        string[] text = Chars("a \"b\" (c)\n12 x");
        //                     a  ␠  "  b  "  ␠  (  c  )  \n 1  2  ␠  x
        Assert.Equal([0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], TextFeatures.InsideQuotes.Compute(text));
        Assert.Equal([0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0], TextFeatures.InsideParentheses.Compute(text));
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3], TextFeatures.LinePosition.Compute(text));
        Assert.Equal([1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1], TextFeatures.WordStart.Compute(text));
        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0], TextFeatures.Digit.Compute(text));
    }

    [Fact]
    public void Features_NestedAndStrayParentheses_CurlyQuotes()
    {
        Assert.Equal([0, 1, 1, 1, 1, 1, 1, 1, 0], TextFeatures.InsideParentheses.Compute(Chars(")(a(b)c)d")));
        Assert.Equal([1, 1, 1, 0, 0], TextFeatures.InsideQuotes.Compute(Chars("\u201ca\u201d b")));
        Assert.Equal([1, 0, 1, 0, 1, 0, 0, 1], TextFeatures.WordStart.Compute(Chars("I'm no.é"))); // ' splits words; é is a letter
    }

    // ------------------------------------------------------------------ correlation, by hand

    [Fact]
    public void Pearson_MatchesHandComputedValues()
    {
        // x̄ = 3, ȳ = 4: Σdxdy = 6, Σdx² = 10, Σdy² = 6 → r = 6 / √60.
        Assert.Equal(6 / Math.Sqrt(60), CellCorrelation.Pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]), Tolerance);
        // A binary feature: x̄ = 0.4, ȳ = 0.25: Σdxdy = 0.5, Σdx² = 0.38, Σdy² = 0.75 → r = 0.5 / √0.285.
        Assert.Equal(0.5 / Math.Sqrt(0.285), CellCorrelation.Pearson([0.2f, 0.4f, 0.9f, 0.1f], [0, 0, 1, 0]), 1e-6);
        Assert.Equal(-1, CellCorrelation.Pearson([3, 2, 1], [1, 2, 3]), Tolerance);
    }

    [Fact]
    public void Pearson_ConstantSeries_IsUndefined()
    {
        Assert.True(double.IsNaN(CellCorrelation.Pearson([1, 1, 1], [1, 2, 3])));
        Assert.True(double.IsNaN(CellCorrelation.Pearson([1, 2, 3], [0, 0, 0])));
        Assert.True(double.IsNaN(CellCorrelation.Pearson([1], [1])));
        Assert.Throws<ArgumentException>(() => CellCorrelation.Pearson([1, 2], [1, 2, 3]));
    }

    [Fact]
    public void Rank_OrdersByAbsoluteR_KeepsTheSign_DropsConstantCells()
    {
        double[] feature = [0, 1, 0, 1];
        CellSeries[] cells =
        [
            new(0, 'h', 0, [0.1f, 0.2f, 0.1f, 0.3f]),    // weakly positive
            new(0, 'h', 1, [0.5f, 0.5f, 0.5f, 0.5f]),    // constant: no r
            new(0, 'c', 0, [1f, -1f, 1f, -1f]),          // r = −1
            new(1, 'h', 3, [0f, 2f, 0f, 2f]),            // r = +1
        ];

        List<RankedCell> ranked = CellCorrelation.Rank(cells, feature, 10);

        Assert.Equal(3, ranked.Count);
        Assert.Equal((0, 'c', 0), (ranked[0].Layer, ranked[0].Kind, ranked[0].Cell)); // tie |r| = 1: layer 0 first
        Assert.Equal(-1, ranked[0].R, Tolerance);
        Assert.Equal((1, 'h', 3), (ranked[1].Layer, ranked[1].Kind, ranked[1].Cell));
        Assert.Equal(1, ranked[1].R, Tolerance);
        Assert.Equal(0, ranked[2].Cell);
        Assert.True(ranked[2].R > 0 && ranked[2].R < 1);
        Assert.Single(CellCorrelation.Rank(cells, feature, 1));
    }

    [Fact]
    public void Build_CorrelationsEqualAnIndependentComputationOverTheEngineStates()
    {
        ModelSpec spec = CharModels.Lstm(hidden: 6, layers: 2);
        string[] text = Chars(CharModels.SampleText);

        Visualization v = Visualization.Build(spec, CharModels.SampleText, 1000, layer: null);

        // Independent path: GetState after every step ([h0, c0, h1, c1]) and the one-pass formula for r.
        var engine = new ReferenceEngine(spec);
        var output = new float[spec.OutputSize];
        var states = new List<float[]>();
        Vocabulary vocabulary = spec.Vocabulary!;
        foreach (string ch in text)
        {
            engine.Step(vocabulary.Tokens.ToList().IndexOf(ch), output);
            states.Add(engine.GetState());
        }

        double[] column = TextFeatures.LinePosition.Compute(text);
        FeatureResult result = v.Features.Single(f => f.Feature == TextFeatures.LinePosition);
        Assert.False(result.Constant);
        int checkedCells = 0;
        foreach ((string key, int offset) in new[] { ("0h", 0), ("0c", 6), ("1h", 12), ("1c", 18) })
        {
            for (int j = 0; j < 6; j++)
            {
                double expected = OnePassPearson(states.Select(s => (double)s[offset + j]).ToArray(), column);
                Assert.Equal(expected, result.R![key][j], 1e-6);
                checkedCells++;
            }
        }

        Assert.Equal(24, checkedCells);
        RankedCell top = result.Top[0];
        Assert.Equal(result.R!.Values.SelectMany(r => r).Max(Math.Abs), Math.Abs(top.R), Tolerance);
        Assert.Equal(Visualization.TopCount, result.Top.Count);
    }

    [Fact]
    public void Quantize_RoundTripsWithinHalfAStep_AndKeepsZero()
    {
        float[] values = [0f, 0.5f, -2f, 1.99f, -0.001f];
        (float scale, sbyte[] q) = Visualization.Quantize(values);
        Assert.Equal(2f, scale);
        Assert.Equal([0, 32, -127, 126, 0], q.Select(x => (int)x));
        for (int i = 0; i < values.Length; i++)
        {
            Assert.InRange(Math.Abs(q[i] * scale / 127f - values[i]), 0f, scale / 254f + 1e-6f);
        }

        (float zeroScale, sbyte[] zeros) = Visualization.Quantize([0f, 0f]);
        Assert.Equal(0f, zeroScale);
        Assert.All(zeros, x => Assert.Equal(0, x));
    }

    [Fact]
    public void SplitText_NormalizesLineEndings_CountsScalars_AndCaps()
    {
        (string[] chars, int total) = Visualization.SplitText("a\r\nb\rc\U0001F600d", 4);
        Assert.Equal(["a", "\n", "b", "\n"], chars);
        Assert.Equal(7, total); // a \n b \n c 😀 d: the emoji is one character
        Assert.Equal(["\U0001F600"], Visualization.SplitText("\U0001F600", 10).Characters);
    }

    // ------------------------------------------------------------------ the command

    [Fact]
    public void Visualize_CharModel_WritesASelfContainedPageWithTheTrace()
    {
        ModelSpec spec = CharModels.Lstm();
        string model = CharModels.WriteTemp(spec);
        string text = TempFile(CharModels.SampleText);
        string page = TempPath(".html");

        CliResult r = Run("visualize", model, "--text", text, "--out", page);

        Assert.Equal("", r.Error);
        Assert.Equal(0, r.ExitCode);
        string[] lines = r.Output.Split('\n');
        Assert.Contains($"{CharModels.SampleText.Length} steps, 48 cells (layer 0 LSTM: h 12, c 12, layer 1 LSTM: h 12, c 12)", lines);
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^  inside double quotes: L\d [hc] \d+ r=[+-]0\.\d{3}, "));
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^  digits: L\d [hc] \d+ r=[+-]0\.\d{3}, "));
        Assert.Contains(lines, l => l.StartsWith($"wrote {page} (", StringComparison.Ordinal));

        string html = File.ReadAllText(page);
        Assert.DoesNotMatch(@"(?i)https?://|<link|<img|@import|\bsrc=|url\(", html); // nothing fetched from anywhere
        JsonElement data = PageData(html);
        Assert.Equal(CharModels.SampleText, data.GetProperty("text").GetString());
        Assert.False(data.GetProperty("truncated").GetBoolean());
        Assert.Equal(0, data.GetProperty("skipped").GetArrayLength());
        Assert.Equal(2, data.GetProperty("layers").GetArrayLength());
        Assert.Equal(5, data.GetProperty("features").GetArrayLength());

        // Layer 1's c cell 5 after every step, decoded from the page, is the engine's value within one quantization step.
        var engine = new ReferenceEngine(spec);
        var output = new float[spec.OutputSize];
        var h = new float[12];
        var c = new float[12];
        JsonElement series = data.GetProperty("series").GetProperty("1c");
        float scale = series.GetProperty("scale")[5].GetSingle();
        byte[] q = series.GetProperty("q")[5].GetBytesFromBase64();
        Assert.Equal(CharModels.SampleText.Length, q.Length);
        for (int t = 0; t < CharModels.SampleText.Length; t++)
        {
            engine.Step(CharModels.Characters.IndexOf(CharModels.SampleText[t], StringComparison.Ordinal), output);
            engine.CopyLayerState(1, h, c);
            Assert.InRange(Math.Abs((sbyte)q[t] * scale / 127f - c[5]), 0f, scale / 254f + 1e-6f);
        }
    }

    [Fact]
    public void Visualize_CharactersOutsideTheVocabulary_AreSkippedAndCounted()
    {
        string model = FixturePath("rnn_onehot_charlm"); // a..h, space, comma, period, newline
        string text = TempFile("abc, def!! ghz.\n");
        string page = TempPath(".html");

        CliResult r = Run("visualize", model, "--text", text, "--out", page);

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("note: skipped 3 characters not in the model's vocabulary ('!' ×2, 'z' ×1); the page shows them grey, the state carries over them", r.Output.Split('\n'));
        Assert.Contains("13 steps, 10 cells (layer 0 RNN: h 10)", r.Output.Split('\n'));
        JsonElement data = PageData(File.ReadAllText(page));
        Assert.Equal([8, 9, 13], data.GetProperty("skipped").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(13, data.GetProperty("steps").GetInt32());
        Assert.Equal(13, data.GetProperty("series").GetProperty("0h").GetProperty("q")[0].GetBytesFromBase64().Length);
    }

    [Fact]
    public void Visualize_LongText_IsCappedWithANote()
    {
        string model = FixturePath("rnn_onehot_charlm");
        string text = TempFile("abc abc abc abc\n");
        string page = TempPath(".html");

        CliResult r = Run("visualize", model, "--text", text, "--out", page, "--max-chars", "6", "--layer", "0");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains($"note: {text} has 16 characters; the page shows the first 6 (--max-chars 6)", r.Output.Split('\n'));
        JsonElement data = PageData(File.ReadAllText(page));
        Assert.True(data.GetProperty("truncated").GetBoolean());
        Assert.Equal("abc ab", data.GetProperty("text").GetString());
        Assert.Equal(16, data.GetProperty("total").GetInt32());
    }

    [Fact]
    public void Visualize_Layer_KeepsOnlyThatLayer()
    {
        string model = CharModels.WriteTemp(CharModels.Lstm(hidden: 5, layers: 3));
        string page = TempPath(".html");

        CliResult r = Run("visualize", model, "--text", TempFile(CharModels.SampleText), "--out", page, "--layer", "2");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("(layer 2 LSTM: h 5, c 5)", r.Output);
        JsonElement data = PageData(File.ReadAllText(page));
        Assert.Equal(2, data.GetProperty("layers")[0].GetProperty("index").GetInt32());
        Assert.Equal(["2h", "2c"], data.GetProperty("series").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Visualize_ConstantFeature_IsReportedNotRanked()
    {
        string model = FixturePath("rnn_onehot_charlm");
        CliResult r = Run("visualize", model, "--text", TempFile("abc def\nabba\n"), "--out", TempPath(".html"));

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("  inside double quotes: constant in this text, no correlation", r.Output.Split('\n'));
        Assert.Contains("  digits: constant in this text, no correlation", r.Output.Split('\n'));
        Assert.Matches(@"\n  start of a word: L0 h \d+ r=", r.Output);
    }

    [Theory]
    [InlineData("--max-chars", "0", "--max-chars is 0; it must be at least 1")]
    [InlineData("--layer", "1", "--layer is 1, out of range; the model has 1 layer (0..0)")]
    [InlineData("--layer", "-1", "--layer is -1, out of range; the model has 1 layer (0..0)")]
    public void Visualize_BadOption_NamesIt(string option, string value, string message)
    {
        CliResult r = Run("visualize", FixturePath("rnn_onehot_charlm"), "--text", TempFile("abc"), "--out", TempPath(".html"), option, value);

        Assert.Equal(1, r.ExitCode);
        Assert.Equal("error: " + message + "\n", r.Error);
    }

    [Fact]
    public void Visualize_MissingOrBadFiles_AreNamed()
    {
        string model = FixturePath("rnn_onehot_charlm");
        string missing = TempPath(".txt");

        Assert.Equal("error: --text FILE is required: the text to run the model over\n", Run("visualize", model, "--out", TempPath(".html")).Error);
        Assert.Equal("error: --out FILE is required: where to write the HTML page\n", Run("visualize", model, "--text", TempFile("abc")).Error);
        Assert.StartsWith($"error: --text {missing}: cannot read the text file: ", Run("visualize", model, "--text", missing, "--out", TempPath(".html")).Error);

        string empty = TempFile("");
        Assert.Equal($"error: --text {empty}: the file is empty\n", Run("visualize", model, "--text", empty, "--out", TempPath(".html")).Error);

        string foreign = TempFile("xyz!");
        Assert.Equal($"error: --text {foreign}: none of its first 4 characters is in the model's 12-character vocabulary\n",
            Run("visualize", model, "--text", foreign, "--out", TempPath(".html")).Error);

        string badOut = Path.Combine(TempPath(""), "no-such-dir", "page.html");
        CliResult r = Run("visualize", model, "--text", TempFile("abc"), "--out", badOut);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"error: --out {badOut}: cannot write the page: ", r.Error);
    }

    [Theory]
    [InlineData("gru_dense", "the model takes dense inputs (5 features per step)")]
    [InlineData("lstm_1layer", "the model has no vocabulary (metadata rnn.vocab) to turn text into token ids")]
    [InlineData("caption_lstm", "the model has a word vocabulary, but the page shades single characters")]
    public void Visualize_NotACharacterModel_IsRejectedNamingTheRule(string fixture, string reason)
    {
        string path = FixturePath(fixture);
        CliResult r = Run("visualize", path, "--text", TempFile("abc"), "--out", TempPath(".html"));

        Assert.Equal(1, r.ExitCode);
        Assert.Equal(
            $"error: {path}: {reason}; rnn visualize needs a unidirectional character model (token input, rnn.vocab.kind = chars)\n",
            r.Error);
    }

    [Fact]
    public void CheckModel_RejectsBidirectionalCharacterModels()
    {
        ModelSpec bidirectional = ModelLoader.Load(FixturePath("lstm_bidir_2layer"));
        var withVocabulary = new ModelSpec
        {
            InputKind = bidirectional.InputKind,
            InputSize = bidirectional.InputSize,
            Embedding = bidirectional.Embedding,
            Layers = bidirectional.Layers,
            Head = bidirectional.Head,
            Vocabulary = new Vocabulary(ModelVocabularyKind.Characters, Enumerable.Range(0, bidirectional.InputSize).Select(i => ((char)('a' + i)).ToString()).ToList()),
        };

        var e = Assert.Throws<RnnEmbedded.Cli.CommandException>(() => VisualizeCommand.CheckModel(withVocabulary, "m.safetensors"));
        Assert.StartsWith("m.safetensors: the model is bidirectional, so its state at a character depends on the text after it; rnn visualize needs", e.Message);
    }

    // ------------------------------------------------------------------ helpers

    private static string[] Chars(string text) => text.EnumerateRunes().Select(r => r.ToString()).ToArray();

    private static double OnePassPearson(double[] x, double[] y)
    {
        int n = x.Length;
        double sx = x.Sum(), sy = y.Sum(), sxy = x.Zip(y, (a, b) => a * b).Sum(), sxx = x.Sum(a => a * a), syy = y.Sum(b => b * b);
        return (n * sxy - sx * sy) / Math.Sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
    }

    private static string TempPath(string extension) =>
        Path.Combine(Path.GetTempPath(), "rnn-visualize-" + Guid.NewGuid().ToString("N") + extension);

    private static JsonElement PageData(string html)
    {
        Match m = Regex.Match(html, "<script type=\"application/json\" id=\"rnn-data\">(.*?)</script>", RegexOptions.Singleline);
        Assert.True(m.Success, "the page has no embedded data");
        return JsonDocument.Parse(m.Groups[1].Value).RootElement.Clone();
    }
}
