using System.Globalization;
using RnnEmbedded.Cli.Commands;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using static RnnEmbedded.Tests.Tool.CliHarness;

namespace RnnEmbedded.Tests.Tool;

public sealed class EvalCommandTests
{
    [Fact]
    public void Eval_PrintsCrossEntropyPerWeightType_EqualToReferenceOnQuantizedWeights()
    {
        ModelSpec spec = CharModels.Lstm(hidden: 10, layers: 1);
        string model = CharModels.WriteTemp(spec);
        string text = string.Concat(Enumerable.Repeat(CharModels.SampleText, 3));
        string corpus = TempFile(text);
        try
        {
            CliResult r = Run("eval", model, "--corpus", corpus, "--weight-type", "float32,bfloat16,int8", "--fraction", "0.5", "--limit", "0");

            Assert.Equal("", r.Error);
            Assert.Equal(0, r.ExitCode);
            string[] lines = r.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            int start = text.Length - (int)(text.Length * 0.5);
            Assert.Contains($"characters {start:N0}..{text.Length:N0}", r.Output);
            foreach ((string name, WeightType type) in new[] { ("float32", WeightType.Float32), ("bfloat16", WeightType.BFloat16), ("int8", WeightType.Int8) })
            {
                string row = lines.Single(l => l.StartsWith(name + " ", StringComparison.Ordinal));
                double printed = double.Parse(row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                double expected = MeanCrossEntropy(WeightQuantizer.Apply(spec, type), text[start..]);
                // Printed with 5 decimals; the test's float LogSoftmax adds a little more.
                Assert.True(Math.Abs(expected - printed) <= 2e-5, $"{name}: printed {printed}, expected {expected}");
            }
        }
        finally
        {
            File.Delete(model);
            File.Delete(corpus);
        }
    }

    [Fact]
    public void Eval_Int8DiffersFromFloat32_AndStaysClose()
    {
        ModelSpec spec = CharModels.Lstm(hidden: 16, layers: 2);
        string model = CharModels.WriteTemp(spec);
        string corpus = TempFile(CharModels.SampleText);
        try
        {
            var output = new StringWriter();
            IReadOnlyList<EvalCommand.Result> results = EvalCommand.Execute(spec, model, corpus, "float32,int8", 1.0, 0, output);
            Assert.Equal(2, results.Count);
            Assert.NotEqual(results[0].MeanCrossEntropy, results[1].MeanCrossEntropy);
            Assert.InRange(results[1].Perplexity / results[0].Perplexity, 0.95, 1.05);
        }
        finally
        {
            File.Delete(model);
            File.Delete(corpus);
        }
    }

    [Fact]
    public void Eval_UnknownWeightType_FailsNamingTheItem()
    {
        string model = CharModels.WriteTemp(CharModels.Lstm(hidden: 4, layers: 1));
        string corpus = TempFile(CharModels.SampleText);
        try
        {
            CliResult r = Run("eval", model, "--corpus", corpus, "--weight-type", "float32,int4");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("'int4'", r.Error);
            Assert.Contains("float32, bfloat16, int8", r.Error);
        }
        finally
        {
            File.Delete(model);
            File.Delete(corpus);
        }
    }

    [Fact]
    public void Eval_CharacterOutsideVocabulary_FailsNamingItsPosition()
    {
        string model = CharModels.WriteTemp(CharModels.Lstm(hidden: 4, layers: 1));
        string corpus = TempFile("abc~def");
        try
        {
            CliResult r = Run("eval", model, "--corpus", corpus, "--fraction", "1");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("character 3", r.Error);
            Assert.Contains("'~'", r.Error);
        }
        finally
        {
            File.Delete(model);
            File.Delete(corpus);
        }
    }

    /// <summary>
    /// Word models split lines as the trainer and compiled apps do (the runtime's WordTokenizer, lower-cased for a
    /// lower-case vocabulary): "In the beginning, God said." is in, the, &lt;unk&gt;, ",", god, said, ".", so a
    /// punctuation mark glued to a word is a token of its own rather than turning the word into &lt;unk&gt;.
    /// </summary>
    [Fact]
    public void Eval_WordModel_EncodesLinesWithTheRuntimeTokenizer()
    {
        string[] tokens = { "<start>", "<stop>", "<unk>", "in", "the", ",", ".", "god", "said" };
        ModelSpec chars = CharModels.Lstm(hidden: 6, layers: 1, seed: 3);
        var rng = new Random(5);
        Matrix Random(int rows, int cols) => new(rows, cols, Enumerable.Range(0, rows * cols).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray());
        var spec = new ModelSpec
        {
            InputKind = InputKind.Embedding,
            InputSize = tokens.Length,
            Embedding = Random(tokens.Length, 8),
            Layers = chars.Layers,
            Head = new DenseSpec { W = Random(tokens.Length, 6), b = Random(1, tokens.Length).Data },
            Vocabulary = new Vocabulary(ModelVocabularyKind.Words, tokens),
            Task = ModelTask.WordLm,
        };
        string model = CharModels.WriteTemp(spec);
        string corpus = TempFile("In the beginning, God said.\n\n");
        try
        {
            var output = new StringWriter();
            IReadOnlyList<EvalCommand.Result> results = EvalCommand.Execute(ModelLoader.Load(model), model, corpus, "float32", 1.0, 0, output);
            int[] ids = { 0, 3, 4, 2, 5, 7, 8, 6, 1 };
            Assert.Equal(ids.Length - 1, results[0].Predictions);
            Assert.Contains("non-empty lines 0..1 of 1", output.ToString());
            var engine = new ReferenceEngine(ModelLoader.Load(model));
            var logits = new float[tokens.Length];
            var logProbs = new float[tokens.Length];
            double total = 0;
            for (int t = 0; t + 1 < ids.Length; t++)
            {
                engine.Step(ids[t], logits);
                ReferenceEngine.LogSoftmax(logits, logProbs);
                total -= logProbs[ids[t + 1]];
            }

            Assert.True(Math.Abs(total / (ids.Length - 1) - results[0].MeanCrossEntropy) <= 1e-5, $"printed {results[0].MeanCrossEntropy}, expected {total / (ids.Length - 1)}");
        }
        finally
        {
            File.Delete(model);
            File.Delete(corpus);
        }
    }

    private static double MeanCrossEntropy(ModelSpec spec, string text)
    {
        var index = new Dictionary<string, int>();
        for (int i = 0; i < spec.Vocabulary!.Tokens.Count; i++)
        {
            index[spec.Vocabulary.Tokens[i]] = i;
        }

        int[] ids = text.Select(c => index[c.ToString()]).ToArray();
        var engine = new ReferenceEngine(spec);
        var logits = new float[spec.OutputSize];
        var logProbs = new float[spec.OutputSize];
        double total = 0;
        for (int t = 0; t + 1 < ids.Length; t++)
        {
            engine.Step(ids[t], logits);
            ReferenceEngine.LogSoftmax(logits, logProbs);
            total -= logProbs[ids[t + 1]];
        }

        return total / (ids.Length - 1);
    }
}
