namespace RnnEmbedded.Trainer;

/// <summary>Validation loss: mean cross-entropy over a token stream cut into zero-state parts.</summary>
public static class Validation
{
    /// <summary>Mean loss of <paramref name="net"/> over <paramref name="stream"/> split into <paramref name="streams"/> contiguous parts.</summary>
    public static double EvaluateStream(Network net, TokenStream stream, int streams, int seqLen, Workers workers, out long tokens)
    {
        int s = Math.Max(1, Math.Min(streams, stream.Length));
        return EvaluateStream(new Window(net, s, seqLen, workers) { Features = stream.Features }, stream, out tokens);
    }

    /// <summary>Mean loss over <paramref name="stream"/> cut into window.Batch contiguous zero-state streams.</summary>
    public static double EvaluateStream(Window window, TokenStream stream, out long tokens) => EvaluateStream(window, stream, null, out tokens);

    /// <summary>
    /// As <see cref="EvaluateStream(Window, TokenStream, out long)"/>, calling <paramref name="scored"/> after each
    /// forward pass (the window's rows with a target ≥ 0 are the scored ones; their probabilities are
    /// <see cref="Window.Probabilities"/>).
    /// </summary>
    public static double EvaluateStream(Window window, TokenStream stream, Action<Window>? scored, out long tokens)
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
            scored?.Invoke(window);
        }

        tokens = count;
        return count > 0 ? sum / count : double.NaN;
    }
}

/// <summary>
/// Judges validations: the best loss so far, evaluations without improvement (early stopping after
/// <see cref="TrainOptions.Patience"/>), and with <see cref="TrainOptions.KeepBest"/> a copy of the weights of the
/// best validation of this invocation.
/// </summary>
public sealed class ValidationTracker
{
    private readonly Network _net;
    private readonly int _patience;
    private readonly bool _keepBest;
    private float[][]? _bestWeights;

    public ValidationTracker(Network net, int patience, bool keepBest)
    {
        _net = net;
        _patience = patience;
        _keepBest = keepBest;
    }

    /// <summary>The best validation loss so far (across resumes).</summary>
    public double BestLoss { get; set; } = double.PositiveInfinity;

    /// <summary>Validations since the last improvement (across resumes).</summary>
    public int WithoutImprovement { get; set; }

    /// <summary>The best validation of this invocation whose weights were kept (KeepBest), or null.</summary>
    public EvalResult? BestKept { get; private set; }

    /// <summary>The last validation judged.</summary>
    public EvalResult? LastJudged { get; private set; }

    /// <summary>Records <paramref name="eval"/>; true when training should stop early.</summary>
    public bool Judge(EvalResult eval)
    {
        LastJudged = eval;
        if (eval.Loss < BestLoss - 1e-4)
        {
            BestLoss = eval.Loss;
            WithoutImprovement = 0;
            if (_keepBest)
            {
                BestKept = eval;
                _bestWeights ??= new float[_net.Parameters.Count][];
                for (int i = 0; i < _net.Parameters.Count; i++)
                {
                    _bestWeights[i] = (float[])_net.Parameters[i].Value.Clone();
                }
            }

            return false;
        }

        WithoutImprovement++;
        return _patience > 0 && WithoutImprovement >= _patience;
    }

    /// <summary>Puts the kept best weights back into the network when they beat <paramref name="final"/>; returns the validation they had.</summary>
    public EvalResult? RestoreBestIfBetter(EvalResult? final)
    {
        if (_bestWeights is null || BestKept is null || final is null || BestKept.Loss >= final.Loss)
        {
            return null;
        }

        for (int i = 0; i < _net.Parameters.Count; i++)
        {
            Array.Copy(_bestWeights[i], _net.Parameters[i].Value, _bestWeights[i].Length);
        }

        _net.RefreshTransposed();
        return BestKept;
    }
}
