namespace RnnEmbedded.Trainer;

/// <summary>A progress report, about once a second.</summary>
public sealed record TrainProgress(long Step, int Epoch, double TrainLoss, double TokensPerSecond, TimeSpan Elapsed, TimeSpan? Remaining, float Lr);

/// <summary>A validation result.</summary>
public sealed record EvalResult(long Step, TimeSpan Elapsed, double Loss, long Tokens)
{
    /// <summary>Classify task: accuracy and confusion matrix of the held-out sequences; null otherwise.</summary>
    public ClassificationReport? Classification { get; init; }

    /// <summary>Regress task: MSE, R² and the targets' variance on the held-out targets; null otherwise (Loss is the MSE).</summary>
    public RegressionReport? Regression { get; init; }

    /// <summary>Seq2seq task: greedy exact match and token accuracy of the held-out pairs; null otherwise.</summary>
    public SequenceReport? Sequences { get; init; }

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

/// <summary>The loss curve of a run (across resumes): smoothed training loss and validation loss against steps.</summary>
public sealed class LossCurve
{
    /// <summary>(step, smoothed training loss), every 10 steps and at step 1.</summary>
    public List<(long Step, double Loss)> Training { get; } = new();

    /// <summary>(step, validation loss) of every validation.</summary>
    public List<(long Step, double Loss)> Validation { get; } = new();
}
