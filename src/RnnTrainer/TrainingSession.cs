using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;

namespace RnnEmbedded.Trainer;

/// <summary>A progress report, about once a second.</summary>
public sealed record TrainProgress(long Step, int Epoch, double TrainLoss, double TokensPerSecond, TimeSpan Elapsed, TimeSpan? Remaining, float Lr);

/// <summary>A validation result.</summary>
public sealed record EvalResult(long Step, TimeSpan Elapsed, double Loss, long Tokens)
{
    public double Perplexity => Math.Exp(Loss);

    public double BitsPerToken => Loss / Math.Log(2);
}

/// <summary>The outcome of a run.</summary>
public sealed record TrainResult(
    long Steps, long Tokens, TimeSpan Elapsed, double TokensPerSecond, double TrainLoss, EvalResult? Validation,
    string ModelPath, string CheckpointPath, string PlotPath, string StopReason, long ParameterCount);

/// <summary>Callbacks for what a person watching sees; all optional.</summary>
public sealed class TrainObserver
{
    public Action<string>? Message { get; init; }

    public Action<TrainProgress>? Progress { get; init; }

    public Action<EvalResult>? Evaluated { get; init; }

    public Action<string>? Sample { get; init; }

    public Action<string>? Checkpointed { get; init; }
}

/// <summary>
/// The training loop: truncated BPTT over B contiguous streams of the corpus, T steps per window, state carried
/// from window to window; Adam or SGD with clipping and an LR schedule; periodic validation, samples and atomic
/// checkpoints; early stopping; exact resume. Results depend only on the options and seed (not on the thread
/// count: every reduction has a fixed order).
/// </summary>
public sealed class TrainingSession
{
    private const string CheckpointKind = "rnn-train-checkpoint";

    private readonly TrainOptions _options;
    private readonly TrainObserver _observer;
    private readonly Dataset _data;
    private readonly Workers _workers;
    private readonly Gemm _gemm;
    private readonly Network _net;
    private readonly Window _window;
    private readonly Optimizer _optimizer;
    private readonly Rng _dropoutRng;
    private readonly int _streamLength;
    private readonly int _windowsPerEpoch;
    private readonly List<double[]> _curve = new(); // (step, train loss, val loss or NaN)
    private long _step;
    private int _windowIndex;
    private int _epoch;
    private double _bestVal = double.PositiveInfinity;
    private float[][]? _bestWeights; // KeepBest: parameter values at the best validation of this invocation
    private EvalResult? _bestEval;
    private EvalResult? _lastEval;
    private EvalResult? _lastEvalJudged;
    private Window? _evalWindow;
    private int _evalsWithoutImprovement;
    private double _previousSeconds;
    private long _startStep;

    public TrainingSession(TrainOptions options, TrainObserver? observer = null)
    {
        options.Validate();
        _observer = observer ?? new TrainObserver();
        TrainOptions effective = options;
        Dictionary<string, string>? checkpoint = null;
        WeightFile? checkpointFile = null;
        if (options.Resume is not null)
        {
            checkpointFile = SafeTensorsReader.ReadFile(options.Resume, new SafeTensorsReadOptions { AllowNonFinite = true }); // the loss curve holds NaN gaps
            checkpoint = new Dictionary<string, string>(checkpointFile.Metadata);
            if (!checkpoint.TryGetValue("ckpt.kind", out string? kind) || kind != CheckpointKind)
            {
                throw new InvalidDataException($"{options.Resume}: not a training checkpoint (no ckpt.kind = {CheckpointKind})");
            }

            // The architecture and the data order come from the checkpoint; limits, paths and threads from the command line.
            TrainOptions saved = JsonSerializer.Deserialize<TrainOptions>(checkpoint["ckpt.options"], s_json)
                ?? throw new InvalidDataException($"{options.Resume}: ckpt.options is empty");
            effective = saved with
            {
                Corpus = options.Corpus.Length > 0 ? options.Corpus : saved.Corpus,
                Threads = options.Threads,
                VectorWidth = options.VectorWidth,
                TimeLimit = options.TimeLimit,
                Steps = options.Steps,
                Out = options.Out,
                Resume = options.Resume,
                CheckpointPath = options.CheckpointPath,
                EvalSeconds = options.EvalSeconds,
                SampleSeconds = options.SampleSeconds,
                CheckpointSeconds = options.CheckpointSeconds,
            };
        }

        _options = effective;
        if (!File.Exists(_options.Corpus))
        {
            throw new FileNotFoundException($"{_options.Corpus}: corpus file not found", _options.Corpus);
        }

        _data = Dataset.Load(_options.Corpus, _options.Task, _options.ValFraction, _options.ValLimit, _options.VocabSize, _options.Lowercase);
        _workers = new Workers(_options.Threads);
        var shape = new NetworkShape(_data.Vocabulary.Count, _options.Embedding, _options.Hidden, _options.Layers, _options.Cell, _data.ImageFeatures,
            _options.Peepholes, _options.Cifg, _options.GruResetBefore);
        _net = new Network(shape);
        _net.Initialize(_options.Seed);
        _gemm = new Gemm(_options.VectorWidth);
        _window = new Window(_net, _options.Batch, _options.SeqLen, _workers, _gemm) { Dropout = _options.Dropout, Features = _data.Train.Features };
        _optimizer = new Optimizer(_net.Parameters, _options.Optimizer, _workers) { Clip = _options.Clip, Momentum = _options.Momentum };
        _dropoutRng = new Rng(_options.Seed ^ 0xD1B54A32D192ED03UL);
        _streamLength = _data.Train.Length / _options.Batch;
        _windowsPerEpoch = _streamLength / _options.SeqLen;
        if (_windowsPerEpoch < 1)
        {
            throw new InvalidDataException(
                $"{_options.Corpus}: the training split has {_data.Train.Length} positions, fewer than --batch {_options.Batch} × --seq-len {_options.SeqLen}");
        }

        if (checkpointFile is not null)
        {
            Restore(checkpointFile, checkpoint!);
        }
    }

    public Network Network => _net;

    public Dataset Data => _data;

    public TrainOptions Options => _options;

    public string CheckpointPath => _options.CheckpointPath ?? DefaultCheckpointPath(_options.Out);

    public static string DefaultCheckpointPath(string modelPath) => StripExtension(modelPath) + ".ckpt.safetensors";

    public static string PlotPathFor(string modelPath) => StripExtension(modelPath) + ".loss.svg";

    /// <summary>Trains until a limit, early stopping or cancellation; writes the model, the plot and a checkpoint.</summary>
    public TrainResult Run(CancellationToken cancel = default)
    {
        int b = _options.Batch;
        int t = _options.SeqLen;
        var clock = Stopwatch.StartNew();
        _startStep = _step;
        long tokensThisRun = 0;
        double smoothed = double.NaN;
        double lastProgress = 0, lastEval = 0, lastSample = 0, lastCheckpoint = 0;
        string stopReason = "step limit";
        _observer.Message?.Invoke(
            $"{_data.Task.ToString().ToLowerInvariant()} task: {_data.Train.Length:N0} training / {_data.Validation.Length:N0} validation positions, "
            + $"vocabulary {_data.Vocabulary.Count}, {_net.ParameterCount:N0} parameters, {_options.Cell.ToString().ToLowerInvariant()} "
            + $"H={_options.Hidden} L={_options.Layers} E={_options.Embedding} B={b} T={t}, {_workers.Count} threads"
            + (_step > 0 ? $", resuming at step {_step}" : ""));

        while (true)
        {
            if (_options.Steps > 0 && _step >= _options.Steps)
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

            float lr = LearningRate(_step);
            double loss = TrainStep(lr);
            tokensThisRun += (long)b * t;
            smoothed = double.IsNaN(smoothed) ? loss : 0.98 * smoothed + 0.02 * loss;
            if (_step % 10 == 0 || _step == 1)
            {
                _curve.Add(new[] { _step, smoothed, double.NaN });
            }

            double now = clock.Elapsed.TotalSeconds;
            if (now - lastProgress >= 1.0)
            {
                lastProgress = now;
                _observer.Progress?.Invoke(new TrainProgress(_step, _epoch, smoothed, tokensThisRun / now, clock.Elapsed, Remaining(clock.Elapsed), lr));
            }

            bool evalDue = _options.EvalEvery > 0 ? _step % _options.EvalEvery == 0 : now - lastEval >= _options.EvalSeconds;
            if (evalDue && _data.Validation.Length > 0)
            {
                lastEval = now;
                EvalResult eval = Evaluate(clock.Elapsed);
                if (EarlyStop(eval))
                {
                    stopReason = "early stopping";
                    break;
                }
            }

            if (_options.SampleSeconds > 0 && now - lastSample >= _options.SampleSeconds && _data.Task != TrainTask.Caption)
            {
                lastSample = now;
                _observer.Sample?.Invoke(Sample(_options.SampleLength, _step));
            }

            if (_options.CheckpointSeconds > 0 && now - lastCheckpoint >= _options.CheckpointSeconds)
            {
                lastCheckpoint = now;
                SaveCheckpoint(clock.Elapsed);
            }
        }

        TimeSpan elapsed = clock.Elapsed;
        double tokensPerSecond = tokensThisRun / Math.Max(1e-9, elapsed.TotalSeconds);
        SaveCheckpoint(elapsed);
        EvalResult? validation = null;
        if (_data.Validation.Length > 0)
        {
            validation = _lastEval is not null && _lastEval.Step == _step ? _lastEval : Evaluate(elapsed);
            if (!ReferenceEquals(validation, _lastEvalJudged))
            {
                EarlyStop(validation);
            }
        }

        if (_options.KeepBest && _bestWeights is not null && _bestEval is not null && validation is not null && _bestEval.Loss < validation.Loss)
        {
            // The checkpoint keeps the latest state (for --resume); the weight file gets the best one.
            for (int i = 0; i < _net.Parameters.Count; i++)
            {
                Array.Copy(_bestWeights[i], _net.Parameters[i].Value, _bestWeights[i].Length);
            }

            _net.RefreshTransposed();
            validation = _bestEval;
            _observer.Message?.Invoke($"keeping the weights of step {_bestEval.Step} (best validation loss {_bestEval.Loss:F4})");
        }

        string plot = PlotPathFor(_options.Out);
        WriteModel(validation, smoothed, tokensPerSecond, elapsed);
        LossPlot.Write(plot, _curve, _data.Task == TrainTask.Char ? "nats/char" : "nats/token");
        return new TrainResult(_step, tokensThisRun, elapsed, tokensPerSecond, smoothed, validation, _options.Out, CheckpointPath, plot, stopReason,
            _net.ParameterCount);
    }

    /// <summary>One optimizer step on the next window; returns the mean training loss of the window (nats/token).</summary>
    public double TrainStep(float lr)
    {
        FillWindow(_window, _data.Train, _windowIndex);
        _net.ZeroGrad();
        double sum = _window.Forward(_options.Dropout > 0 ? _dropoutRng : null);
        int count = _window.TargetCount;
        if (count > 0)
        {
            _window.Backward(1f / count);
            _optimizer.Step(lr);
        }

        _step++;
        _windowIndex++;
        if (_windowIndex >= _windowsPerEpoch)
        {
            _windowIndex = 0;
            _epoch++;
            _window.ResetState();
        }

        return count > 0 ? sum / count : 0;
    }

    /// <summary>Learning rate at <paramref name="step"/>: linear warmup, then the configured decay.</summary>
    public float LearningRate(long step)
    {
        float lr = _options.Lr;
        if (_options.WarmupSteps > 0 && step < _options.WarmupSteps)
        {
            return lr * (step + 1) / _options.WarmupSteps;
        }

        long horizon = _options.DecaySteps > 0 ? _options.DecaySteps : _options.Steps;
        if (_options.Decay == LrDecay.None || horizon <= _options.WarmupSteps)
        {
            return lr;
        }

        double progress = Math.Clamp((double)(step - _options.WarmupSteps) / (horizon - _options.WarmupSteps), 0, 1);
        double min = _options.MinLrFraction;
        double factor = _options.Decay == LrDecay.Cosine
            ? min + (1 - min) * 0.5 * (1 + Math.Cos(Math.PI * progress))
            : 1 - (1 - min) * progress;
        return (float)(lr * factor);
    }

    /// <summary>Mean cross-entropy (nats/token) on the validation stream, cut into EvalStreams zero-state streams.</summary>
    public EvalResult Evaluate(TimeSpan elapsed)
    {
        int streams = Math.Max(1, Math.Min(_options.EvalStreams, _data.Validation.Length));
        _evalWindow ??= new Window(_net, streams, _options.SeqLen, _workers, _gemm) { Features = _data.Validation.Features };
        double loss = EvaluateStream(_evalWindow, _data.Validation, out long tokens);
        var result = new EvalResult(_step, elapsed, loss, tokens);
        _lastEval = result;
        _curve.Add(new[] { _step, double.NaN, loss });
        _observer.Evaluated?.Invoke(result);
        return result;
    }

    /// <summary>Mean loss of <paramref name="net"/> over <paramref name="stream"/> split into <paramref name="streams"/> contiguous parts.</summary>
    public static double EvaluateStream(Network net, TokenStream stream, int streams, int seqLen, Workers workers, out long tokens)
    {
        int s = Math.Max(1, Math.Min(streams, stream.Length));
        return EvaluateStream(new Window(net, s, seqLen, workers) { Features = stream.Features }, stream, out tokens);
    }

    /// <summary>Mean loss over <paramref name="stream"/> cut into window.Batch contiguous zero-state streams.</summary>
    public static double EvaluateStream(Window window, TokenStream stream, out long tokens)
    {
        int s = window.Batch;
        int seqLen = window.Steps;
        int length = stream.Length / s;
        window.ResetState();

        // Word and caption streams are sequences with starts (Reset). A part cut mid-sequence begins with an orphan
        // tail that lacks its start (a caption's image step): those positions are read but not scored, so the loss
        // is that of whole sequences from their start, as a decoder meets them.
        bool sequences = Array.IndexOf(stream.Reset, true) >= 0;
        var started = new bool[s];
        double sum = 0;
        long count = 0;
        for (int start = 0; start < length; start += seqLen)
        {
            for (int t = 0; t < seqLen; t++)
            {
                for (int b = 0; b < s; b++)
                {
                    int r = t * s + b;
                    int at = start + t;
                    if (at < length)
                    {
                        int pos = b * length + at;
                        started[b] |= stream.Reset[pos];
                        window.Inputs[r] = stream.Inputs[pos];
                        window.Targets[r] = sequences && !started[b] ? -1 : stream.Targets[pos];
                        window.Reset[r] = stream.Reset[pos];
                    }
                    else
                    {
                        window.Inputs[r] = 0;
                        window.Targets[r] = -1;
                        window.Reset[r] = false;
                    }
                }
            }

            sum += window.Forward(null);
            count += window.TargetCount;
        }

        tokens = count;
        return count > 0 ? sum / count : double.NaN;
    }

    /// <summary>Generated text from the current weights (reference engine, temperature 0.8).</summary>
    public string Sample(int length, long seed)
    {
        ModelSpec spec = _net.ToSpec(_data.Vocabulary, _data.TaskKind);
        var engine = new ReferenceEngine(spec);
        var rng = new Rng((ulong)seed * 0x9E3779B97F4A7C15UL + 1);
        var logits = new float[spec.OutputSize];
        var sb = new StringBuilder();
        bool words = _data.Task != TrainTask.Char;
        int token = words ? _data.Vocabulary.StartToken : _data.Train.Inputs[0];
        if (!words)
        {
            sb.Append(_data.Vocabulary.Tokens[token]);
        }

        for (int i = 0; i < length; i++)
        {
            engine.Step(token, logits);
            token = SampleToken(logits, 0.8f, rng);
            if (words)
            {
                if (token == _data.Vocabulary.StopToken)
                {
                    sb.Append(" ⏎ ");
                    engine.Reset();
                    token = _data.Vocabulary.StartToken;
                    continue;
                }

                sb.Append(' ');
            }

            sb.Append(_data.Vocabulary.Tokens[token]);
        }

        return sb.ToString();
    }

    /// <summary>The model with metadata (vocabulary, architecture, training record).</summary>
    public ModelSpec ToSpec(EvalResult? validation, double trainLoss, double tokensPerSecond, TimeSpan elapsed)
    {
        var meta = new SortedDictionary<string, string>(StringComparer.Ordinal);
        void Put(string key, string value) => meta[MetadataKeys.TrainPrefix + key] = value;
        string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        string F32(float x) => x.ToString(CultureInfo.InvariantCulture); // shortest round-trip: 0.002, not 0.0020000000949949026
        Put("trainer", "RnnEmbedded.Trainer");
        Put("corpus", Path.GetFileName(_options.Corpus));
        Put("task", _options.Task.ToString().ToLowerInvariant());
        Put("cell", CellName(_options.Cell) + (_options.Peepholes ? "+peepholes" : "") + (_options.Cifg ? "+cifg" : "") + (_options.GruResetBefore ? "+reset-before" : ""));
        Put("hidden", _options.Hidden.ToString(CultureInfo.InvariantCulture));
        Put("layers", _options.Layers.ToString(CultureInfo.InvariantCulture));
        Put("embedding", _options.Embedding.ToString(CultureInfo.InvariantCulture));
        Put("batch", _options.Batch.ToString(CultureInfo.InvariantCulture));
        Put("seq_len", _options.SeqLen.ToString(CultureInfo.InvariantCulture));
        Put("optimizer", _options.Optimizer.ToString().ToLowerInvariant());
        Put("lr", F32(_options.Lr));
        Put("clip", F32(_options.Clip));
        Put("dropout", F32(_options.Dropout));
        Put("warmup_steps", _options.WarmupSteps.ToString(CultureInfo.InvariantCulture));
        Put("lr_decay", _options.Decay.ToString().ToLowerInvariant());
        Put("seed", _options.Seed.ToString(CultureInfo.InvariantCulture));
        Put("threads", _options.Threads.ToString(CultureInfo.InvariantCulture));
        Put("steps", _step.ToString(CultureInfo.InvariantCulture));
        if (validation is not null && validation.Step != _step)
        {
            Put("weights_from_step", validation.Step.ToString(CultureInfo.InvariantCulture));
        }

        Put("epochs", F(_step / (double)_windowsPerEpoch));
        Put("elapsed_seconds", F(Math.Round(_previousSeconds + elapsed.TotalSeconds, 3)));
        Put("tokens_per_second", F(Math.Round(tokensPerSecond, 1)));
        Put("train_loss", F(trainLoss));
        Put("val_fraction", F(_options.ValFraction));
        if (validation is not null)
        {
            Put("val_loss", F(validation.Loss));
            Put("val_perplexity", F(validation.Perplexity));
            Put(_data.Task == TrainTask.Char ? "val_bits_per_char" : "val_bits_per_token", F(validation.BitsPerToken));
            Put("val_tokens", validation.Tokens.ToString(CultureInfo.InvariantCulture));
        }

        return _net.ToSpec(_data.Vocabulary, _data.TaskKind, meta);
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

    public static string CellName(TrainCell cell) => cell switch
    {
        TrainCell.Lstm => "lstm",
        TrainCell.Gru => "gru",
        TrainCell.RnnTanh => "rnn-tanh",
        _ => "rnn-relu",
    };

    /// <summary>Writes a checkpoint atomically (temp file + rename): weights, optimizer moments, state, data position, RNG.</summary>
    public void SaveCheckpoint(TimeSpan elapsed)
    {
        var tensors = new List<Tensor>();
        for (int i = 0; i < _net.Parameters.Count; i++)
        {
            Parameter p = _net.Parameters[i];
            tensors.Add(new Tensor(p.Name, new[] { p.Value.Length }, p.Value));
            tensors.Add(new Tensor("opt.m." + p.Name, new[] { _optimizer.First[i].Length }, _optimizer.First[i]));
            if (_optimizer.Second[i].Length > 0)
            {
                tensors.Add(new Tensor("opt.v." + p.Name, new[] { _optimizer.Second[i].Length }, _optimizer.Second[i]));
            }
        }

        float[] state = _window.GetState();
        tensors.Add(new Tensor("train.state", new[] { state.Length }, state));
        var curve = new List<float>();
        foreach (double[] point in _curve)
        {
            curve.Add((float)point[0]);
            curve.Add((float)point[1]);
            curve.Add((float)point[2]);
        }

        if (curve.Count > 0)
        {
            tensors.Add(new Tensor("train.curve", new[] { curve.Count / 3, 3 }, curve.ToArray()));
        }

        var meta = new Dictionary<string, string>
        {
            ["ckpt.kind"] = CheckpointKind,
            ["ckpt.options"] = JsonSerializer.Serialize(_options with { Resume = null }, s_json),
            ["ckpt.step"] = _step.ToString(CultureInfo.InvariantCulture),
            ["ckpt.window"] = _windowIndex.ToString(CultureInfo.InvariantCulture),
            ["ckpt.epoch"] = _epoch.ToString(CultureInfo.InvariantCulture),
            ["ckpt.optimizer_steps"] = _optimizer.StepCount.ToString(CultureInfo.InvariantCulture),
            ["ckpt.rng"] = string.Join(",", _dropoutRng.State),
            ["ckpt.best_val"] = _bestVal.ToString("R", CultureInfo.InvariantCulture),
            ["ckpt.evals_without_improvement"] = _evalsWithoutImprovement.ToString(CultureInfo.InvariantCulture),
            ["ckpt.elapsed_seconds"] = (_previousSeconds + elapsed.TotalSeconds).ToString("R", CultureInfo.InvariantCulture),
            ["ckpt.vocab"] = JsonSerializer.Serialize(_data.Vocabulary.Tokens),
        };
        string path = CheckpointPath;
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        SafeTensorsWriter.WriteFile(path, tensors, meta);
        _observer.Checkpointed?.Invoke(path);
    }

    private void Restore(WeightFile file, Dictionary<string, string> meta)
    {
        string name = file.FileName;
        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (Tensor tensor in file.Tensors)
        {
            byName[tensor.Name] = tensor;
        }

        string vocab = JsonSerializer.Serialize(_data.Vocabulary.Tokens);
        if (meta["ckpt.vocab"] != vocab)
        {
            throw new InvalidDataException($"{name}: the checkpoint's vocabulary differs from the corpus {_options.Corpus} (resume with the same corpus)");
        }

        float[] Get(string tensorName, int length)
        {
            if (!byName.TryGetValue(tensorName, out Tensor? tensor))
            {
                throw new InvalidDataException($"{name}: checkpoint tensor '{tensorName}' is missing");
            }

            if (tensor.Data.Length != length)
            {
                throw new InvalidDataException($"{name}: checkpoint tensor '{tensorName}' has {tensor.Data.Length} floats, expected {length}");
            }

            return tensor.Data;
        }

        for (int i = 0; i < _net.Parameters.Count; i++)
        {
            Parameter p = _net.Parameters[i];
            Array.Copy(Get(p.Name, p.Value.Length), p.Value, p.Value.Length);
            Array.Copy(Get("opt.m." + p.Name, p.Value.Length), _optimizer.First[i], p.Value.Length);
            if (_optimizer.Second[i].Length > 0)
            {
                Array.Copy(Get("opt.v." + p.Name, p.Value.Length), _optimizer.Second[i], p.Value.Length);
            }
        }

        _net.RefreshTransposed();
        _window.SetState(Get("train.state", _window.GetState().Length));
        if (byName.TryGetValue("train.curve", out Tensor? curve))
        {
            for (int i = 0; i + 2 < curve.Data.Length; i += 3)
            {
                _curve.Add(new double[] { curve.Data[i], curve.Data[i + 1], curve.Data[i + 2] });
            }
        }

        _step = long.Parse(meta["ckpt.step"], CultureInfo.InvariantCulture);
        _windowIndex = int.Parse(meta["ckpt.window"], CultureInfo.InvariantCulture);
        _epoch = int.Parse(meta["ckpt.epoch"], CultureInfo.InvariantCulture);
        _optimizer.StepCount = long.Parse(meta["ckpt.optimizer_steps"], CultureInfo.InvariantCulture);
        _dropoutRng.State = Array.ConvertAll(meta["ckpt.rng"].Split(','), s => ulong.Parse(s, CultureInfo.InvariantCulture));
        _bestVal = double.Parse(meta["ckpt.best_val"], CultureInfo.InvariantCulture);
        _evalsWithoutImprovement = int.Parse(meta["ckpt.evals_without_improvement"], CultureInfo.InvariantCulture);
        _previousSeconds = double.Parse(meta["ckpt.elapsed_seconds"], CultureInfo.InvariantCulture);
    }

    private bool EarlyStop(EvalResult eval)
    {
        _lastEvalJudged = eval;
        if (eval.Loss < _bestVal - 1e-4)
        {
            _bestVal = eval.Loss;
            _evalsWithoutImprovement = 0;
            if (_options.KeepBest)
            {
                _bestEval = eval;
                _bestWeights ??= new float[_net.Parameters.Count][];
                for (int i = 0; i < _net.Parameters.Count; i++)
                {
                    _bestWeights[i] = (float[])_net.Parameters[i].Value.Clone();
                }
            }

            return false;
        }

        _evalsWithoutImprovement++;
        return _options.Patience > 0 && _evalsWithoutImprovement >= _options.Patience;
    }

    private TimeSpan? Remaining(TimeSpan elapsed)
    {
        TimeSpan? byTime = _options.TimeLimit is TimeSpan limit ? limit - elapsed : null;
        TimeSpan? bySteps = null;
        if (_options.Steps > 0 && _step > 0)
        {
            double perStep = elapsed.TotalSeconds / Math.Max(1, _step - _startStep);
            bySteps = TimeSpan.FromSeconds(perStep * (_options.Steps - _step));
        }

        if (byTime is null)
        {
            return bySteps;
        }

        return bySteps is null || byTime < bySteps ? byTime : bySteps;
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

    private static int SampleToken(float[] logits, float temperature, Rng rng)
    {
        float max = float.NegativeInfinity;
        foreach (float z in logits)
        {
            max = MathF.Max(max, z);
        }

        var p = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            p[i] = Math.Exp((logits[i] - max) / temperature);
            sum += p[i];
        }

        double u = rng.NextDouble() * sum;
        for (int i = 0; i < p.Length; i++)
        {
            u -= p[i];
            if (u <= 0)
            {
                return i;
            }
        }

        return p.Length - 1;
    }

    private static string StripExtension(string path) =>
        path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? path[..^".safetensors".Length] : path;

    private static readonly JsonSerializerOptions s_json = new()
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };
}
