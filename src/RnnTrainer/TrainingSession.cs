using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Runtime;

namespace RnnEmbedded.Trainer;

/// <summary>
/// The training loop: truncated BPTT over B contiguous streams of the corpus, T steps per window, state carried
/// from window to window; Adam or SGD with clipping and a <see cref="LearningRateSchedule"/>; periodic validation
/// (<see cref="Validation"/>, <see cref="ValidationTracker"/>), samples (<see cref="TextSampler"/>) and atomic
/// checkpoints (<see cref="TrainingCheckpoint"/>); early stopping; exact resume. Results depend only on the
/// options and seed (not on the thread count or vector width: every reduction has a fixed order).
/// </summary>
public sealed class TrainingSession
{
    private readonly TrainOptions _options;
    private readonly TrainObserver _observer;
    private readonly Dataset _data;
    private readonly Workers _workers;
    private readonly Gemm _gemm;
    private readonly Network _net;
    private readonly Window _window;
    private readonly Seq2SeqWindow? _seq2seq; // the seq2seq task's batch (its decoder is _window)
    private readonly Optimizer _optimizer;
    private readonly ulong _dropoutSeed;
    private readonly int _streamLength;
    private readonly int _windowsPerEpoch;
    private readonly LossCurve _curve = new();
    private readonly RunPosition _position = new();
    private readonly ValidationTracker _tracker;
    private EvalResult? _lastEval;
    private Window? _evalWindow;
    private Seq2SeqWindow? _evalSeq2Seq;
    private int[]? _order; // seq2seq: the training pairs' order in epoch _orderEpoch
    private int _orderEpoch = -1;
    private long _lastStepTokens;
    private long _startStep;

    public TrainingSession(TrainOptions options, TrainObserver? observer = null)
    {
        options.Validate();
        _observer = observer ?? new TrainObserver();
        TrainOptions effective = options;
        WeightFile? checkpoint = null;
        if (options.Resume is not null)
        {
            (checkpoint, TrainOptions saved) = TrainingCheckpoint.Read(options.Resume);
            if (options.ForgetBias is float asked && asked != saved.ForgetBias)
            {
                // An initialisation: a resumed run continues from the checkpoint's weights and keeps its record.
                throw new ArgumentException(
                    $"--forget-bias {asked.ToString(CultureInfo.InvariantCulture)} with --resume: {options.Resume} was started with "
                    + (saved.ForgetBias is float was ? $"--forget-bias {was.ToString(CultureInfo.InvariantCulture)}" : "PyTorch's initialisation (no --forget-bias)")
                    + "; the forget bias only initialises a new run (drop the option, or start a new run)");
            }

            if (options.Bucket != 0 && options.Bucket != saved.Bucket)
            {
                // The batches' order: a resumed run continues the checkpoint's.
                throw new ArgumentException(
                    $"--bucket {options.Bucket} with --resume: {options.Resume} was started "
                    + (saved.Bucket > 0 ? $"with --bucket {saved.Bucket}" : "without --bucket")
                    + "; the batches' order comes from the checkpoint (drop the option, or start a new run)");
            }

            // The architecture and the data order come from the checkpoint; limits, paths and threads from the command line.
            effective = saved with
            {
                Corpus = options.Corpus.Length > 0 ? options.Corpus : saved.Corpus,
                ValCorpus = options.ValCorpus ?? saved.ValCorpus,
                Threads = options.Threads,
                VectorWidth = options.VectorWidth,
                TimeLimit = options.TimeLimit,
                Steps = options.Steps,
                Out = options.Out,
                Resume = options.Resume,
                CheckpointPath = options.CheckpointPath,
                EvalSeconds = options.EvalSeconds,
                FullSeq2SeqWindows = options.FullSeq2SeqWindows,
                SampleSeconds = options.SampleSeconds,
                CheckpointSeconds = options.CheckpointSeconds,
            };
        }

        _options = effective;
        if (!File.Exists(_options.Corpus))
        {
            throw new FileNotFoundException($"{_options.Corpus}: corpus file not found", _options.Corpus);
        }

        if (_options.ValCorpus is not null && !File.Exists(_options.ValCorpus))
        {
            throw new FileNotFoundException($"{_options.ValCorpus}: validation corpus file not found", _options.ValCorpus);
        }

        _data = _options.Task switch
        {
            TrainTask.Classify => Dataset.LoadClassification(_options.Corpus, _options.Tokens, _options.ValFraction, _options.ValLimit, _options.VocabSize,
                _options.Lowercase, _options.Seed),
            TrainTask.Regress => Dataset.LoadRegression(_options.Corpus, _options.TargetColumns, _options.SequenceColumn, _options.ValFraction,
                _options.ValLimit),
            TrainTask.Seq2Seq => Dataset.LoadSequencePairs(_options.Corpus, _options.ValCorpus, _options.Tokens, _options.ValFraction, _options.ValLimit,
                _options.VocabSize, _options.Lowercase, _options.Seed),
            _ => Dataset.Load(_options.Corpus, _options.Task, _options.ValFraction, _options.ValLimit, _options.VocabSize, _options.Lowercase),
        };
        int evalStreams = Math.Max(1, Math.Min(_options.EvalStreams, _data.Validation.Length));
        int denseInputs = _data.InputColumns?.Count ?? 0;
        SizeLimits.CheckNetwork(_options, _data.VocabularySize, _data.ImageFeatures, evalStreams);
        if (_data.TrainPairs is not null)
        {
            SizeLimits.CheckSequences(_options, _data.MaxSourceLength, _data.MaxTargetLength);
        }
        _workers = new Workers(_options.Threads);
        _gemm = new Gemm(_options.VectorWidth);
        NetworkShape? encoder = _data.SourceVocabulary is { } source
            ? new NetworkShape(source.Count, _options.Embedding, _options.Hidden, _options.Layers, _options.Cell, 0, _options.Peepholes, _options.Cifg,
                _options.GruResetBefore, Head: false)
            : null;
        int embedding = encoder is not null && _options.TargetEmbedding > 0 ? _options.TargetEmbedding : _options.Embedding;
        var shape = new NetworkShape(_data.VocabularySize, embedding, _options.Hidden, _options.Layers, _options.Cell, _data.ImageFeatures,
            _options.Peepholes, _options.Cifg, _options.GruResetBefore, _data.Labels?.Count ?? _data.TargetColumns?.Count ?? 0, encoder,
            DenseInputs: denseInputs, InputLayers: DenseLayerShape.ParseList(_options.InputLayers, "--input-layers"),
            HeadLayers: DenseLayerShape.ParseList(_options.HeadLayers, "--head-layers"));
        _net = new Network(shape);
        _net.Initialize(_options.Seed);
        if (_options.ForgetBias is float forgetBias)
        {
            _net.SetForgetBias(forgetBias); // after the draws: every other parameter is as without the option
        }

        if (encoder is not null)
        {
            // Buffers for the longest source and the longest target + 1 (--seq-len does not apply); each batch runs the
            // steps of its own longest pair (Seq2SeqWindow.Fill).
            _seq2seq = new Seq2SeqWindow(_net, _options.Batch, _data.MaxSourceLength, _data.MaxTargetLength + 1, _data.Vocabulary.StartToken,
                _data.Vocabulary.StopToken, _workers, _gemm) { Dropout = _options.Dropout, FullWindows = _options.FullSeq2SeqWindows };
            _window = _seq2seq.Decoder;
        }
        else
        {
            _window = new Window(_net, _options.Batch, _options.SeqLen, _workers, _gemm)
            {
                Dropout = _options.Dropout,
                Features = _data.Train.Features,
                InputValues = _data.Train.InputValues,
                TargetValues = _data.Train.TargetValues,
            };
        }

        _optimizer = new Optimizer(_net.Parameters, _options.Optimizer, _workers) { Clip = _options.Clip, Momentum = _options.Momentum };
        _dropoutSeed = _options.Seed ^ 0xD1B54A32D192ED03UL;
        Schedule = new LearningRateSchedule(_options);
        _tracker = new ValidationTracker(_net, _options.Patience, _options.KeepBest);
        _streamLength = _data.Train.Length / _options.Batch;
        _windowsPerEpoch = _data.TrainPairs is { } pairs ? (pairs.Count + _options.Batch - 1) / _options.Batch : _streamLength / _options.SeqLen;
        if (_windowsPerEpoch < 1)
        {
            throw new InvalidDataException(
                $"{_options.Corpus}: the training split has {_data.Train.Length} positions, fewer than --batch {_options.Batch} × --seq-len {_options.SeqLen}");
        }

        if (checkpoint is not null)
        {
            TrainingCheckpoint.Restore(checkpoint, _options.Corpus, _data.CheckpointVocabulary, _net, _optimizer, _window, _position, _tracker, _curve);
            if (_position.WindowIndex >= _windowsPerEpoch)
            {
                // Resumed on another corpus with the same vocabulary (or columns) that has fewer windows: a new epoch.
                _position.WindowIndex = 0;
                _position.Epoch++;
                _window.ResetState();
            }
        }
    }

    public Network Network => _net;

    public Dataset Data => _data;

    public TrainOptions Options => _options;

    public LearningRateSchedule Schedule { get; }

    public string CheckpointPath => _options.CheckpointPath ?? DefaultCheckpointPath(_options.Out);

    public static string DefaultCheckpointPath(string modelPath) => StripExtension(modelPath) + ".ckpt.safetensors";

    public static string PlotPathFor(string modelPath) => StripExtension(modelPath) + ".loss.svg";

    /// <summary>Trains until a limit, early stopping or cancellation; writes the model, the plot and a checkpoint.</summary>
    public TrainResult Run(CancellationToken cancel = default)
    {
        int b = _options.Batch;
        int t = _options.SeqLen;
        var clock = Stopwatch.StartNew();
        _startStep = _position.Step;
        long tokensThisRun = 0;
        double smoothed = double.NaN;
        double lastProgress = 0, lastEval = 0, lastSample = 0, lastCheckpoint = 0;
        string stopReason = "step limit";
        _observer.Message?.Invoke(
            $"{_data.Task.ToString().ToLowerInvariant()} task: "
            + (_data.TrainPairs is { } pairs
                ? $"{pairs.Count:N0} training / {_data.ValidationPairs!.Count:N0} held-out pairs (sources up to {_data.MaxSourceLength}, targets up to {_data.MaxTargetLength} tokens), source vocabulary {_data.SourceVocabulary!.Count}, target "
                : $"{_data.Train.Length:N0} training / {_data.Validation.Length:N0} validation positions, ")
            + (_data.InputColumns is { } inputs
                ? $"{inputs.Count} inputs ({string.Join(", ", inputs)}) → {_data.TargetColumns!.Count} targets ({string.Join(", ", _data.TargetColumns)}), "
                : $"vocabulary {_data.Vocabulary.Count}, ")
            + (_data.Labels is { } labels ? $"{labels.Count} labels, " : "") + $"{_net.ParameterCount:N0} parameters, {_options.Cell.ToString().ToLowerInvariant()} "
            + $"H={_options.Hidden} L={_options.Layers}" + (_data.InputColumns is null ? $" E={_options.Embedding}" : "")
            + (_seq2seq is not null
                ? $" (target {_net.Shape.Embedding}) B={b}, windows of up to {_seq2seq.Encoder.MaxSteps} source and {_seq2seq.Decoder.MaxSteps} target steps"
                    + (_seq2seq.FullWindows ? " (all of them every batch)" : " (each batch's longest pair)")
                    + (_options.Bucket > 0 ? $", batches bucketed by length in chunks of {_options.Bucket}" : "")
                : $" B={b} T={t}")
            + $", {_workers.Count} threads"
            + (_position.Step > 0 ? $", resuming at step {_position.Step}" : ""));

        while (true)
        {
            if (_options.Steps > 0 && _position.Step >= _options.Steps)
            {
                stopReason = "step limit";
                break;
            }

            if (_options.TimeLimit is TimeSpan limit && clock.Elapsed >= limit)
            {
                stopReason = "time limit";
                break;
            }

            if (cancel.IsCancellationRequested)
            {
                stopReason = "interrupted";
                break;
            }

            float lr = Schedule.At(_position.Step);
            double loss = TrainStep(lr);
            long step = _position.Step;
            tokensThisRun += _lastStepTokens;
            smoothed = double.IsNaN(smoothed) ? loss : 0.98 * smoothed + 0.02 * loss;
            if (step % 10 == 0 || step == 1)
            {
                _curve.Training.Add((step, smoothed));
            }

            double now = clock.Elapsed.TotalSeconds;
            if (now - lastProgress >= 1.0)
            {
                lastProgress = now;
                _observer.Progress?.Invoke(new TrainProgress(step, _position.Epoch, smoothed, tokensThisRun / now, clock.Elapsed, Remaining(clock.Elapsed), lr));
            }

            bool evalDue = _options.EvalEvery > 0 ? step % _options.EvalEvery == 0 : now - lastEval >= _options.EvalSeconds;
            if (evalDue && _data.Validation.Length > 0)
            {
                lastEval = now;
                if (_tracker.Judge(Evaluate(clock.Elapsed)))
                {
                    stopReason = "early stopping";
                    break;
                }
            }

            if (_options.SampleSeconds > 0 && now - lastSample >= _options.SampleSeconds && _data.Task is not (TrainTask.Caption or TrainTask.Classify or TrainTask.Regress))
            {
                lastSample = now;
                _observer.Sample?.Invoke(Sample(_options.SampleLength, step));
            }

            if (_options.CheckpointSeconds > 0 && now - lastCheckpoint >= _options.CheckpointSeconds)
            {
                lastCheckpoint = now;
                SaveCheckpoint(clock.Elapsed, smoothed);
            }
        }

        TimeSpan elapsed = clock.Elapsed;
        double tokensPerSecond = tokensThisRun / Math.Max(1e-9, elapsed.TotalSeconds);
        SaveCheckpoint(elapsed, smoothed);
        EvalResult? validation = null;
        if (_data.Validation.Length > 0)
        {
            validation = _lastEval is not null && _lastEval.Step == _position.Step ? _lastEval : Evaluate(elapsed);
            if (!ReferenceEquals(validation, _tracker.LastJudged))
            {
                _tracker.Judge(validation);
            }
        }

        if (_options.KeepBest && _tracker.RestoreBestIfBetter(validation) is EvalResult best)
        {
            // The checkpoint keeps the latest state (for --resume); the weight file gets the best one.
            validation = best;
            _observer.Message?.Invoke($"keeping the weights of step {best.Step} (best validation loss {best.Loss:F4})");
        }

        string plot = PlotPathFor(_options.Out);
        WriteModel(validation, smoothed, tokensPerSecond, elapsed);
        LossPlot.Write(plot, _curve, _data.Task switch
        {
            TrainTask.Char => "nats/char",
            TrainTask.Classify => "nats/sequence",
            TrainTask.Regress => "mean squared error",
            _ => "nats/token",
        });
        return new TrainResult(_position.Step, tokensThisRun, elapsed, tokensPerSecond, smoothed, validation, _options.Out, CheckpointPath, plot,
            stopReason, _net.ParameterCount);
    }

    /// <summary>One optimizer step on the next window; returns the mean training loss of the window (nats/token).</summary>
    public double TrainStep(float lr)
    {
        if (_seq2seq is not null)
        {
            return TrainSequenceStep(lr, _seq2seq);
        }

        _lastStepTokens = (long)_window.Batch * _window.Steps;
        FillWindow(_window, _data.Train, _position.WindowIndex);
        _net.ZeroGrad();
        double sum = _window.Forward(_options.Dropout > 0 ? DropoutSeed(_position.Step) : null);
        int count = _window.TargetCount;
        if (count > 0)
        {
            _window.Backward(1f / count);
            _optimizer.Step(lr);
        }

        _position.Step++;
        _position.WindowIndex++;
        if (_position.WindowIndex >= _windowsPerEpoch)
        {
            _position.WindowIndex = 0;
            _position.Epoch++;
            _window.ResetState();
        }

        return count > 0 ? sum / count : 0;
    }

    /// <summary>
    /// Mean cross-entropy (nats/token) on the validation stream, cut into EvalStreams zero-state streams; for seq2seq
    /// on the held-out pairs (EvalStreams per batch), with greedy exact match and token accuracy.
    /// </summary>
    public EvalResult Evaluate(TimeSpan elapsed)
    {
        if (_data.ValidationPairs is { } held)
        {
            _evalSeq2Seq ??= new Seq2SeqWindow(_net, Math.Max(1, Math.Min(_options.EvalStreams, held.Count)), _data.MaxSourceLength,
                _data.MaxTargetLength + 1, _data.Vocabulary.StartToken, _data.Vocabulary.StopToken, _workers, _gemm)
            {
                FullWindows = _options.FullSeq2SeqWindows,
            };
            var sequences = new SequenceReport();
            double pairLoss = Seq2SeqEvaluation.Evaluate(_evalSeq2Seq, held, _data.MaxTargetLength, sequences, out long pairTokens);
            var pairResult = new EvalResult(_position.Step, elapsed, pairLoss, pairTokens) { Sequences = sequences };
            _lastEval = pairResult;
            _curve.Validation.Add((_position.Step, pairLoss));
            _observer.Evaluated?.Invoke(pairResult);
            return pairResult;
        }

        int streams = Math.Max(1, Math.Min(_options.EvalStreams, _data.Validation.Length));
        _evalWindow ??= new Window(_net, streams, _options.SeqLen, _workers, _gemm)
        {
            Features = _data.Validation.Features,
            InputValues = _data.Validation.InputValues,
            TargetValues = _data.Validation.TargetValues,
        };
        ClassificationReport? report = _data.Labels is { } labels
            ? new ClassificationReport(labels, new long[labels.Count * labels.Count])
            : null;
        RegressionReport? regression = _data.Task == TrainTask.Regress ? new RegressionReport() : null;
        Action<Window>? scored = report is not null ? report.Add : regression is not null ? regression.Add : null;
        double loss = Validation.EvaluateStream(_evalWindow, _data.Validation, scored, out long tokens);
        var result = new EvalResult(_position.Step, elapsed, loss, tokens) { Classification = report, Regression = regression };
        _lastEval = result;
        _curve.Validation.Add((_position.Step, loss));
        _observer.Evaluated?.Invoke(result);
        return result;
    }

    /// <summary>
    /// Generated text from the current weights (<see cref="TextSampler"/>); for seq2seq a few held-out sources and
    /// their greedy decodings (<see cref="Seq2SeqEvaluation.Sample"/>).
    /// </summary>
    public string Sample(int length, long seed) => _seq2seq is not null
        ? Seq2SeqEvaluation.Sample(_evalSeq2Seq ?? _seq2seq, _data, 3)
        : TextSampler.Sample(_net, _data, length, seed);

    /// <summary>
    /// Seq2seq: greedy decodings of <paramref name="pairs"/> (source and target ids) with the trainer's own forward
    /// pass, at most <paramref name="maxLength"/> tokens each (the stop token not included).
    /// </summary>
    public int[][] DecodeGreedy(IReadOnlyList<SequencePair> pairs, int maxLength)
    {
        Seq2SeqWindow window = _seq2seq ?? throw new InvalidOperationException("Greedy decoding is for the seq2seq task.");
        var result = new int[pairs.Count][];
        var output = new int[window.Batch * maxLength];
        var lengths = new int[window.Batch];
        for (int start = 0; start < pairs.Count; start += window.Batch)
        {
            int n = Math.Min(window.Batch, pairs.Count - start);
            int[] indices = Enumerable.Range(start, n).ToArray();
            window.DecodeGreedy(pairs, indices, maxLength, output, lengths);
            for (int i = 0; i < n; i++)
            {
                result[start + i] = output.AsSpan(i * maxLength, lengths[i]).ToArray();
            }
        }

        return result;
    }

    /// <summary>The model with metadata (vocabulary, architecture, training record).</summary>
    public ModelSpec ToSpec(EvalResult? validation, double trainLoss, double tokensPerSecond, TimeSpan elapsed)
    {
        var meta = new SortedDictionary<string, string>(StringComparer.Ordinal);
        void Put(string key, string value) => meta[MetadataKeys.TrainPrefix + key] = value;
        string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        string F32(float x) => x.ToString(CultureInfo.InvariantCulture); // shortest round-trip: 0.002, not 0.0020000000949949026
        long step = _position.Step;
        Put("trainer", "RnnEmbedded.Trainer");
        Put("corpus", Path.GetFileName(_options.Corpus));
        Put("task", _options.Task.ToString().ToLowerInvariant());
        Put("cell", CellName(_options.Cell) + (_options.Peepholes ? "+peepholes" : "") + (_options.Cifg ? "+cifg" : "") + (_options.GruResetBefore ? "+reset-before" : ""));
        if (_options.ForgetBias is float fb)
        {
            Put("forget_bias", F32(fb)); // absent: PyTorch's initialisation
        }

        Put("hidden", _options.Hidden.ToString(CultureInfo.InvariantCulture));
        Put("layers", _options.Layers.ToString(CultureInfo.InvariantCulture));
        Put("embedding", _options.Embedding.ToString(CultureInfo.InvariantCulture));
        if (_options.InputLayers.Length > 0)
        {
            Put("input_layers", DenseLayerShape.ToText(DenseLayerShape.ParseList(_options.InputLayers, "--input-layers")));
        }

        if (_options.HeadLayers.Length > 0)
        {
            Put("head_layers", DenseLayerShape.ToText(DenseLayerShape.ParseList(_options.HeadLayers, "--head-layers")));
        }
        Put("batch", _options.Batch.ToString(CultureInfo.InvariantCulture));
        if (_data.Task != TrainTask.Seq2Seq)
        {
            Put("seq_len", _options.SeqLen.ToString(CultureInfo.InvariantCulture)); // seq2seq windows fit the longest pair instead
        }

        Put("optimizer", _options.Optimizer.ToString().ToLowerInvariant());
        Put("lr", F32(_options.Lr));
        Put("clip", F32(_options.Clip));
        Put("dropout", F32(_options.Dropout));
        Put("warmup_steps", _options.WarmupSteps.ToString(CultureInfo.InvariantCulture));
        Put("lr_decay", _options.Decay.ToString().ToLowerInvariant());
        Put("seed", _options.Seed.ToString(CultureInfo.InvariantCulture));
        Put("threads", _options.Threads.ToString(CultureInfo.InvariantCulture));
        Put("steps", step.ToString(CultureInfo.InvariantCulture));
        if (validation is not null && validation.Step != step)
        {
            Put("weights_from_step", validation.Step.ToString(CultureInfo.InvariantCulture));
        }

        Put("epochs", F(step / (double)_windowsPerEpoch));
        Put("elapsed_seconds", F(Math.Round(_position.PreviousSeconds + elapsed.TotalSeconds, 3)));
        Put("tokens_per_second", F(Math.Round(tokensPerSecond, 1)));
        Put("train_loss", F(trainLoss));
        if (_options.ValCorpus is null)
        {
            Put("val_fraction", F(_options.ValFraction)); // with --val-corpus the held-out pairs come from that file (val_corpus)
        }

        if (validation is not null)
        {
            Put("val_loss", F(validation.Loss));
            if (validation.Regression is { } fit)
            {
                Put("val_mse", F(fit.MeanSquaredError));
                Put("val_rmse", F(fit.RootMeanSquaredError));
                Put("val_r2", F(fit.RSquared));
                Put("val_target_variance", F(fit.TargetVariance));
                Put("val_targets", fit.Rows.ToString(CultureInfo.InvariantCulture));
            }
            else
            {
                Put("val_perplexity", F(validation.Perplexity));
                Put(_data.Task == TrainTask.Char ? "val_bits_per_char" : "val_bits_per_token", F(validation.BitsPerToken));
                Put("val_tokens", validation.Tokens.ToString(CultureInfo.InvariantCulture));
            }
            if (validation.Classification is { } report)
            {
                Put("val_accuracy", F(report.Accuracy));
                Put("val_sequences", report.Total.ToString(CultureInfo.InvariantCulture));
            }

            if (validation.Sequences is { } sequences)
            {
                Put("val_exact_match", F(sequences.ExactMatch));
                Put("val_token_accuracy", F(sequences.TokenAccuracy));
                Put("val_sequences", sequences.Sequences.ToString(CultureInfo.InvariantCulture));
            }
        }

        if (_data.Task is TrainTask.Classify or TrainTask.Seq2Seq)
        {
            Put("tokens", _options.Tokens.ToString().ToLowerInvariant());
        }

        if (_data.Task == TrainTask.Regress)
        {
            Put("inputs", JsonSerializer.Serialize(_data.InputColumns));
            Put("targets", JsonSerializer.Serialize(_data.TargetColumns));
            return _net.ToSpec(null, _data.TaskKind, meta);
        }

        if (_data.Task == TrainTask.Seq2Seq)
        {
            Put("target_embedding", _net.Shape.Embedding.ToString(CultureInfo.InvariantCulture));
            if (_options.Bucket > 0)
            {
                Put("bucket", _options.Bucket.ToString(CultureInfo.InvariantCulture)); // absent: batches in the drawn order
            }

            if (_options.ValCorpus is not null)
            {
                Put("val_corpus", Path.GetFileName(_options.ValCorpus));
            }
        }

        return _net.ToSpec(_data.Vocabulary, _data.TaskKind, meta, _data.Labels, _data.SourceVocabulary);
    }

    public static string CellName(TrainCell cell) => cell switch
    {
        TrainCell.Lstm => "lstm",
        TrainCell.Gru => "gru",
        TrainCell.RnnTanh => "rnn-tanh",
        _ => "rnn-relu",
    };

    /// <summary>Writes a checkpoint (<see cref="TrainingCheckpoint"/>) of the current state.</summary>
    public void SaveCheckpoint(TimeSpan elapsed, double trainLoss = double.NaN)
    {
        ModelSpec model = ToSpec(_lastEval, trainLoss, 0, elapsed);
        TrainingCheckpoint.Write(CheckpointPath, model, _options, _net, _optimizer, _window, _position, _tracker, _curve,
            elapsed.TotalSeconds, _data.CheckpointVocabulary);
        _observer.Checkpointed?.Invoke(CheckpointPath);
    }

    private void WriteModel(EvalResult? validation, double trainLoss, double tokensPerSecond, TimeSpan elapsed)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(_options.Out));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        ModelWriter.WriteFile(_options.Out, ToSpec(validation, trainLoss, tokensPerSecond, elapsed));
    }

    // The dropout masks of a step come from a generator seeded by (seed, step): nothing to save for an exact resume.
    private ulong DropoutSeed(long step)
    {
        ulong s = (ulong)step;
        return _dropoutSeed ^ Xoshiro128StarStar.SplitMix64(ref s);
    }

    private TimeSpan? Remaining(TimeSpan elapsed)
    {
        TimeSpan? byTime = _options.TimeLimit is TimeSpan limit ? limit - elapsed : null;
        TimeSpan? bySteps = null;
        long step = _position.Step;
        if (_options.Steps > 0 && step > 0)
        {
            double perStep = elapsed.TotalSeconds / Math.Max(1, step - _startStep);
            bySteps = TimeSpan.FromSeconds(perStep * (_options.Steps - step));
        }

        if (byTime is null)
        {
            return bySteps;
        }

        return bySteps is null || byTime < bySteps ? byTime : bySteps;
    }

    // Seq2seq: the next batch of pairs in this epoch's order, forward, backward through both stacks, optimizer step.
    private double TrainSequenceStep(float lr, Seq2SeqWindow window)
    {
        IReadOnlyList<SequencePair> pairs = _data.TrainPairs!;
        int[] order = EpochOrder(_position.Epoch, pairs.Count);
        int start = _position.WindowIndex * window.Batch;
        int n = Math.Min(window.Batch, pairs.Count - start);
        window.Fill(pairs, order.AsSpan(start, n));
        _net.ZeroGrad();
        double sum = window.Forward(_options.Dropout > 0 ? DropoutSeed(_position.Step) : null);
        int count = window.TargetCount;
        long sourceTokens = 0;
        for (int i = 0; i < n; i++)
        {
            sourceTokens += pairs[order[start + i]].Source.Length;
        }

        _lastStepTokens = sourceTokens + count;
        if (count > 0)
        {
            window.Backward(1f / count);
            _optimizer.Step(lr);
        }

        _position.Step++;
        _position.WindowIndex++;
        if (_position.WindowIndex >= _windowsPerEpoch)
        {
            _position.WindowIndex = 0;
            _position.Epoch++;
        }

        return count > 0 ? sum / count : 0;
    }

    // The training pairs' order in an epoch: a permutation drawn from (--seed, epoch), grouped into batches of similar
    // length with --bucket (Seq2SeqBuckets), so a resume needs no saved order.
    private int[] EpochOrder(int epoch, int count)
    {
        if (_order is not null && _orderEpoch == epoch)
        {
            return _order;
        }

        ulong s = (_options.Seed ^ 0xA0761D6478BD642FUL) + (ulong)epoch;
        var rng = new Xoshiro128StarStar(Xoshiro128StarStar.SplitMix64(ref s));
        _order = Enumerable.Range(0, count).ToArray();
        for (int i = count - 1; i > 0; i--)
        {
            int j = (int)(rng.NextDouble() * (i + 1));
            (_order[i], _order[j]) = (_order[j], _order[i]);
        }

        if (_options.Bucket > 0)
        {
            Seq2SeqBuckets.Group(_order, _data.TrainPairs!, _options.Batch, _options.Bucket, _options.Seed, epoch);
        }

        _orderEpoch = epoch;
        return _order;
    }

    private void FillWindow(Window window, TokenStream stream, int windowIndex)
    {
        int b = window.Batch;
        int t = window.Steps;
        for (int step = 0; step < t; step++)
        {
            for (int s = 0; s < b; s++)
            {
                int pos = s * _streamLength + windowIndex * t + step;
                int r = step * b + s;
                window.Inputs[r] = stream.Inputs[pos];
                window.Targets[r] = stream.Targets[pos];
                window.Reset[r] = stream.Reset[pos];
            }
        }
    }

    private static string StripExtension(string path) =>
        path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? path[..^".safetensors".Length] : path;
}
