using System.Globalization;
using RnnEmbedded.Cli;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using static RnnEmbedded.Tests.Tool.CliHarness;

namespace RnnEmbedded.Tests.Tool;

public sealed class RunCommandTests
{
    // The CLI runs the reference engine, which matches PyTorch within the reference engine's own tolerance;
    // this loose bound only guards against the CLI feeding the wrong inputs.
    private const float PyTorchTolerance = 1e-4f;

    [Theory]
    [InlineData("lstm_1layer")]
    [InlineData("lstm_2layer_odd")]
    [InlineData("lstm_proj")]
    [InlineData("gru_1layer")]
    [InlineData("gru_nobias_untied_head")]
    [InlineData("rnn_relu")]
    [InlineData("rnn_onehot_charlm")]
    [InlineData("lstm_onehot")]
    [InlineData("lstm_bidir_2layer")]
    [InlineData("lstm_proj_bidir")]
    [InlineData("gru_bidir_nohead")]
    public void Run_TokenModel_PrintsReferenceEngineOutputPerStep(string fixture)
    {
        string path = FixturePath(fixture);
        ExpectedFixture expected = ExpectedFixture.Load(fixture);
        string tokens = string.Join(",", expected.Tokens);

        CliResult r = Run("run", path, "--tokens", tokens);

        Assert.Equal("", r.Error);
        Assert.Equal(0, r.ExitCode);
        float[][] printed = ParseVectors(r.Output);
        float[][] reference = ReferenceOutputs(ModelLoader.Load(path), expected.Tokens);
        Assert.Equal(reference.Length, printed.Length);
        for (int t = 0; t < reference.Length; t++)
        {
            Assert.Equal(Bits(reference[t]), Bits(printed[t])); // round-trip formatting: bit-exact
        }

        AssertClose(expected.Outputs, printed);
    }

    [Theory]
    [InlineData("gru_dense")]
    [InlineData("lstm_dense_nohead")]
    [InlineData("rnn_dense_bidir")]
    [InlineData("stacks/amp_gru")]
    [InlineData("stacks/mlp_lstm_softmax")]
    [InlineData("stacks/deep_stacks_bidir_logsoftmax")]
    public void Run_DenseModel_ReadsCsvAndPrintsReferenceEngineOutput(string fixture)
    {
        string path = FixturePath(fixture);
        ExpectedFixture expected = ExpectedFixture.Load(fixture);
        string csv = TempFile(string.Join("\n", expected.Dense.Select(row => string.Join(", ", row.Select(TextFormat.Float)))) + "\n\n");
        try
        {
            CliResult r = Run("run", path, "--inputs", csv);

            Assert.Equal("", r.Error);
            Assert.Equal(0, r.ExitCode);
            float[][] printed = ParseVectors(r.Output);
            ModelSpec spec = ModelLoader.Load(path);
            float[][] reference = spec.Bidirectional ? ReferenceEngine.Run(spec, expected.Dense.ToArray()) : StepDense(spec, expected.Dense);
            Assert.Equal(reference.Select(Bits).ToArray(), printed.Select(Bits).ToArray());
            AssertClose(expected.Outputs, printed);
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [Fact]
    public void Run_CaptionDecoder_FeedsImageFirstThenTokens()
    {
        string path = FixturePath("caption_lstm");
        ExpectedFixture expected = ExpectedFixture.Load("caption_lstm");
        string image = TempFile(string.Join(",", expected.Image!.Select(TextFormat.Float)));
        try
        {
            CliResult r = Run("run", path, "--image", image, "--tokens", string.Join(",", expected.Tokens));

            Assert.Equal("", r.Error);
            Assert.Equal(0, r.ExitCode);
            float[][] printed = ParseVectors(r.Output);
            Assert.Equal(expected.Tokens.Length + 1, printed.Length);

            var engine = new ReferenceEngine(ModelLoader.Load(path));
            var output = new float[printed[0].Length];
            engine.StepImage(expected.Image!, output);
            Assert.Equal(Bits(output), Bits(printed[0]));
            AssertClose(expected.Outputs, printed);
        }
        finally
        {
            File.Delete(image);
        }
    }

    [Theory]
    [InlineData("--tokens", "1,x,3", "--tokens item 2 is 'x'")]
    [InlineData("--tokens", "1,,3", "--tokens item 2 is ''")]
    [InlineData("--tokens", "1,11", "--tokens item 2 is 11, out of range; the model has 11 tokens (ids 0..10)")]
    [InlineData("--tokens", "-1", "--tokens item 1 is -1, out of range")]
    [InlineData("--tokens", "99999999999", "--tokens item 1 is '99999999999'")]
    public void Run_BadTokens_Exit1WithClearMessage(string option, string value, string expected)
    {
        CliResult r = Run("run", FixturePath("lstm_1layer"), option, value);

        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Output);
        Assert.StartsWith("error: " + expected, r.Error);
    }

    [Fact]
    public void Run_TextOnCharModel_EqualsTheMatchingTokenIds()
    {
        // rnn_onehot_charlm vocabulary: a b c d e f g h ' ' ',' '.' '\n'
        CliResult byText = Run("run", FixturePath("rnn_onehot_charlm"), "--text", "abc h.\n");
        CliResult byIds = Run("run", FixturePath("rnn_onehot_charlm"), "--tokens", "0,1,2,8,7,10,11");

        Assert.Equal(0, byText.ExitCode);
        Assert.Equal(7, ParseVectors(byText.Output).Length);
        Assert.Equal(byIds.Output, byText.Output);
    }

    [Fact]
    public void Run_TextOnWordModel_MapsUnknownWordsToUnk()
    {
        CliResult byText = Run("run", FixturePath("caption_lstm"), "--text", "<start> a  zebra runs");
        CliResult byIds = Run("run", FixturePath("caption_lstm"), "--tokens", "0,3,2,5");

        Assert.Equal(0, byText.ExitCode);
        Assert.Equal(byIds.Output, byText.Output);
    }

    [Theory]
    [InlineData("rnn_onehot_charlm", "abz", "--text character 3 'z' is not in the model's 12-character vocabulary")]
    [InlineData("lstm_1layer", "abc", "--text needs a model with a vocabulary")]
    [InlineData("rnn_onehot_charlm", "", "--text is empty")]
    public void Run_BadText_Exit1(string fixture, string text, string expected)
    {
        CliResult r = Run("run", FixturePath(fixture), "--text", text);

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: " + expected, r.Error);
    }

    [Fact]
    public void Run_TokenModelGivenInputs_Exit1()
    {
        string csv = TempFile("1,2,3\n");
        try
        {
            CliResult r = Run("run", FixturePath("lstm_1layer"), "--inputs", csv);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("this model takes token ids", r.Error);
            Assert.Contains("use --tokens", r.Error);
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [Fact]
    public void Run_DenseModelGivenTokens_Exit1()
    {
        CliResult r = Run("run", FixturePath("gru_dense"), "--tokens", "1,2");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: this model takes dense inputs (5 features per step); use --inputs", r.Error);
    }

    [Fact]
    public void Run_NoInputOption_Exit1()
    {
        CliResult r = Run("run", FixturePath("lstm_1layer"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("give them with --tokens", r.Error);
    }

    [Fact]
    public void Run_ImageForNonCaptionModel_Exit1()
    {
        string csv = TempFile("1,2\n");
        try
        {
            CliResult r = Run("run", FixturePath("lstm_1layer"), "--image", csv, "--tokens", "1");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("--image is only for caption decoders", r.Error);
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [Theory]
    [InlineData("1,2,3,4,5\n1,2,x,4,5\n", "line 2 column 3: 'x' is not a finite number")]
    [InlineData("1,2,3,4,5\n\n1,2,3,4\n", "line 3: expected 5 comma-separated values, got 4")]
    [InlineData("1,2,3,4,NaN\n", "line 1 column 5: 'NaN' is not a finite number")]
    [InlineData("1,2,3,4,1e39\n", "line 1 column 5: '1e39' is not a finite number")]
    [InlineData("1;2;3;4;5\n", "line 1: expected 5 comma-separated values, got 1")]
    public void Run_BadCsv_Exit1NamingLineAndColumn(string content, string expected)
    {
        string csv = TempFile(content);
        try
        {
            CliResult r = Run("run", FixturePath("gru_dense"), "--inputs", csv);

            Assert.Equal(1, r.ExitCode);
            Assert.Equal("", r.Output);
            Assert.Equal($"error: {csv} {expected}\n", r.Error);
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [Fact]
    public void Run_MissingCsv_Exit1()
    {
        string csv = Path.Combine(Path.GetTempPath(), "missing-" + Guid.NewGuid().ToString("N") + ".csv");
        CliResult r = Run("run", FixturePath("gru_dense"), "--inputs", csv);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"error: {csv}: cannot read the inputs file", r.Error);
    }

    [Fact]
    public void Run_BadModelFile_Exit1()
    {
        string path = TempFile("not a model");
        CliResult r = Run("run", path, "--tokens", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: " + path + ": ", r.Error);
        Assert.DoesNotContain("   at ", r.Error);
        File.Delete(path);
    }

    [Fact]
    public void Float_FormatsInvariantRoundTrip()
    {
        CultureInfo saved = CultureInfo.CurrentCulture;
        try
        {
            // InvariantGlobalization is on, so build a comma-decimal culture by hand.
            var commaCulture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            commaCulture.NumberFormat.NumberDecimalSeparator = ",";
            commaCulture.NumberFormat.NegativeSign = "~";
            CultureInfo.CurrentCulture = commaCulture;
            Assert.Contains(",", 0.5f.ToString(CultureInfo.CurrentCulture)); // the trap is armed
            float[] values = [0.1f, -1.5e-7f, float.Epsilon, float.MaxValue, 1f / 3f, -0f];
            foreach (float v in values)
            {
                string text = TextFormat.Float(v);
                Assert.DoesNotContain(",", text);
                Assert.DoesNotContain("~", text);
                Assert.Equal(BitConverter.SingleToInt32Bits(v), BitConverter.SingleToInt32Bits(float.Parse(text, CultureInfo.InvariantCulture)));
            }
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    private static float[][] ReferenceOutputs(ModelSpec spec, int[] tokens)
    {
        if (spec.Bidirectional)
        {
            return ReferenceEngine.Run(spec, tokens);
        }

        var engine = new ReferenceEngine(spec);
        return tokens.Select(t =>
        {
            var o = new float[spec.OutputSize];
            engine.Step(t, o);
            return o;
        }).ToArray();
    }

    private static float[][] StepDense(ModelSpec spec, List<float[]> steps)
    {
        var engine = new ReferenceEngine(spec);
        return steps.Select(x =>
        {
            var o = new float[spec.OutputSize];
            engine.Step(x, o);
            return o;
        }).ToArray();
    }

    private static void AssertClose(List<float[]> expected, float[][] actual)
    {
        Assert.Equal(expected.Count, actual.Length);
        for (int t = 0; t < actual.Length; t++)
        {
            Assert.Equal(expected[t].Length, actual[t].Length);
            for (int i = 0; i < actual[t].Length; i++)
            {
                Assert.True(Math.Abs(expected[t][i] - actual[t][i]) <= PyTorchTolerance,
                    $"step {t} element {i}: PyTorch {expected[t][i]:R}, rnn run {actual[t][i]:R}");
            }
        }
    }

    private static int[] Bits(float[] v) => v.Select(BitConverter.SingleToInt32Bits).ToArray();
}
