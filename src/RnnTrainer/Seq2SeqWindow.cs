namespace RnnEmbedded.Trainer;

/// <summary>
/// One seq2seq training batch: B pairs, the encoder stack over their sources and the decoder stack over their
/// teacher-forced targets, each a <see cref="Window"/> of its own network half, run for as many steps as the batch's
/// longest source and longest target + 1 (<see cref="Fill"/>). Sources are right-aligned in the
/// encoder window (a row reset at each source's first token, so the padding before it never reaches the state) and
/// the encoder's state after the last step — every source's final state — starts the decoder, whose rows are
/// <c>&lt;start&gt; t1 … tn</c> → <c>t1 … tn &lt;stop&gt;</c> and padding without a target. Backward, the gradient
/// of the decoder's initial state is the gradient of the encoder's final state (BPTT through the hand-over);
/// docs/training.md, "Sequence to sequence".
/// </summary>
public sealed class Seq2SeqWindow
{
    private readonly Network _net;
    private readonly Workers _workers;
    private readonly Gemm _gemm;
    private readonly float[] _stateGradient; // d loss / d(decoder's initial state) = d loss / d(encoder's final state)
    private readonly bool[] _emptySource; // (B,) a source with no token (every character unknown): the zero state
    private readonly int _startToken, _stopToken;
    private Window? _stepWindow; // greedy decoding: the decoder one step at a time

    public Seq2SeqWindow(Network net, int batch, int sourceSteps, int targetSteps, int startToken, int stopToken, Workers workers, Gemm? gemm = null)
    {
        if (net.Encoder is null)
        {
            throw new ArgumentException("A seq2seq window needs a network with an encoder.", nameof(net));
        }

        _net = net;
        _workers = workers;
        _gemm = gemm ?? Gemm.Widest;
        _startToken = startToken;
        _stopToken = stopToken;
        Encoder = new Window(net.Encoder, batch, sourceSteps, workers, _gemm);
        Decoder = new Window(net, batch, targetSteps, workers, _gemm);
        _stateGradient = new float[Decoder.StateLength];
        _emptySource = new bool[batch];
    }

    public Window Encoder { get; }

    public Window Decoder { get; }

    public int Batch => Decoder.Batch;

    /// <summary>Dropout between the stacked layers of either stack during training.</summary>
    public float Dropout
    {
        get => Decoder.Dropout;
        set
        {
            Encoder.Dropout = value;
            Decoder.Dropout = value;
        }
    }

    /// <summary>Rows with a target in the last forward pass (target tokens plus one stop per pair).</summary>
    public int TargetCount => Decoder.TargetCount;

    /// <summary>
    /// Runs every batch with windows of the lengths this window was created with (the corpus-wide longest source and
    /// target + 1) instead of fitting them to the batch: the old behaviour, kept to test that fitted windows give the
    /// same results bit for bit and to measure what they save.
    /// </summary>
    public bool FullWindows { get; set; }

    /// <summary>
    /// Loads pairs[indices[b]] into stream b; streams past indices.Length are padding without targets. The encoder
    /// runs as many steps as the batch's longest source and the decoder as its longest target + 1 (all the steps
    /// with <see cref="FullWindows"/>). A source longer than the encoder's buffers or a target longer than the
    /// decoder's minus one is an error.
    /// </summary>
    public void Fill(IReadOnlyList<SequencePair> pairs, ReadOnlySpan<int> indices)
    {
        int b = Batch;
        if (indices.Length > b)
        {
            throw new ArgumentException($"{indices.Length} pairs do not fit in a batch of {b}.", nameof(indices));
        }

        int longestSource = 0, longestTarget = 0;
        foreach (int i in indices)
        {
            SequencePair pair = pairs[i];
            if (pair.Source.Length > Encoder.MaxSteps || pair.Target.Length + 1 > Decoder.MaxSteps)
            {
                throw new ArgumentException(
                    $"A pair of {pair.Source.Length} source and {pair.Target.Length} target tokens does not fit in windows of {Encoder.MaxSteps} and {Decoder.MaxSteps} steps.");
            }

            longestSource = Math.Max(longestSource, pair.Source.Length);
            longestTarget = Math.Max(longestTarget, pair.Target.Length);
        }

        // The rows a full window adds are padding before every right-aligned source (reset away at its first token)
        // and rows without a target after every target: they change no value the loss or a gradient reads.
        Encoder.SetSteps(FullWindows ? Encoder.MaxSteps : Math.Max(1, longestSource), lastSteps: true);
        Decoder.SetSteps(FullWindows ? Decoder.MaxSteps : longestTarget + 1, lastSteps: false);
        int ts = Encoder.Steps, tt = Decoder.Steps;
        for (int s = 0; s < b; s++)
        {
            SequencePair? pair = s < indices.Length ? pairs[indices[s]] : null;
            int[] source = pair?.Source ?? [];
            int[] target = pair?.Target ?? [];
            _emptySource[s] = source.Length == 0;
            int offset = ts - source.Length;
            for (int t = 0; t < ts; t++)
            {
                int r = t * b + s;
                Encoder.Inputs[r] = t < offset ? 0 : source[t - offset];
                Encoder.Targets[r] = -1;
                Encoder.Reset[r] = t == 0 || t == offset;
            }

            for (int t = 0; t < tt; t++)
            {
                int r = t * b + s;
                bool scored = pair is not null && t <= target.Length;
                Decoder.Inputs[r] = !scored ? 0 : t == 0 ? _startToken : target[t - 1];
                Decoder.Targets[r] = !scored ? -1 : t < target.Length ? target[t] : _stopToken;
                Decoder.Reset[r] = false; // the state before step 0 is the encoder's
            }
        }
    }

    /// <summary>
    /// Encoder, hand-over, teacher-forced decoder; returns the summed cross-entropy (nats) of the target rows.
    /// <paramref name="dropoutSeed"/> seeds the dropout masks (null: evaluation).
    /// </summary>
    public double Forward(ulong? dropoutSeed)
    {
        Encoder.Forward(dropoutSeed);
        Encoder.CopyStateTo(Decoder);
        ClearEmptySources(Decoder);
        return Decoder.Forward(dropoutSeed is ulong seed ? seed ^ 0x5DEECE66DUL : null);
    }

    /// <summary>Adds d(loss · <paramref name="scale"/>)/dθ of both stacks, the encoder's through the hand-over.</summary>
    public void Backward(float scale)
    {
        Decoder.Backward(scale, null, _stateGradient);
        if (Array.IndexOf(_emptySource, true) >= 0)
        {
            ClearRows(_stateGradient);
        }

        Encoder.Backward(1f, _stateGradient, null);
    }

    /// <summary>
    /// Greedy decoding of pairs[indices[b]]'s sources with the trainer's own forward pass: the encoder, then the
    /// decoder one step at a time from the start token, the most probable token (the first on a tie) each step,
    /// until the stop token or <paramref name="maxLength"/> tokens. Writes stream b's tokens (without the stop token)
    /// at <paramref name="output"/>[b · maxLength] and their count at <paramref name="lengths"/>[b].
    /// </summary>
    public void DecodeGreedy(IReadOnlyList<SequencePair> pairs, ReadOnlySpan<int> indices, int maxLength, int[] output, int[] lengths)
    {
        int b = Batch;
        Fill(pairs, indices);
        Encoder.Forward(null);
        _stepWindow ??= new Window(_net, b, 1, _workers, _gemm);
        Window step = _stepWindow;
        Encoder.CopyStateTo(step);
        ClearEmptySources(step);
        var done = new bool[b];
        for (int s = 0; s < b; s++)
        {
            lengths[s] = 0;
            done[s] = s >= indices.Length;
            step.Inputs[s] = _startToken;
            step.Targets[s] = -1;
            step.Reset[s] = false;
        }

        int v = _net.Shape.OutputCount;
        for (int i = 0; i < maxLength; i++)
        {
            step.Forward(null);
            bool any = false;
            for (int s = 0; s < b; s++)
            {
                if (done[s])
                {
                    continue;
                }

                ReadOnlySpan<float> p = step.Probabilities(s);
                int best = 0;
                for (int k = 1; k < v; k++)
                {
                    if (p[k] > p[best])
                    {
                        best = k;
                    }
                }

                if (best == _stopToken)
                {
                    done[s] = true;
                    continue;
                }

                output[s * maxLength + lengths[s]++] = best;
                step.Inputs[s] = best;
                any = true;
            }

            if (!any)
            {
                break;
            }
        }
    }

    private void ClearEmptySources(Window target)
    {
        if (Array.IndexOf(_emptySource, true) < 0)
        {
            return;
        }

        float[] state = target.GetState();
        ClearRows(state);
        target.SetState(state);
    }

    // Zeroes the streams with an empty source in a state laid out as Window.GetState (per layer h (B·H), then c).
    private void ClearRows(float[] state)
    {
        int b = Batch, h = _net.Shape.Hidden;
        for (int at = 0; at < state.Length; at += b * h)
        {
            for (int s = 0; s < b; s++)
            {
                if (_emptySource[s])
                {
                    Array.Clear(state, at + s * h, h);
                }
            }
        }
    }
}
