using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Cli.Commands;

/// <summary>
/// <c>rnn train --corpus FILE --out model.safetensors [options]</c>: trains a char, word or caption model on the CPU
/// (src/RnnTrainer) and writes a weight file the generator compiles, a loss-curve SVG beside it and a checkpoint.
/// Progress goes to the output (to the error stream with <c>--json</c>, which prints one JSON object at the end).
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var corpus = new Option<string>("--corpus") { Description = "Text file: a plain corpus (char), one sentence per line (word), 'f1 ... fF<TAB>caption' lines (caption), 'text<TAB>label' (classify), 'source<TAB>target' (seq2seq) or a CSV (regress)." };
        var task = new Option<string>("--task")
        {
            Description = "char | word | caption | classify ('text<TAB>label' lines) | seq2seq ('source<TAB>target' lines) | regress (CSV, one row per time step)",
            DefaultValueFactory = _ => "char",
        };
        var targetColumns = new Option<string>("--target-columns")
        {
            Description = "Regress task: the CSV's target columns, comma-separated, a name holding a comma quoted as in the CSV ('\"temp, °C\",total'); the other columns but the sequence id are inputs.",
            DefaultValueFactory = _ => "target",
        };
        var sequenceColumn = new Option<string>("--sequence-column")
        {
            Description = "Regress task: the CSV's sequence-id column (default: 'sequence' when the header has it, else the file is one sequence).",
        };
        var tokens = new Option<string>("--tokens") { Description = "Classify and seq2seq tasks: chars | words (what the text is cut into).", DefaultValueFactory = _ => "chars" };
        var valCorpus = new Option<string>("--val-corpus") { Description = "Seq2seq: held-out 'source<TAB>target' file (default: a split of --corpus)." };
        var targetEmbedding = new Option<int>("--target-embedding") { Description = "Seq2seq: the decoder's embedding size (default: --embedding)." };
        var bucket = new Option<int>("--bucket")
        {
            Description = "Seq2seq: batches of pairs of similar length: sort each run of K x --batch pairs of the epoch's order by length, then shuffle the batches (0: off).",
        };
        var cell = new Option<string>("--cell") { Description = "lstm | gru | rnn-tanh | rnn-relu", DefaultValueFactory = _ => "lstm" };
        var peepholes = new Option<bool>("--peepholes") { Description = "LSTM with peephole connections." };
        var cifg = new Option<bool>("--cifg") { Description = "LSTM with a coupled input-forget gate (f = 1 - i)." };
        var forgetBias = new Option<float?>("--forget-bias")
        {
            Description = "LSTM: the forget gate's initial bias (b_ih's forget block = V, b_hh's = 0; default: PyTorch's U(-1/sqrt(H), 1/sqrt(H)) draws).",
        };
        var gruForm = new Option<string>("--gru-form") { Description = "reset-after (PyTorch) | reset-before (Cho et al. 2014)", DefaultValueFactory = _ => "reset-after" };
        var inputLayers = new Option<string>("--input-layers")
        {
            Description = "Regress task: dense layers before the recurrent stack, size[:identity|relu|tanh|sigmoid] comma-separated, e.g. 32:tanh,32:relu.",
        };
        var headLayers = new Option<string>("--head-layers")
        {
            Description = "Hidden layers of an MLP head before its output layer (regress, classify, char, word), e.g. 64:relu.",
        };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size H.", DefaultValueFactory = _ => 256 };
        var layers = new Option<int>("--layers") { Description = "Stacked recurrent layers.", DefaultValueFactory = _ => 1 };
        var embedding = new Option<int>("--embedding") { Description = "Embedding size E.", DefaultValueFactory = _ => 64 };
        var batch = new Option<int>("--batch") { Description = "Parallel streams B.", DefaultValueFactory = _ => 32 };
        var seqLen = new Option<int>("--seq-len") { Description = "BPTT window T (steps).", DefaultValueFactory = _ => 64 };
        var lr = new Option<float>("--lr") { Description = "Learning rate.", DefaultValueFactory = _ => 2e-3f };
        var optimizer = new Option<string>("--optimizer") { Description = "adam | sgd (with momentum)", DefaultValueFactory = _ => "adam" };
        var momentum = new Option<float>("--momentum") { Description = "SGD momentum.", DefaultValueFactory = _ => 0.9f };
        var clip = new Option<float>("--clip") { Description = "Global gradient-norm clip (0: off).", DefaultValueFactory = _ => 5f };
        var dropout = new Option<float>("--dropout") { Description = "Dropout between stacked layers.", DefaultValueFactory = _ => 0f };
        var warmup = new Option<int>("--warmup") { Description = "Linear LR warmup steps.", DefaultValueFactory = _ => 0 };
        var decay = new Option<string>("--decay") { Description = "none | cosine | linear (over --decay-steps or --steps)", DefaultValueFactory = _ => "none" };
        var decaySteps = new Option<long>("--decay-steps") { Description = "Decay horizon in steps (default: --steps)." };
        var minLr = new Option<float>("--min-lr-fraction") { Description = "Final LR as a fraction of --lr.", DefaultValueFactory = _ => 0.1f };
        var seed = new Option<ulong>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1UL };
        var threads = new Option<int>("--threads") { Description = "Worker threads (results do not depend on it).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var timeLimit = new Option<string>("--time-limit") { Description = "Stop after this long: 90s, 5m, 1h30m." };
        var steps = new Option<long>("--steps") { Description = "Stop after this many steps in total (0: no limit)." };
        var output = new Option<string>("--out") { Description = "Weight file to write.", DefaultValueFactory = _ => "model.safetensors" };
        var resume = new Option<string>("--resume") { Description = "Checkpoint to continue from (architecture and data order come from it)." };
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint path (default: <out>.ckpt.safetensors)." };
        var valFraction = new Option<double>("--val-fraction") { Description = "Validation split: the last fraction of the corpus.", DefaultValueFactory = _ => 0.1 };
        var valLimit = new Option<int>("--val-limit") { Description = "Validation positions used, from the start of the split (0: all).", DefaultValueFactory = _ => 200_000 };
        var evalStreams = new Option<int>("--eval-streams") { Description = "Zero-state streams the validation text is cut into.", DefaultValueFactory = _ => 32 };
        var evalEvery = new Option<long>("--eval-every") { Description = "Validate every N steps (default: every --eval-seconds)." };
        var evalSeconds = new Option<double>("--eval-seconds") { Description = "Validate every this many seconds.", DefaultValueFactory = _ => 60 };
        var patience = new Option<int>("--patience") { Description = "Early stopping: evaluations without improvement (0: off)." };
        var keepBest = new Option<bool>("--keep-best") { Description = "Write the weights of the best validation (of this invocation), not the last ones." };
        var checkpointSeconds = new Option<double>("--checkpoint-seconds") { Description = "Checkpoint every this many seconds.", DefaultValueFactory = _ => 120 };
        var sampleSeconds = new Option<double>("--sample-seconds") { Description = "Print a generated sample every this many seconds (0: never).", DefaultValueFactory = _ => 60 };
        var vocabSize = new Option<int>("--vocab-size") { Description = "Word/caption tasks: the N most frequent words.", DefaultValueFactory = _ => 10_000 };
        var keepCase = new Option<bool>("--keep-case") { Description = "Word/caption tasks: do not lower-case words." };
        var json = new Option<bool>("--json") { Description = "Print a final JSON object (val_loss, tokens_per_second, steps, elapsed_seconds, ...)." };

        var command = new Command("train", "Train a char, word, caption, classify, seq2seq or regress model on the CPU and write a weight file.")
        {
            corpus, task, tokens, valCorpus, targetEmbedding, cell, peepholes, cifg, forgetBias, gruForm, hidden, layers, embedding, batch, seqLen, lr, optimizer, momentum, clip, dropout, warmup, decay,
            decaySteps, minLr, seed, threads, timeLimit, steps, output, resume, checkpoint, valFraction, valLimit, evalStreams, evalEvery,
            evalSeconds, patience, keepBest, checkpointSeconds, sampleSeconds, vocabSize, keepCase, json, targetColumns, sequenceColumn,
            inputLayers, headLayers, bucket,
        };
        command.SetAction(parseResult =>
        {
            string? corpusPath = parseResult.GetValue(corpus);
            string? resumePath = parseResult.GetValue(resume);
            if (corpusPath is null && resumePath is null)
            {
                throw new CommandException("--corpus is required (the training text file)");
            }

            string? limitText = parseResult.GetValue(timeLimit);
            var options = new TrainOptions
            {
                Corpus = corpusPath ?? "",
                Task = Parse(parseResult.GetValue(task)!, "--task", ("char", TrainTask.Char), ("word", TrainTask.Word), ("caption", TrainTask.Caption),
                    ("classify", TrainTask.Classify), ("seq2seq", TrainTask.Seq2Seq), ("regress", TrainTask.Regress)),
                TargetColumns = parseResult.GetValue(targetColumns)!,
                SequenceColumn = parseResult.GetValue(sequenceColumn),
                Tokens = Parse(parseResult.GetValue(tokens)!, "--tokens", ("chars", ClassifyTokens.Chars), ("words", ClassifyTokens.Words)),
                ValCorpus = parseResult.GetValue(valCorpus),
                TargetEmbedding = parseResult.GetValue(targetEmbedding),
                Bucket = parseResult.GetValue(bucket),
                Cell = Parse(parseResult.GetValue(cell)!, "--cell", ("lstm", TrainCell.Lstm), ("gru", TrainCell.Gru), ("rnn-tanh", TrainCell.RnnTanh),
                    ("rnn", TrainCell.RnnTanh), ("rnn-relu", TrainCell.RnnRelu)),
                Peepholes = parseResult.GetValue(peepholes),
                Cifg = parseResult.GetValue(cifg),
                ForgetBias = parseResult.GetValue(forgetBias),
                GruResetBefore = Parse(parseResult.GetValue(gruForm)!, "--gru-form", ("reset-after", false), ("reset-before", true)),
                Hidden = parseResult.GetValue(hidden),
                Layers = parseResult.GetValue(layers),
                Embedding = parseResult.GetValue(embedding),
                Batch = parseResult.GetValue(batch),
                SeqLen = parseResult.GetValue(seqLen),
                Lr = parseResult.GetValue(lr),
                Optimizer = Parse(parseResult.GetValue(optimizer)!, "--optimizer", ("adam", OptimizerKind.Adam), ("sgd", OptimizerKind.Sgd)),
                Momentum = parseResult.GetValue(momentum),
                Clip = parseResult.GetValue(clip),
                Dropout = parseResult.GetValue(dropout),
                WarmupSteps = parseResult.GetValue(warmup),
                Decay = Parse(parseResult.GetValue(decay)!, "--decay", ("none", LrDecay.None), ("cosine", LrDecay.Cosine), ("linear", LrDecay.Linear)),
                DecaySteps = parseResult.GetValue(decaySteps),
                MinLrFraction = parseResult.GetValue(minLr),
                Seed = parseResult.GetValue(seed),
                Threads = parseResult.GetValue(threads),
                TimeLimit = limitText is null ? null : Guard(() => TrainOptions.ParseDuration(limitText)),
                Steps = parseResult.GetValue(steps),
                Out = parseResult.GetValue(output)!,
                Resume = resumePath,
                CheckpointPath = parseResult.GetValue(checkpoint),
                ValFraction = parseResult.GetValue(valFraction),
                ValLimit = parseResult.GetValue(valLimit),
                EvalStreams = parseResult.GetValue(evalStreams),
                EvalEvery = parseResult.GetValue(evalEvery),
                EvalSeconds = parseResult.GetValue(evalSeconds),
                Patience = parseResult.GetValue(patience),
                KeepBest = parseResult.GetValue(keepBest),
                CheckpointSeconds = parseResult.GetValue(checkpointSeconds),
                SampleSeconds = parseResult.GetValue(sampleSeconds),
                VocabSize = parseResult.GetValue(vocabSize),
                Lowercase = !parseResult.GetValue(keepCase),
                InputLayers = parseResult.GetValue(inputLayers) ?? "",
                HeadLayers = parseResult.GetValue(headLayers) ?? "",
            };
            bool asJson = parseResult.GetValue(json);
            TextWriter stdout = parseResult.InvocationConfiguration.Output;
            TextWriter progress = asJson ? parseResult.InvocationConfiguration.Error : stdout;
            return Execute(options, asJson, stdout, progress);
        });
        return command;
    }

    /// <summary>Runs training; Ctrl-C stops after the current step and saves a checkpoint.</summary>
    public static int Execute(TrainOptions options, bool asJson, TextWriter stdout, TextWriter progress)
    {
        bool live = ReferenceEquals(progress, Console.Out) && !Console.IsOutputRedirected
            || ReferenceEquals(progress, Console.Error) && !Console.IsErrorRedirected;
        bool pendingLine = false;
        void Line(string text)
        {
            if (pendingLine)
            {
                progress.WriteLine();
                pendingLine = false;
            }

            progress.WriteLine(text);
        }

        var observer = new TrainObserver
        {
            Message = Line,
            Progress = p =>
            {
                string text = FormattableString.Invariant(
                    $"step {p.Step,7}  epoch {p.Epoch,3}  loss {p.TrainLoss:F4}  {p.TokensPerSecond,8:F0} tok/s  lr {p.Lr:G3}  elapsed {Format(p.Elapsed)}")
                    + (p.Remaining is TimeSpan r ? "  ETA " + Format(r) : "");
                if (live)
                {
                    progress.Write("\r" + text + "   ");
                    pendingLine = true;
                }
                else
                {
                    progress.WriteLine(text);
                }
            },
            Evaluated = e => Line(e.Classification is { } c
                ? string.Create(CultureInfo.InvariantCulture,
                    $"validation at step {e.Step}: {e.Loss:F4} nats/sequence, accuracy {c.Accuracy:P2} ({c.Correct:N0}/{c.Total:N0} sequences)")
                : e.Regression is { } fit
                ? "validation at step " + e.Step.ToString(CultureInfo.InvariantCulture) + ": " + FormatFit(fit)
                : e.Sequences is { } q
                ? string.Create(CultureInfo.InvariantCulture,
                    $"validation at step {e.Step}: {e.Loss:F4} nats/token, exact match {q.ExactMatch:P2} ({q.ExactMatches:N0}/{q.Sequences:N0}), token accuracy {q.TokenAccuracy:P2}")
                : string.Create(CultureInfo.InvariantCulture,
                    $"validation at step {e.Step}: {e.Loss:F4} nats/token, perplexity {e.Perplexity:F3}, {e.BitsPerToken:F4} bits/token ({e.Tokens:N0} tokens)")),
            Sample = s => Line("sample: " + s.ReplaceLineEndings(" ⏎ ")),
            Checkpointed = path => { },
        };

        TrainingSession trainer;
        try
        {
            trainer = new TrainingSession(options, observer);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException
            or JsonException or KeyNotFoundException)
        {
            throw new CommandException(e.Message);
        }

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler handler = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += handler;
        TrainResult result;
        try
        {
            result = trainer.Run(cancel.Token);
        }
        finally
        {
            Console.CancelKeyPress -= handler;
        }

        EvalResult? val = result.Validation;
        Line(string.Create(CultureInfo.InvariantCulture,
            $"done ({result.StopReason}): {result.Steps} steps, {result.Tokens:N0} tokens in {Format(result.Elapsed)}, {result.TokensPerSecond:F0} tokens/s"));
        if (val?.Classification is { } report)
        {
            Line(string.Create(CultureInfo.InvariantCulture,
                $"validation: {val.Loss:F4} nats/sequence, accuracy {report.Accuracy:P2} ({report.Correct:N0}/{report.Total:N0} held-out sequences)"));
            progress.Write(report.Format());
        }
        else if (val?.Regression is { } heldOut)
        {
            Line("validation: " + FormatFit(heldOut));
        }
        else if (val?.Sequences is { } sequences)
        {
            Line(string.Create(CultureInfo.InvariantCulture,
                $"validation: {val.Loss:F4} nats/token, exact match {sequences.ExactMatch:P2} ({sequences.ExactMatches:N0}/{sequences.Sequences:N0} held-out pairs, greedy), token accuracy {sequences.TokenAccuracy:P2}"));
        }
        else if (val is not null)
        {
            string unit = trainer.Data.Task == TrainTask.Char ? "bits/char" : "bits/token";
            Line(string.Create(CultureInfo.InvariantCulture,
                $"validation: {val.Loss:F4} nats/token, perplexity {val.Perplexity:F3}, {val.BitsPerToken:F4} {unit}"));
        }

        Line($"wrote {result.ModelPath} ({new FileInfo(result.ModelPath).Length:N0} bytes, {result.ParameterCount:N0} parameters), {result.PlotPath}, checkpoint {result.CheckpointPath}");
        if (asJson)
        {
            var summary = new SortedDictionary<string, object?>(StringComparer.Ordinal)
            {
                ["val_loss"] = val?.Loss,
                ["val_perplexity"] = val?.Perplexity,
                ["val_bits_per_token"] = val?.BitsPerToken,
                ["train_loss"] = result.TrainLoss,
                ["tokens_per_second"] = result.TokensPerSecond,
                ["steps"] = result.Steps,
                ["tokens"] = result.Tokens,
                ["elapsed_seconds"] = result.Elapsed.TotalSeconds,
                ["stop_reason"] = result.StopReason,
                ["model"] = result.ModelPath,
                ["checkpoint"] = result.CheckpointPath,
                ["plot"] = result.PlotPath,
                ["parameters"] = result.ParameterCount,
            };
            if (val?.Regression is { } r)
            {
                summary.Remove("val_perplexity");
                summary.Remove("val_bits_per_token");
                summary["val_mse"] = r.MeanSquaredError;
                summary["val_rmse"] = r.RootMeanSquaredError;
                summary["val_mae"] = r.MeanAbsoluteError;
                summary["val_r2"] = Finite(r.RSquared);
                summary["val_target_variance"] = r.TargetVariance;
                summary["val_targets"] = r.Rows;
            }

            if (val?.Classification is { } c)
            {
                summary["val_accuracy"] = c.Accuracy;
                summary["labels"] = c.Labels;
                summary["confusion"] = Enumerable.Range(0, c.Labels.Count).Select(t => c.Confusion.AsSpan(t * c.Labels.Count, c.Labels.Count).ToArray()).ToArray();
            }

            if (val?.Sequences is { } q)
            {
                summary["val_exact_match"] = q.ExactMatch;
                summary["val_token_accuracy"] = q.TokenAccuracy;
                summary["val_sequences"] = q.Sequences;
            }

            // JSON has no NaN or infinity: a figure that is not finite (e.g. a validation loss with no scored
            // target) is written as null, as val_r2 already was.
            foreach (string key in summary.Keys.ToArray())
            {
                summary[key] = summary[key] switch
                {
                    double d => Finite(d),
                    float f => Finite(f),
                    var other => other,
                };
            }

            stdout.WriteLine(JsonSerializer.Serialize(summary));
        }

        return result.StopReason == "interrupted" ? 130 : Cli.ExitOk;
    }

    private static string FormatFit(RegressionReport fit) => string.Create(CultureInfo.InvariantCulture,
        $"MSE {fit.MeanSquaredError:G5} (RMSE {fit.RootMeanSquaredError:G4}, MAE {fit.MeanAbsoluteError:G4}, R² {fit.RSquared:F4}; "
        + $"target variance {fit.TargetVariance:G4} over {fit.Rows:N0} held-out targets)");

    private static double? Finite(double x) => double.IsFinite(x) ? x : null;

    private static T Parse<T>(string text, string option, params (string Name, T Value)[] choices)
    {
        foreach ((string name, T value) in choices)
        {
            if (string.Equals(text, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        throw new CommandException($"{option} '{text}' is not one of: {string.Join(", ", choices.Select(c => c.Name))}");
    }

    private static T Guard<T>(Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (ArgumentException e)
        {
            throw new CommandException(e.Message);
        }
    }

    private static string Format(TimeSpan t) =>
        t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);
}
