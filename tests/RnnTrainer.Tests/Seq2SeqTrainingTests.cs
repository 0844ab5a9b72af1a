using System.CommandLine;
using System.Text.Json;
using RnnEmbedded.Cli;
using RnnEmbedded.Cli.Commands;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

/// <summary>
/// The seq2seq task: the corpus rules, the encoding, training, resume, and the written model in the reference engine
/// (same greedy decodings and the same held-out loss as the trainer's own forward pass).
/// </summary>
public sealed class Seq2SeqTrainingTests : TrainerTestBase
{
    public Seq2SeqTrainingTests()
        : base("seq2seq")
    {
    }

    /// <summary>Words of 1–5 letters from "abcde" → the word reversed (a task only an encoder that reads the whole source can do).</summary>
    internal static string Reversals(int count = 400, int seed = 5)
    {
        var rng = new Random(seed);
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < count; i++)
        {
            var chars = new char[rng.Next(1, 6)];
            for (int k = 0; k < chars.Length; k++)
            {
                chars[k] = "abcde"[rng.Next(5)];
            }

            string word = new(chars);
            Array.Reverse(chars);
            sb.Append(word).Append('\t').Append(new string(chars).ToUpperInvariant()).Append('\n');
        }

        return sb.ToString();
    }

    private TrainOptions Small(string corpus, string outName) => Quiet(corpus, outName) with
    {
        Task = TrainTask.Seq2Seq,
        Cell = TrainCell.Gru,
        Hidden = 24,
        Embedding = 8,
        TargetEmbedding = 6,
        Batch = 16,
        EvalStreams = 7,
        ValFraction = 0.1,
    };

    [Theory]
    [InlineData("ab\tx\nno tab here\n", "s.tsv:2: a seq2seq line is 'source<TAB>target'; no tab found")]
    [InlineData("ab\tx\n\nab\tx\ty\n", "s.tsv:3: a seq2seq line has one tab ('source<TAB>target'); found a second one in the target")]
    [InlineData("ab\tx\n\tx\n", "s.tsv:2: the source before the tab is empty")]
    [InlineData("ab\tx\nab\t\n", "s.tsv:2: the target after the tab is empty")]
    [InlineData("ab\tx\nab\tx\u0003\n", "s.tsv:2: the target contains U+0002 or U+0003, the decoder's start and stop characters")]
    [InlineData("\n \n", "s.tsv: a seq2seq corpus needs 'source<TAB>target' lines; found none")]
    [InlineData("aa\tx\naaa\ty\n", "s.tsv: the training sources use 1 distinct character")]
    public void Load_RejectsBadLinesNamingTheFileLineAndRule(string text, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() =>
            Dataset.SequencePairsFromText(text, "s.tsv", null, null, ClassifyTokens.Chars, 0, 0, 100, true, 1));
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void Load_RejectsBadLinesOfTheValidationFileNamingIt()
    {
        var e = Assert.Throws<InvalidDataException>(() =>
            Dataset.SequencePairsFromText("ab\tx\n", "s.tsv", "ab\tx\nba\n", "v.tsv", ClassifyTokens.Chars, 0, 0, 100, true, 1));
        Assert.StartsWith("v.tsv:2: a seq2seq line is 'source<TAB>target'; no tab found", e.Message);
    }

    [Fact]
    public void Load_WordsWithEmptyText_RejectedAsEmpty()
    {
        var e = Assert.Throws<InvalidDataException>(() =>
            Dataset.SequencePairsFromText("a b\tx\n  \tx\n", "s.tsv", null, null, ClassifyTokens.Words, 0, 0, 100, true, 1));
        Assert.StartsWith("s.tsv:2: the source before the tab is empty", e.Message);
    }

    [Fact]
    public void Load_Chars_SourceVocabularyFromTrainingSources_TargetWithStartAndStop()
    {
        Dataset data = Dataset.SequencePairsFromText("ab\tXY\nba\tYX\n", "s.tsv", "abq\tXZ\n", "v.tsv", ClassifyTokens.Chars, 0, 0, 100, true, 1);
        Assert.Equal(new[] { "a", "b" }, data.SourceVocabulary!.Tokens);
        Assert.Equal(new[] { "\u0002", "\u0003", "X", "Y", "Z" }, data.Vocabulary.Tokens);
        Assert.Equal(0, data.Vocabulary.StartToken);
        Assert.Equal(1, data.Vocabulary.StopToken);
        SequencePair held = Assert.Single(data.ValidationPairs!);
        Assert.Equal(new[] { 0, 1 }, held.Source); // 'q' was never seen in a training source: skipped
        Assert.Equal(new[] { 2, 4 }, held.Target);
        Assert.Equal(2, data.TrainPairs!.Count);
        Assert.Equal(2, data.MaxSourceLength); // "abq" is read as 2 tokens
        Assert.Equal(2, data.MaxTargetLength);
    }

    [Fact]
    public void Load_Words_SourceAsTheClassifyTask_TargetAsTheWordTask()
    {
        Dataset data = Dataset.SequencePairsFromText("good day\tbonjour\nbad day\tmauvais jour\n", "s.tsv", null, null, ClassifyTokens.Words, 0, 0, 100, true, 1);
        Assert.Equal(ModelVocabularyKind.Words, data.SourceVocabulary!.Kind);
        Assert.Equal(ModelVocabularyKind.Words, data.Vocabulary.Kind);
        SequencePair first = data.TrainPairs!.Single(p => p.Target.Length == 1);
        Assert.Equal(4, first.Source.Length); // <start> good day <stop>
        Assert.Equal(data.SourceVocabulary.StartToken, first.Source[0]);
        Assert.Equal(data.SourceVocabulary.StopToken, first.Source[^1]);
        Assert.Equal("bonjour", data.Vocabulary.Tokens[first.Target[0]]);
    }

    [Fact]
    public void Metadata_WithAValidationCorpus_NamesItAndLeavesOutValFraction()
    {
        string corpus = Write("rev.tsv", Reversals(120, 5));
        string validation = Write("rev-val.tsv", Reversals(20, 9));
        TrainResult result = new TrainingSession(Small(corpus, "revval.safetensors") with { Steps = 2, ValCorpus = validation }).Run();
        ModelSpec spec = TrainingCheckpoint.LoadModel(result.ModelPath);
        Assert.Equal("rev-val.tsv", spec.Metadata["rnn.train.val_corpus"]);
        Assert.False(spec.Metadata.ContainsKey("rnn.train.val_fraction"), "the held-out pairs come from --val-corpus, not a fraction");
        Assert.False(spec.Metadata.ContainsKey("rnn.train.seq_len"));
    }

    [Fact]
    public void Train_LearnsToReverse_AndTheReferenceEngineAgreesWithTheTrainer()
    {
        string corpus = Write("rev.tsv", Reversals());
        var session = new TrainingSession(Small(corpus, "rev.safetensors") with { Steps = 250 });
        TrainResult result = session.Run();
        SequenceReport report = result.Validation!.Sequences!;
        Assert.Equal(40, report.Sequences);
        Assert.True(report.TokenAccuracy >= 0.5, $"token accuracy {report.TokenAccuracy} after 250 steps");

        // The written file is a seq2seq model the builder accepts, with the trainer's figures in its metadata.
        ModelSpec spec = TrainingCheckpoint.LoadModel(result.ModelPath);
        Assert.Equal(ModelTask.Seq2Seq, spec.Task);
        Assert.NotNull(spec.Encoder);
        Assert.Equal(6, spec.Embedding!.Cols);
        Assert.Equal(8, spec.Encoder!.Embedding!.Cols);
        Assert.Equal(report.ExactMatch.ToString("R", System.Globalization.CultureInfo.InvariantCulture), spec.Metadata["rnn.train.val_exact_match"]);
        Assert.False(spec.Metadata.ContainsKey("rnn.train.seq_len"), "--seq-len does not apply to seq2seq windows");
        Assert.Equal("0.1", spec.Metadata["rnn.train.val_fraction"]); // no --val-corpus: the held-out pairs are this fraction

        // Greedy decoding through the reference engine equals the trainer's own greedy decoding, pair by pair.
        IReadOnlyList<SequencePair> held = session.Data.ValidationPairs!;
        int maxLength = session.Data.MaxTargetLength;
        int[][] trainer = session.DecodeGreedy(held, maxLength);
        int exact = 0;
        var distinct = new HashSet<string>();
        for (int i = 0; i < held.Count; i++)
        {
            int[] reference = ReferenceGreedy(spec, held[i].Source, maxLength);
            Assert.Equal(reference, trainer[i]);
            exact += reference.AsSpan().SequenceEqual(held[i].Target) ? 1 : 0;
            distinct.Add(string.Join(",", reference));
        }

        Assert.Equal(report.ExactMatches, exact);
        Assert.True(distinct.Count > 10, $"only {distinct.Count} distinct decodings: the comparison would say little");

        // The held-out loss the trainer reported is the reference engine's teacher-forced cross-entropy.
        double sum = 0;
        long tokens = 0;
        foreach (SequencePair p in held)
        {
            int[] input = [spec.Vocabulary!.StartToken, .. p.Target];
            int[] expected = [.. p.Target, spec.Vocabulary.StopToken];
            float[][] logits = Seq2SeqReference.Run(spec, p.Source, input);
            for (int t = 0; t < expected.Length; t++)
            {
                double max = logits[t].Max();
                double z = logits[t].Sum(x => Math.Exp(x - max));
                sum += Math.Log(z) + max - logits[t][expected[t]];
                tokens++;
            }
        }

        Assert.Equal(result.Validation.Tokens, tokens);
        Assert.Equal(sum / tokens, result.Validation.Loss, 4);
    }

    [Fact]
    public void Train_Words_WritesWordVocabulariesAndDecodesAsTheReference()
    {
        var rng = new Random(11);
        string[] numbers = ["one", "two", "three", "four", "five"];
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < 200; i++)
        {
            string a = numbers[rng.Next(5)], b = numbers[rng.Next(5)];
            sb.Append(a).Append(" and ").Append(b).Append('\t').Append(b).Append(", then ").Append(a).Append('\n');
        }

        string corpus = Write("words.tsv", sb.ToString());
        var session = new TrainingSession(Small(corpus, "words.safetensors") with { Steps = 60, Tokens = ClassifyTokens.Words, Cell = TrainCell.Lstm });
        TrainResult result = session.Run();
        ModelSpec spec = TrainingCheckpoint.LoadModel(result.ModelPath);
        Assert.Equal(ModelVocabularyKind.Words, spec.Vocabulary!.Kind);
        Assert.Equal(ModelVocabularyKind.Words, spec.Encoder!.Vocabulary!.Kind);
        Assert.Equal(["<start>", "<stop>", "<unk>"], spec.Vocabulary.Tokens.Take(3));
        Assert.Contains(",", spec.Vocabulary.Tokens); // punctuation is a word of its own (WordTokenizer)
        Assert.Contains("and", spec.Encoder.Vocabulary.Tokens);
        IReadOnlyList<SequencePair> held = session.Data.ValidationPairs!;
        int[][] trainer = session.DecodeGreedy(held, session.Data.MaxTargetLength);
        for (int i = 0; i < held.Count; i++)
        {
            Assert.Equal(ReferenceGreedy(spec, held[i].Source, session.Data.MaxTargetLength), trainer[i]);
        }

        Assert.Equal(20, result.Validation!.Sequences!.Sequences);
    }

    [Theory]
    [InlineData(TrainCell.Lstm, 2, 0.2f)]
    [InlineData(TrainCell.Gru, 1, 0f)]
    public void Resume_GivesTheSameWeightsAsAnUninterruptedRun(TrainCell cell, int layers, float dropout)
    {
        string corpus = Write("resume.tsv", Reversals(120));
        TrainOptions full = Small(corpus, "full.safetensors") with { Steps = 20, Cell = cell, Layers = layers, Dropout = dropout };
        new TrainingSession(full).Run();
        TrainResult partial = new TrainingSession(full with { Steps = 9, Out = Path.Combine(Dir, "part.safetensors") }).Run();
        TrainResult end = new TrainingSession(full with { Out = Path.Combine(Dir, "resumed.safetensors"), Resume = partial.CheckpointPath }).Run();
        Assert.Equal(20, end.Steps);
        WeightFile a = SafeTensorsReader.ReadFile(full.Out);
        WeightFile b = SafeTensorsReader.ReadFile(end.ModelPath);
        WeightFile mid = SafeTensorsReader.ReadFile(partial.ModelPath);
        Assert.Equal(a.Tensors.Select(t => t.Name), b.Tensors.Select(t => t.Name));
        Assert.Contains(a.Tensors, t => t.Name.StartsWith("encoder.", StringComparison.Ordinal));
        for (int i = 0; i < a.Tensors.Count; i++)
        {
            Assert.Equal(a.Tensors[i].Data, b.Tensors[i].Data);
        }

        Assert.NotEqual(a.Tensors[0].Data, mid.Tensors[0].Data); // the encoder's embedding trained on after the checkpoint

        // A seq2seq checkpoint opens in the tools as the model of its step (the trainer's state stripped).
        ModelSpec fromCheckpoint = TrainingCheckpoint.LoadModel(partial.CheckpointPath);
        Assert.Equal(ModelTask.Seq2Seq, fromCheckpoint.Task);
        Assert.Null(ModelSpecComparer.FirstDifference(TrainingCheckpoint.LoadModel(partial.ModelPath), fromCheckpoint));
    }

    [Fact]
    public void Train_DoesNotDependOnTheThreadCountOrVectorWidth()
    {
        string corpus = Write("threads.tsv", Reversals(80));
        TrainOptions one = Small(corpus, "one.safetensors") with { Steps = 8, Cell = TrainCell.Lstm, Layers = 2, Threads = 1 };
        new TrainingSession(one).Run();
        TrainOptions two = one with { Threads = 2, VectorWidth = Runtime.VectorWidth.V128, Out = Path.Combine(Dir, "two.safetensors") };
        new TrainingSession(two).Run();
        WeightFile a = SafeTensorsReader.ReadFile(one.Out);
        WeightFile b = SafeTensorsReader.ReadFile(two.Out);
        for (int i = 0; i < a.Tensors.Count; i++)
        {
            Assert.Equal(a.Tensors[i].Data, b.Tensors[i].Data);
        }
    }

    [Fact]
    public void Cli_Json_ReportsExactMatchAndTokenAccuracy()
    {
        string corpus = Write("rev.tsv", Reversals(100));
        string model = Path.Combine(Dir, "cli.safetensors");
        var root = new RootCommand { TrainCommand.Create() };
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = root.Parse(["train", "--task", "seq2seq", "--corpus", corpus, "--cell", "lstm", "--hidden", "12", "--embedding", "6", "--batch", "8",
            "--steps", "12", "--threads", "1", "--eval-every", "6", "--sample-seconds", "0", "--out", model, "--json"])
            .Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        Assert.Equal(0, exit);
        using JsonDocument json = JsonDocument.Parse(output.ToString());
        Assert.Equal(10, json.RootElement.GetProperty("val_sequences").GetInt64());
        double exact = json.RootElement.GetProperty("val_exact_match").GetDouble();
        double tokens = json.RootElement.GetProperty("val_token_accuracy").GetDouble();
        Assert.InRange(exact, 0, 1);
        Assert.InRange(tokens, exact == 1 ? 1 : 0, 1);
        Assert.Contains("validation at step 6: ", error.ToString());
        Assert.Contains("exact match", error.ToString());
        Assert.True(File.Exists(Path.ChangeExtension(model, null) + ".loss.svg"));
    }

    [Fact]
    public void Cli_BadCorpusLine_OneErrorNamingFileLineAndRule()
    {
        string corpus = Write("bad.tsv", "ab\tBA\nabc\n");
        var root = new RootCommand { TrainCommand.Create() };
        var e = Assert.Throws<CommandException>(() => root.Parse(["train", "--task", "seq2seq", "--corpus", corpus, "--out", Path.Combine(Dir, "m.safetensors")])
            .Invoke(new InvocationConfiguration { Output = new StringWriter(), Error = new StringWriter(), EnableDefaultExceptionHandler = false }));
        Assert.Equal($"{corpus}:2: a seq2seq line is 'source<TAB>target'; no tab found", e.Message);
    }

    [Fact]
    public void Train_RejectsASourceTooLongForTheWindowsBeforeAllocating()
    {
        string corpus = Write("long.tsv", "ab\tx\n" + new string('a', 3_000_000) + "b\ty\n");
        var e = Assert.Throws<ArgumentException>(() => new TrainingSession(Small(corpus, "long.safetensors") with { Batch = 256, Hidden = 1000, ValFraction = 0 }));
        Assert.StartsWith("--batch 256 with sources of up to 3,000,001 tokens and --hidden 1000 is too large: the encoder window's gate buffer (B·Ts × 3·H)",
            e.Message);
    }

    [Fact]
    public void Options_SeqToSeqOnlyOptions_RejectedForOtherTasks()
    {
        var e = Assert.Throws<ArgumentException>(() => new TrainOptions { Task = TrainTask.Char, ValCorpus = "v.tsv" }.Validate());
        Assert.Contains("--val-corpus and --target-embedding are seq2seq options", e.Message);
    }

    // Argmax decoding through the reference engine (the first maximum on a tie), as Seq2SeqDecoder's greedy decoding.
    internal static int[] ReferenceGreedy(ModelSpec spec, int[] source, int maxLength)
    {
        var engine = new Seq2SeqReference(spec);
        engine.Encode(source);
        var logits = new float[spec.OutputSize];
        var result = new List<int>();
        int token = spec.Vocabulary!.StartToken;
        for (int i = 0; i < maxLength; i++)
        {
            engine.Step(token, logits);
            token = 0;
            for (int k = 1; k < logits.Length; k++)
            {
                if (logits[k] > logits[token])
                {
                    token = k;
                }
            }

            if (token == spec.Vocabulary.StopToken)
            {
                break;
            }

            result.Add(token);
        }

        return result.ToArray();
    }
}
