using System.Globalization;
using RnnEmbedded.Runtime;

namespace RnnEmbedded.Trainer;

/// <summary>Learning-rate decay after warmup.</summary>
public enum LrDecay
{
    None,
    Cosine,
    Linear,
}

/// <summary>What the classify task's text is cut into.</summary>
public enum ClassifyTokens
{
    /// <summary>One token per character (UTF-16 code unit) of the text, as written (no lower-casing).</summary>
    Chars,

    /// <summary>&lt;start&gt; words &lt;stop&gt;, split and encoded as the word task does (--vocab-size, --keep-case).</summary>
    Words,
}

/// <summary>Everything a training run is configured by (the <c>rnn train</c> options).</summary>
public sealed record TrainOptions
{
    public string Corpus { get; init; } = "";

    public TrainTask Task { get; init; } = TrainTask.Char;

    public TrainCell Cell { get; init; } = TrainCell.Lstm;

    public int Hidden { get; init; } = 256;

    /// <summary>LSTM peepholes (ONNX rule: i, f see the old cell, o the new one).</summary>
    public bool Peepholes { get; init; }

    /// <summary>LSTM coupled input-forget gate: f = 1 − i.</summary>
    public bool Cifg { get; init; }

    /// <summary>GRU candidate form: reset before the recurrent product (Cho et al. 2014) instead of PyTorch's reset after.</summary>
    public bool GruResetBefore { get; init; }

    /// <summary>
    /// LSTM only: the forget gate's initial bias. Null keeps PyTorch's initialisation (b_ih and b_hh both drawn from
    /// U(−1/√H, 1/√H)); a value V sets the forget block of every layer's b_ih to V and of b_hh to 0 (so the gate starts
    /// at σ(V + W x + U h)), after the same draws (docs/training.md, "Initialisation").
    /// </summary>
    public float? ForgetBias { get; init; }

    public int Layers { get; init; } = 1;

    public int Embedding { get; init; } = 64;

    public int Batch { get; init; } = 32;

    public int SeqLen { get; init; } = 64;

    public float Lr { get; init; } = 2e-3f;

    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    public float Momentum { get; init; } = 0.9f;

    /// <summary>Global gradient-norm clip; 0 disables.</summary>
    public float Clip { get; init; } = 5f;

    /// <summary>Dropout probability between stacked recurrent layers.</summary>
    public float Dropout { get; init; }

    public int WarmupSteps { get; init; }

    public LrDecay Decay { get; init; } = LrDecay.None;

    /// <summary>Steps over which the decay runs (defaults to <see cref="Steps"/>).</summary>
    public long DecaySteps { get; init; }

    /// <summary>Final learning rate as a fraction of <see cref="Lr"/>.</summary>
    public float MinLrFraction { get; init; } = 0.1f;

    public ulong Seed { get; init; } = 1;

    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// The widest vector width the matrix products may use (capped at what the machine runs). Results do not
    /// depend on it (tested); a narrower cap is for tests and comparisons.
    /// </summary>
    public VectorWidth VectorWidth { get; init; } = VectorWidth.V512;

    /// <summary>Stop after this wall-clock time (this invocation); null for no limit.</summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>Stop after this many optimizer steps in total (0: no limit).</summary>
    public long Steps { get; init; }

    /// <summary>Weight file to write (.safetensors).</summary>
    public string Out { get; init; } = "model.safetensors";

    /// <summary>Checkpoint to resume from.</summary>
    public string? Resume { get; init; }

    /// <summary>Checkpoint path; defaults to Out with ".ckpt.safetensors".</summary>
    public string? CheckpointPath { get; init; }

    public double ValFraction { get; init; } = 0.1;

    /// <summary>Validation positions used (the first ones of the split); 0: all.</summary>
    public int ValLimit { get; init; } = 200_000;

    /// <summary>Parallel streams the validation text is cut into (each starts from the zero state).</summary>
    public int EvalStreams { get; init; } = 32;

    /// <summary>Evaluate every this many steps (0: every <see cref="EvalSeconds"/>).</summary>
    public long EvalEvery { get; init; }

    public double EvalSeconds { get; init; } = 60;

    /// <summary>Early stopping: stop after this many evaluations without improvement (0: never).</summary>
    public int Patience { get; init; }

    /// <summary>Write the weights of the best validation of this invocation instead of the last ones.</summary>
    public bool KeepBest { get; init; }

    public double CheckpointSeconds { get; init; } = 120;

    public double SampleSeconds { get; init; } = 60;

    public int SampleLength { get; init; } = 200;

    public int VocabSize { get; init; } = 10_000;

    public bool Lowercase { get; init; } = true;

    /// <summary>Classify and seq2seq tasks: character or word tokens.</summary>
    public ClassifyTokens Tokens { get; init; } = ClassifyTokens.Chars;

    /// <summary>Regress task: the target column names, comma-separated.</summary>
    public string TargetColumns { get; init; } = "target";

    /// <summary>Regress task: the sequence-id column; null uses "sequence" when the header has it (else one sequence).</summary>
    public string? SequenceColumn { get; init; }

    /// <summary>Seq2seq: a held-out file of 'source&lt;TAB&gt;target' lines instead of a split of the corpus; null: split.</summary>
    public string? ValCorpus { get; init; }

    /// <summary>Seq2seq: the decoder's (target) embedding size; 0: <see cref="Embedding"/>.</summary>
    public int TargetEmbedding { get; init; }

    /// <summary>Regress task: dense layers before the recurrent stack, "32:tanh,16:relu" (<see cref="DenseLayerShape.ParseList"/>); "" for none.</summary>
    public string InputLayers { get; init; } = "";

    /// <summary>The head's hidden layers before its output layer, "64:relu" (<see cref="DenseLayerShape.ParseList"/>); "" for none.</summary>
    public string HeadLayers { get; init; } = "";

    /// <summary>
    /// Seq2seq: batches of pairs of similar length (<see cref="Seq2SeqBuckets"/>): each run of Bucket × <see cref="Batch"/>
    /// pairs of the epoch's order sorted by length, the batches then shuffled; 0: batches in the drawn order.
    /// </summary>
    public int Bucket { get; init; }

    /// <summary>
    /// Seq2seq: run every batch with windows as long as the corpus-wide longest source and target + 1 instead of the
    /// batch's (<see cref="Seq2SeqWindow.FullWindows"/>). Not an option of the command line nor saved in checkpoints:
    /// the results are the same bit for bit, and tests and measurements compare the two.
    /// </summary>
    internal bool FullSeq2SeqWindows { get; init; }

    /// <summary>Checks ranges; throws ArgumentException with the option name and rule.</summary>
    public void Validate()
    {
        Check(Hidden >= 1, "--hidden must be at least 1");
        Check(Layers >= 1, "--layers must be at least 1");
        Check(Embedding >= 1, "--embedding must be at least 1");
        Check(TargetEmbedding >= 0, "--target-embedding cannot be negative");
        Check(Task == TrainTask.Seq2Seq || (ValCorpus is null && TargetEmbedding == 0), "--val-corpus and --target-embedding are seq2seq options (--task seq2seq)");
        Check(Bucket >= 0, "--bucket cannot be negative");
        Check(Task == TrainTask.Seq2Seq || Bucket == 0,
            "--bucket is a seq2seq option (--task seq2seq): it groups source<TAB>target pairs of similar length into batches");
        Check(Cell == TrainCell.Lstm || (!Peepholes && !Cifg), "--peepholes and --cifg are LSTM variants (use --cell lstm)");
        Check(Cell == TrainCell.Gru || !GruResetBefore, "--gru-form reset-before needs --cell gru");
        Check(ForgetBias is null || Cell == TrainCell.Lstm,
            "--forget-bias is an LSTM option (--cell lstm): GRU and plain RNN cells have no forget gate");
        Check(ForgetBias is null || !Cifg, "--forget-bias needs a forget gate; --cifg couples it to the input gate (f = 1 − i) and has none");
        Check(ForgetBias is not float fb || float.IsFinite(fb), "--forget-bias must be a finite number");
        Check(Batch >= 1, "--batch must be at least 1");
        Check(SeqLen >= 1, "--seq-len must be at least 1");
        Check(Lr > 0 && float.IsFinite(Lr), "--lr must be a positive number");
        Check(Clip >= 0, "--clip cannot be negative");
        Check(Dropout >= 0 && Dropout < 1, "--dropout must be in [0, 1)");
        Check(Threads >= 1, "--threads must be at least 1");
        Check(Steps >= 0, "--steps cannot be negative");
        Check(WarmupSteps >= 0, "--warmup cannot be negative");
        Check(ValFraction >= 0 && ValFraction < 1, "--val-fraction must be in [0, 1)");
        Check(ValLimit >= 0, "--val-limit cannot be negative");
        Check(EvalStreams >= 1, "--eval-streams must be at least 1");
        Check(Patience >= 0, "--patience cannot be negative");
        Check(VocabSize >= 1, "--vocab-size must be at least 1");
        Check(TimeLimit is null || TimeLimit > TimeSpan.Zero, "--time-limit must be positive");
        Check(Decay == LrDecay.None || DecaySteps > 0 || Steps > 0, "--decay needs --steps or --decay-steps (the decay horizon)");
        Check(!string.IsNullOrWhiteSpace(Out), "--out must name a file");
        SizeLimits.CheckOptions(this);
        DenseLayerShape.CheckOptions(this); // Layers/DenseLayerShape.cs
    }

    /// <summary>"90s", "5m", "1h", "1h30m", "2.5m" or a plain number of seconds.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double plain) && plain > 0)
        {
            return TimeSpan.FromSeconds(plain);
        }

        double total = 0;
        int i = 0;
        bool any = false;
        while (i < t.Length)
        {
            int start = i;
            while (i < t.Length && (char.IsDigit(t[i]) || t[i] == '.'))
            {
                i++;
            }

            if (start == i || i >= t.Length
                || !double.TryParse(t[start..i], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                throw new ArgumentException($"--time-limit '{text}' is not a duration like 90s, 5m, 1h30m");
            }

            double unit = t[i] switch
            {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                _ => throw new ArgumentException($"--time-limit '{text}' is not a duration like 90s, 5m, 1h30m"),
            };
            i++;
            total += value * unit;
            any = true;
        }

        if (!any || total <= 0)
        {
            throw new ArgumentException($"--time-limit '{text}' must be a positive duration like 90s, 5m, 1h30m");
        }

        return TimeSpan.FromSeconds(total);
    }

    private static void Check(bool ok, string rule)
    {
        if (!ok)
        {
            throw new ArgumentException(rule);
        }
    }
}
