using System.Globalization;

namespace RnnEmbedded.Tests.Reference;

/// <summary>
/// A parity fixture written by tests/fixtures/make_fixtures.py: <c>&lt;name&gt;.safetensors</c> and
/// <c>&lt;name&gt;.expected.txt</c> (format in docs/model-format.md), copied to the test output as fixtures/.
/// </summary>
public sealed class ParityFixture
{
    private ParityFixture(string name, string weightsPath, string inputKind, int[] tokens, float[][] dense, float[]? image, float[][] outputs)
    {
        Name = name;
        WeightsPath = weightsPath;
        InputKind = inputKind;
        Tokens = tokens;
        Dense = dense;
        Image = image;
        Outputs = outputs;
    }

    /// <summary>Every fixture make_fixtures.py writes. A missing file fails its test; an unlisted file fails FixtureDirectory_HoldsExactlyTheListedFixtures.</summary>
    public static readonly string[] Names =
    {
        "caption_lstm",
        "gru_1layer",
        "gru_2layer_odd",
        "gru_bidir_nohead",
        "gru_dense",
        "gru_nobias_untied_head",
        "lstm_1layer",
        "lstm_2layer_odd",
        "lstm_3layer_nobias",
        "lstm_bidir_2layer",
        "lstm_dense_nohead",
        "lstm_onehot",
        "lstm_proj",
        "lstm_proj_bidir",
        "rnn_dense_bidir",
        "rnn_onehot_charlm",
        "rnn_relu",
        "rnn_tanh_3layer",
    };

    /// <summary>
    /// Variants PyTorch's modules lack (tests/fixtures/variants), computed by make_fixtures.py's independent
    /// torch-op implementation, which the script first checks against torch.nn.
    /// </summary>
    public static readonly string[] VariantNames =
    {
        "gru_reset_before",
        "gru_reset_before_bidir",
        "lstm_cifg",
        "lstm_cifg_peephole_nobias",
        "lstm_peephole",
        "lstm_peephole_proj_bidir",
        "rnn_sigmoid",
    };

    /// <summary>
    /// Layer stacks (tests/fixtures/stacks): torch.nn models with nn.Sequential input layers and MLP heads and an
    /// output function, written by make_stack_fixtures.py.
    /// </summary>
    public static readonly string[] StackNames =
    {
        "amp_gru",
        "deep_stacks_bidir_logsoftmax",
        "embedding_gru_mlp_head",
        "mlp_lstm_softmax",
        "rnn_relu_sigmoid_head",
    };

    public static string Directory => Path.Combine(AppContext.BaseDirectory, "fixtures");

    public static string StackDirectory => Path.Combine(Directory, "stacks");

    public static string VariantDirectory => Path.Combine(Directory, "variants");

    public string Name { get; }

    /// <summary>tokens | dense | caption.</summary>
    public string InputKind { get; }

    public int[] Tokens { get; }

    public float[][] Dense { get; }

    public float[]? Image { get; }

    /// <summary>PyTorch's output, one row per step.</summary>
    public float[][] Outputs { get; }

    public string WeightsPath { get; }

    public static ParityFixture Load(string name) => LoadFrom(Directory, name);

    public static ParityFixture LoadVariant(string name) => LoadFrom(VariantDirectory, name);

    public static ParityFixture LoadStack(string name) => LoadFrom(StackDirectory, name);

    /// <summary>An ONNX fixture from tests/fixtures/onnx (make_onnx_fixtures.py): <c>&lt;name&gt;.onnx</c> + expected outputs.</summary>
    public static ParityFixture LoadOnnx(string name) => LoadFrom(OnnxDirectory, name, ".onnx");

    public static string OnnxDirectory => Path.Combine(Directory, "onnx");

    /// <summary>ONNX fixtures the importer accepts: torch.onnx.export across opsets 9..17 (with input layers, MLP heads and
    /// output functions among them), and bare nodes.</summary>
    public static readonly string[] OnnxNames =
    {
        "bare_gru_clip25",
        "bare_gru_lbr_bidir",
        "bare_gru_reset_before",
        "bare_lstm_bidir_layout1",
        "bare_lstm_clip20",
        "bare_lstm_cifg_peephole",
        "bare_lstm_explicit_acts",
        "bare_lstm_peephole",
        "bare_rnn_relu_nobias",
        "bare_gru_clip_lbr",
        "bare_gru_clip_reset_before_bidir",
        "bare_lstm_clip1_peephole_bidir",
        "bare_lstm_clip2",
        "bare_lstm_clip_cifg_peephole",
        "bare_rnn_relu_clip",
        "bare_rnn_tanh_clip_reverse",
        "gru_3layer_o12",
        "gru_bidir_logsoftmax_o10",
        "gru_bidir_nobias_o17",
        "gru_deep_stack_o13",
        "gru_dense_o9",
        "gru_emb_o10",
        "gru_input_layer_o14",
        "gru_unbatched_gemm_o13",
        "gru_unbatched_mlp_o17",
        "lstm_2layer_o11",
        "lstm_batchfirst_o13",
        "lstm_bidir_2layer_o14",
        "lstm_bidir_head_sigmoid_o14",
        "lstm_dense_nohead_o16",
        "lstm_emb_mlp_softmax_o12",
        "lstm_emb_o9",
        "lstm_mlp_head_o14",
        "reverse_gru_2layer_nobias",
        "reverse_lstm",
        "reverse_lstm_2layer",
        "reverse_rnn_3layer",
        "lstm_nobias_o17",
        "lstm_softmax_nohead_o15",
        "lstm_stack_softmax_o9",
        "lstm_states_o15",
        "rnn_dense_bidir_o17",
        "rnn_relu_bidir_o15",
        "rnn_relu_mlp_logsoftmax_o16",
        "rnn_tanh_2layer_o13",
        "rnn_unbatched_gemm_o11",
    };

    private static ParityFixture LoadFrom(string directory, string name, string extension = ".safetensors")
    {
        string weights = Path.Combine(directory, name + extension);
        string expected = Path.Combine(directory, name + ".expected.txt");
        Assert.True(File.Exists(weights), $"Missing fixture file {weights}; run /usr/bin/python3 tests/fixtures/make_fixtures.py and commit the output.");
        Assert.True(File.Exists(expected), $"Missing fixture file {expected}; run /usr/bin/python3 tests/fixtures/make_fixtures.py and commit the output.");

        string? inputKind = null;
        int[] tokens = [];
        var dense = new List<float[]>();
        float[]? image = null;
        var outputs = new List<float[]>();
        int steps = -1;
        foreach (string raw in File.ReadAllLines(expected))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            int space = line.IndexOf(' ');
            string keyword = space < 0 ? line : line[..space];
            string rest = space < 0 ? "" : line[(space + 1)..];
            switch (keyword)
            {
                case "torch":
                    break;
                case "input":
                    inputKind = rest;
                    break;
                case "tokens":
                    tokens = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                    break;
                case "dense":
                    dense.Add(Floats(rest));
                    break;
                case "image":
                    image = Floats(rest);
                    break;
                case "steps":
                    steps = int.Parse(rest, CultureInfo.InvariantCulture);
                    break;
                case "output":
                    outputs.Add(Floats(rest));
                    break;
                default:
                    Assert.Fail($"{expected}: unknown line keyword '{keyword}'");
                    break;
            }
        }

        Assert.True(inputKind is "tokens" or "dense" or "caption", $"{expected}: 'input' must be tokens, dense or caption, found '{inputKind}'");
        Assert.True(steps == outputs.Count, $"{expected}: 'steps {steps}' but {outputs.Count} output lines");
        int inputSteps = inputKind == "dense" ? dense.Count : tokens.Length + (inputKind == "caption" ? 1 : 0);
        Assert.True(steps == inputSteps && steps > 0, $"{expected}: {steps} outputs for {inputSteps} input steps");
        Assert.True(inputKind != "caption" || image is not null, $"{expected}: a caption fixture needs an 'image' line");
        return new ParityFixture(name, weights, inputKind!, tokens, dense.ToArray(), image, outputs.ToArray());
    }

    private static float[] Floats(string text) =>
        text.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => (float)double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture))
            .ToArray();
}
