using System.Globalization;
using RnnEmbedded.Compiler.Formats;
using static RnnEmbedded.Tests.Tool.CliHarness;

namespace RnnEmbedded.Tests.Tool;

/// <summary><c>rnn inspect/run/convert</c> on ONNX models (tests/fixtures/onnx), external data and its path rules.</summary>
public sealed class OnnxCommandTests
{
    private static string Onnx(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", name + ".onnx");

    private static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "rnn-onnx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    [Fact]
    public void Inspect_Onnx_ShowsTheImportedArchitecture()
    {
        CliResult r = Run("inspect", Onnx("lstm_bidir_2layer_o14"));
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Error);
        string[] lines = r.Output.Split('\n');
        Assert.Contains("input: embedding, 8 tokens -> 5 (token ids 0..7)", lines);
        Assert.Contains("  1: LSTM (standard)  in 8  H 4  P -  bidirectional  bias  out 8", lines);
        Assert.Contains("head: dense 8 -> 3, bias", lines);
        Assert.Contains("  onnx.opset = 14", lines);
    }

    [Theory]
    [InlineData("lstm_emb_o9")]
    [InlineData("gru_bidir_nobias_o17")]
    [InlineData("rnn_relu_bidir_o15")]
    public void Run_Onnx_PrintsPyTorchsOutputs(string name)
    {
        ExpectedFixture fx = ExpectedFixture.LoadFrom(Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", name + ".expected.txt"));
        CliResult r = Run("run", Onnx(name), "--tokens", string.Join(",", fx.Tokens));
        Assert.Equal(0, r.ExitCode);
        AssertClose(fx.Outputs, ParseVectors(r.Output));
    }

    [Fact]
    public void Run_BareNodeWithDenseInput_PrintsTheOracle()
    {
        ExpectedFixture fx = ExpectedFixture.LoadFrom(Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", "bare_lstm_cifg_peephole.expected.txt"));
        string csv = TempFile(string.Join("\n", fx.Dense.Select(row => string.Join(",", row.Select(v => v.ToString("R", CultureInfo.InvariantCulture))))));
        CliResult r = Run("run", Onnx("bare_lstm_cifg_peephole"), "--inputs", csv);
        Assert.Equal(0, r.ExitCode);
        AssertClose(fx.Outputs, ParseVectors(r.Output));
    }

    [Fact]
    public void ClippedOnnx_InspectsRunsAndConverts()
    {
        // clip below 20 (docs/model-format.md, "Clipping"): inspect shows the bound, run prints the clipped outputs,
        // convert writes rnn.clip and the converted file runs the same.
        const string name = "bare_gru_clip_lbr";
        CliResult i = Run("inspect", Onnx(name));
        Assert.Equal(0, i.ExitCode);
        Assert.Contains("  0: GRU (reset_after)  in 3  H 5  P -  unidirectional  bias  out 5  clip 0.5", i.Output.Split('\n'));

        ExpectedFixture fx = ExpectedFixture.LoadFrom(Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", name + ".expected.txt"));
        string csv = TempFile(string.Join("\n", fx.Dense.Select(row => string.Join(",", row.Select(v => v.ToString("R", CultureInfo.InvariantCulture))))));
        CliResult r = Run("run", Onnx(name), "--inputs", csv);
        Assert.Equal(0, r.ExitCode);
        AssertClose(fx.Outputs, ParseVectors(r.Output));

        string output = Path.Combine(TempDirectory(), name + ".safetensors");
        Assert.Equal(0, Run("convert", Onnx(name), "--out", output).ExitCode);
        Assert.Equal("0.5", SafeTensorsReader.ReadFile(output).Metadata["rnn.clip"]);
        CliResult converted = Run("run", output, "--inputs", csv);
        Assert.Equal(0, converted.ExitCode);
        AssertClose(fx.Outputs, ParseVectors(converted.Output));
    }

    [Fact]
    public void ReverseOnnx_InspectsRunsAndConverts()
    {
        // direction = reverse (docs/model-format.md, "Layer directions"): inspect names the direction, run feeds the
        // whole sequence and prints PyTorch's outputs, convert writes the '_reverse' tensors alone and runs the same.
        const string name = "reverse_lstm_2layer";
        CliResult i = Run("inspect", Onnx(name));
        Assert.Equal(0, i.ExitCode);
        string[] lines = i.Output.Split('\n');
        Assert.Contains("  0: LSTM (standard)  in 3  H 4  P -  reverse  bias  out 4", lines);
        Assert.Contains("  1: LSTM (standard)  in 4  H 4  P -  reverse  bias  out 4", lines);

        ExpectedFixture fx = ExpectedFixture.LoadFrom(Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", name + ".expected.txt"));
        string csv = TempFile(string.Join("\n", fx.Dense.Select(row => string.Join(",", row.Select(v => v.ToString("R", CultureInfo.InvariantCulture))))));
        CliResult r = Run("run", Onnx(name), "--inputs", csv);
        Assert.Equal(0, r.ExitCode);
        AssertClose(fx.Outputs, ParseVectors(r.Output));

        string output = Path.Combine(TempDirectory(), name + ".safetensors");
        Assert.Equal(0, Run("convert", Onnx(name), "--out", output).ExitCode);
        WeightFile converted = SafeTensorsReader.ReadFile(output);
        Assert.Contains(converted.Tensors, t => t.Name == "rnn.weight_ih_l1_reverse");
        Assert.DoesNotContain(converted.Tensors, t => t.Name == "rnn.weight_ih_l0");
        CliResult again = Run("run", output, "--inputs", csv);
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(r.Output, again.Output);
    }

    [Fact]
    public void ReverseOnnx_RunWithNoSteps_SaysTheModelNeedsOne()
    {
        CliResult r = Run("run", Onnx("reverse_lstm"), "--inputs", TempFile(""));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("a reverse model needs at least one input step", r.Error);
    }

    [Fact]
    public void MixedDirectionsOnnx_IsRejectedNamingTheNode()
    {
        CliResult r = Run("inspect", Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", "reject", "mixed_directions.onnx"));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("node 'lstm1' (LSTM): differs from the first recurrent layer (node 'lstm0' (LSTM)) in its direction", r.Error);
    }

    private static void AssertClose(List<float[]> expected, float[][] actual)
    {
        Assert.Equal(expected.Count, actual.Length);
        for (int t = 0; t < actual.Length; t++)
        {
            Assert.Equal(expected[t].Length, actual[t].Length);
            for (int i = 0; i < actual[t].Length; i++)
            {
                Assert.True(Math.Abs(expected[t][i] - actual[t][i]) <= 1e-5, $"step {t} output {i}: expected {expected[t][i]}, got {actual[t][i]}");
            }
        }
    }

    [Theory]
    [InlineData("gru_emb_o10", "1,5,0,11,3")]
    [InlineData("lstm_bidir_2layer_o14", "0,7,3,3")]
    public void Convert_Onnx_WritesCanonicalNamesThatRunIdentically(string name, string tokens)
    {
        string output = Path.Combine(TempDirectory(), name + ".safetensors");
        CliResult c = Run("convert", Onnx(name), "--out", output);
        Assert.Equal(0, c.ExitCode);
        Assert.Contains("tensors", c.Output);
        WeightFile converted = SafeTensorsReader.ReadFile(output);
        Assert.Contains(converted.Tensors, t => t.Name == "rnn.weight_ih_l0");
        Assert.All(converted.Tensors, t => Assert.Matches(@"^(embedding|head|rnn)\.", t.Name));
        Assert.Equal("1", converted.Metadata["rnn.format"]);

        CliResult fromOnnx = Run("run", Onnx(name), "--tokens", tokens);
        CliResult fromConverted = Run("run", output, "--tokens", tokens);
        Assert.Equal(0, fromConverted.ExitCode);
        Assert.Equal(fromOnnx.Output, fromConverted.Output);
    }

    [Theory]
    [InlineData("gru_deep_stack_o13", "input.0:sigmoid,input.2:relu", "head.0:tanh,head.2:sigmoid,head.4:relu", null)]
    [InlineData("lstm_stack_softmax_o9", "input.0:relu,input.2:sigmoid", "head.0:tanh,head.2:identity", "softmax")]
    [InlineData("gru_bidir_logsoftmax_o10", "input.0:identity", "head.0:relu,head.2:identity", "log-softmax")]
    public void Convert_OnnxLayerStacks_WritesTheLayerScheme_AndRunsAsPyTorch(string name, string inputLayers, string headLayers, string? output)
    {
        string converted = Path.Combine(TempDirectory(), name + ".safetensors");
        CliResult c = Run("convert", Onnx(name), "--out", converted);
        Assert.Equal(0, c.ExitCode);
        WeightFile file = SafeTensorsReader.ReadFile(converted);
        Assert.Equal(inputLayers, file.Metadata["rnn.input.layers"]);
        Assert.Equal(headLayers, file.Metadata["rnn.head.layers"]);
        Assert.Equal(output, file.Metadata.TryGetValue("rnn.output", out string? o) ? o : null);
        Assert.All(file.Tensors, t => Assert.Matches(@"^(input\.\d+|head\.\d+|rnn)\.", t.Name));

        // rnn run on the ONNX file and on the converted one both print PyTorch's outputs.
        ExpectedFixture fx = ExpectedFixture.LoadFrom(Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", name + ".expected.txt"));
        string csv = TempFile(string.Join("\n", fx.Dense.Select(row => string.Join(",", row.Select(v => v.ToString("R", CultureInfo.InvariantCulture))))));
        foreach (string model in new[] { Onnx(name), converted })
        {
            CliResult r = Run("run", model, "--inputs", csv);
            Assert.Equal(0, r.ExitCode);
            AssertClose(fx.Outputs, ParseVectors(r.Output));
        }
    }

    [Fact]
    public void Convert_PyTorchSafetensors_WritesCanonicalNames()
    {
        string output = Path.Combine(TempDirectory(), "canonical.safetensors");
        CliResult c = Run("convert", FixturePath("gru_nobias_untied_head"), "--out", output);
        Assert.Equal(0, c.ExitCode);
        Assert.All(SafeTensorsReader.ReadFile(output).Tensors, t => Assert.Matches(@"^(embedding|head|rnn)\.", t.Name));
        Assert.Equal(Run("run", FixturePath("gru_nobias_untied_head"), "--tokens", "1,2,3").Output, Run("run", output, "--tokens", "1,2,3").Output);
    }

    [Fact]
    public void Convert_RefusesToOverwriteItsInput_AndNonSafetensorsOutput()
    {
        string dir = TempDirectory();
        string copy = Path.Combine(dir, "m.safetensors");
        File.Copy(FixturePath("lstm_1layer"), copy);
        CliResult same = Run("convert", copy, "--out", copy);
        Assert.Equal(1, same.ExitCode);
        Assert.Contains("is the input file", same.Error);
        CliResult onnxOut = Run("convert", Onnx("lstm_emb_o9"), "--out", Path.Combine(dir, "x.onnx"));
        Assert.Equal(1, onnxOut.ExitCode);
        Assert.Contains("must end in .safetensors", onnxOut.Error);
    }

    [Fact]
    public void ExternalData_BesideTheModel_IsRead()
    {
        string dir = TempDirectory();
        string reject = Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", "reject");
        File.Copy(Path.Combine(reject, "external.onnx"), Path.Combine(dir, "external.onnx"));
        File.Copy(Path.Combine(reject, "weights.bin"), Path.Combine(dir, "weights.bin"));
        CliResult r = Run("inspect", Path.Combine(dir, "external.onnx"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("  0: LSTM (standard)  in 3  H 2  P -  unidirectional  no bias  out 2", r.Output.Split('\n'));
        string csv = TempFile("1,1,1\n1,1,1");
        CliResult run = Run("run", Path.Combine(dir, "external.onnx"), "--inputs", csv);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(2, ParseVectors(run.Output).Length);
    }

    [Theory]
    [InlineData("traversal", "'../weights.bin' is not a plain file name")]
    [InlineData("absolute", "'/etc/passwd' is not a plain file name")]
    public void ExternalData_OutsideTheModelsDirectory_IsRefused(string name, string rule)
    {
        // weights.bin sits one level up, where '../weights.bin' would find it: it must not be read.
        string parent = TempDirectory();
        string dir = Path.Combine(parent, "model");
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", "reject", "weights.bin"), Path.Combine(parent, "weights.bin"));
        File.Copy(Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", "reject", name + ".onnx"), Path.Combine(dir, "m.onnx"));
        CliResult r = Run("inspect", Path.Combine(dir, "m.onnx"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("tensor 'W'", r.Error);
        Assert.Contains(rule, r.Error);
        Assert.Contains("only from files directly in the model's directory", r.Error);
    }

    [Fact]
    public void ExternalData_ThroughALink_IsRefused()
    {
        string parent = TempDirectory();
        string dir = Path.Combine(parent, "model");
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", "reject", "weights.bin"), Path.Combine(parent, "outside.bin"));
        File.CreateSymbolicLink(Path.Combine(dir, "weights.bin"), Path.Combine(parent, "outside.bin"));
        File.Copy(Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", "reject", "external.onnx"), Path.Combine(dir, "m.onnx"));
        CliResult r = Run("inspect", Path.Combine(dir, "m.onnx"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("tensor 'W'", r.Error);
        Assert.Contains("is a link", r.Error);
    }

    [Theory]
    [InlineData("reject/clip", "node 'lstm0' (LSTM): attribute 'clip' (-3) must be a positive number")]
    [InlineData("reject/unsupported_op", "node 'norm0' (LayerNormalization): operator LayerNormalization is not supported")]
    [InlineData("reject/dynamic_features", "tensor 'X': the feature axis (the last) must have a static size, found 'features'")]
    [InlineData("reject/relu_after_rnn", "node '/Relu' (Relu): an activation (Relu) on the recurrent layers' output is not supported")]
    public void Unsupported_IsOneErrorLine_NamingNodeOrTensorAndRule(string name, string message)
    {
        CliResult r = Run("run", Onnx(name), "--tokens", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: ", r.Error);
        Assert.Contains(message, r.Error);
        Assert.Equal(1, r.Error.Count(ch => ch == '\n'));
    }
}
