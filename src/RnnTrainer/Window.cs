namespace RnnEmbedded.Trainer;

/// <summary>
/// One training window: B parallel streams × T steps, and every buffer the forward and backward passes need.
/// Row r = t·B + b holds stream b at step t. The recurrent state (h, c per layer) is carried from one window to
/// the next (truncated BPTT: gradients stop at the window edge). A row whose <see cref="Reset"/> flag is set
/// starts from the zero state (a new sentence or caption), and no gradient crosses that edge.
/// </summary>
public sealed unsafe class Window
{
    private readonly Network _net;
    private readonly Workers _workers;
    private readonly int _h, _gh, _n;
    private readonly float[][] _x, _gx, _act, _hPrev, _hOut, _cPrev, _c, _tanhC, _ghN, _drop, _rh;
    private readonly float[] _dRh; // (B, H) GRU reset-before: d(r ⊙ h_prev) of one step
    private readonly bool _resetBefore;
    private readonly float[] _gh1; // (B, GH) recurrent pre-activations of one step
    private readonly float[] _logits; // (N, V): logits, then probabilities, then d loss / d logits
    private readonly double[] _rowLoss; // (N,)
    private readonly float[] _dGx, _dGh; // (N, GH)
    private readonly float[] _dH, _dX; // (N, H), (N, max In)
    private readonly float[] _dhNext, _dcNext; // (B, H)
    private readonly float[][] _hState, _cState; // per layer (B, H)

    public Window(Network net, int batch, int steps, Workers workers)
    {
        if (batch < 1 || steps < 1)
        {
            throw new ArgumentException("A window needs at least one stream and one step.");
        }

        _net = net;
        _workers = workers;
        Batch = batch;
        Steps = steps;
        NetworkShape s = net.Shape;
        _h = s.Hidden;
        _gh = s.Gates * s.Hidden;
        _n = batch * steps;
        int layers = s.Layers;
        Inputs = new int[_n];
        Targets = new int[_n];
        Reset = new bool[_n];
        _x = new float[layers][];
        _gx = new float[layers][];
        _act = new float[layers][];
        _hPrev = new float[layers][];
        _hOut = new float[layers][];
        _cPrev = new float[layers][];
        _c = new float[layers][];
        _tanhC = new float[layers][];
        _ghN = new float[layers][];
        _drop = new float[layers][];
        _rh = new float[layers][];
        _resetBefore = s.Cell == TrainCell.Gru && s.GruResetBefore;
        _hState = new float[layers][];
        _cState = new float[layers][];
        bool lstm = s.Cell == TrainCell.Lstm;
        for (int k = 0; k < layers; k++)
        {
            _x[k] = new float[_n * s.LayerInput(k)];
            _gx[k] = new float[_n * _gh];
            _act[k] = s.Cell is TrainCell.Lstm or TrainCell.Gru ? new float[_n * _gh] : Array.Empty<float>();
            _hPrev[k] = new float[_n * _h];
            _hOut[k] = new float[_n * _h];
            _cPrev[k] = lstm ? new float[_n * _h] : Array.Empty<float>();
            _c[k] = lstm ? new float[_n * _h] : Array.Empty<float>();
            _tanhC[k] = lstm ? new float[_n * _h] : Array.Empty<float>();
            _ghN[k] = s.Cell == TrainCell.Gru ? new float[_n * _h] : Array.Empty<float>();
            _drop[k] = Array.Empty<float>();
            _rh[k] = _resetBefore ? new float[_n * _h] : Array.Empty<float>(); // (N, H) r ⊙ h_prev
            _hState[k] = new float[batch * _h];
            _cState[k] = new float[lstm ? batch * _h : 0];
        }

        _gh1 = new float[batch * _gh];
        _logits = new float[_n * s.Vocab];
        _rowLoss = new double[_n];
        _dGx = new float[_n * _gh];
        _dGh = s.Cell == TrainCell.Gru ? new float[_n * _gh] : _dGx;
        _dH = new float[_n * _h];
        _dX = new float[_n * Math.Max(s.Embedding, _h)];
        _dhNext = new float[batch * _h];
        _dcNext = new float[batch * _h];
        _dRh = _resetBefore ? new float[batch * _h] : Array.Empty<float>();
    }

    public int Batch { get; }

    public int Steps { get; }

    /// <summary>(N,) token ids; a negative id −1−i feeds the image features of sample i (caption task).</summary>
    public int[] Inputs { get; }

    /// <summary>(N,) target ids; −1 means no loss at that row.</summary>
    public int[] Targets { get; }

    /// <summary>(N,) true where the row starts from the zero state.</summary>
    public bool[] Reset { get; }

    /// <summary>(samples, F) image features for negative input ids (caption task).</summary>
    public float[]? Features { get; set; }

    /// <summary>Dropout probability between recurrent layers during training.</summary>
    public float Dropout { get; set; }

    /// <summary>Rows with a target in the last forward pass.</summary>
    public int TargetCount { get; private set; }

    /// <summary>Back to the zero state in every stream.</summary>
    public void ResetState()
    {
        for (int k = 0; k < _hState.Length; k++)
        {
            Array.Clear(_hState[k]);
            Array.Clear(_cState[k]);
        }
    }

    /// <summary>The carried state: per layer h (B·H) then c (B·H, LSTM only).</summary>
    public float[] GetState()
    {
        var all = new List<float>();
        for (int k = 0; k < _hState.Length; k++)
        {
            all.AddRange(_hState[k]);
            all.AddRange(_cState[k]);
        }

        return all.ToArray();
    }

    public void SetState(float[] state)
    {
        int at = 0;
        for (int k = 0; k < _hState.Length; k++)
        {
            if (at + _hState[k].Length + _cState[k].Length > state.Length)
            {
                throw new ArgumentException("The saved state is shorter than this network's state.");
            }

            Array.Copy(state, at, _hState[k], 0, _hState[k].Length);
            at += _hState[k].Length;
            Array.Copy(state, at, _cState[k], 0, _cState[k].Length);
            at += _cState[k].Length;
        }

        if (at != state.Length)
        {
            throw new ArgumentException("The saved state is longer than this network's state.");
        }
    }

    /// <summary>
    /// Forward pass over the window; returns the summed cross-entropy (nats) over rows with a target.
    /// <paramref name="dropoutRng"/> null means evaluation (no dropout).
    /// </summary>
    public double Forward(Rng? dropoutRng)
    {
        NetworkShape s = _net.Shape;
        int e = s.Embedding;
        int v = s.Vocab;
        int bsz = Batch;

        // Embedding lookup (or image projection) into the first layer's input.
        float[] x0 = _x[0];
        float[] emb = _net.Embedding.Value;
        for (int r = 0; r < _n; r++)
        {
            int tok = Inputs[r];
            if (tok >= 0)
            {
                Array.Copy(emb, tok * e, x0, r * e, e);
            }
            else
            {
                ProjectImage(-1 - tok, x0, r * e);
            }
        }

        for (int k = 0; k < s.Layers; k++)
        {
            int inSize = s.LayerInput(k);
            float[] x = _x[k];
            float[] gx = _gx[k];
            float[] bias = _net.b_ih[k].Value;
            float[] wihT = _net.W_ih[k].Transposed!;

            // Gx (N, GH) = X (N, In) · W_ihᵀ + b_ih, for all T steps at once.
            _workers.Run(p =>
            {
                (int r0, int r1) = Workers.Split(_n, _workers.Count, p, 8);
                for (int r = r0; r < r1; r++)
                {
                    Array.Copy(bias, 0, gx, r * _gh, _gh);
                }

                Gemm.Multiply(r1 - r0, inSize, x, r0 * inSize, inSize, 1, wihT, 0, _gh, gx, r0 * _gh, _gh, true, 0, _gh);
            });

            PrepareStep(k, 0); // later steps' h_prev is written by the step before, unit by unit
            for (int t = 0; t < Steps; t++)
            {
                int tt = t;
                int kk = k;
                _workers.Run(p => StepForward(kk, tt, p));
                if (_resetBefore)
                {
                    _workers.Run(p => StepForwardGruCandidate(kk, tt, p));
                }
            }

            // Carry the last step's state to the next window.
            Array.Copy(_hOut[k], (Steps - 1) * bsz * _h, _hState[k], 0, bsz * _h);
            if (s.Cell == TrainCell.Lstm)
            {
                Array.Copy(_c[k], (Steps - 1) * bsz * _h, _cState[k], 0, bsz * _h);
            }

            if (k + 1 < s.Layers)
            {
                ApplyDropout(k, dropoutRng);
            }
        }

        // Head: logits (N, V) = H (N, H) · W_headᵀ + b_head; then softmax cross-entropy per row.
        float[] hLast = _hOut[s.Layers - 1];
        float[] headT = _net.HeadW.Transposed!;
        float[] headB = _net.HeadB.Value;
        _workers.Run(p =>
        {
            (int r0, int r1) = Workers.Split(_n, _workers.Count, p, 8);
            for (int r = r0; r < r1; r++)
            {
                Array.Copy(headB, 0, _logits, r * v, v);
            }

            Gemm.Multiply(r1 - r0, _h, hLast, r0 * _h, _h, 1, headT, 0, v, _logits, r0 * v, v, true, 0, v);
            for (int r = r0; r < r1; r++)
            {
                _rowLoss[r] = SoftmaxLoss(new Span<float>(_logits, r * v, v), Targets[r]);
            }
        });

        double loss = 0;
        int count = 0;
        for (int r = 0; r < _n; r++)
        {
            if (Targets[r] >= 0)
            {
                loss += _rowLoss[r];
                count++;
            }
        }

        TargetCount = count;
        return loss;
    }

    /// <summary>
    /// Backward pass after <see cref="Forward"/>: adds d(loss · <paramref name="scale"/>)/dθ to every parameter's
    /// Grad, where loss is the summed cross-entropy Forward returned.
    /// </summary>
    public void Backward(float scale)
    {
        NetworkShape s = _net.Shape;
        int v = s.Vocab;

        // d loss / d logits = (p − onehot(target)) · scale; rows without a target contribute nothing.
        _workers.Run(p =>
        {
            (int r0, int r1) = Workers.Split(_n, _workers.Count, p, 8);
            for (int r = r0; r < r1; r++)
            {
                Span<float> row = new(_logits, r * v, v);
                int target = Targets[r];
                if (target < 0)
                {
                    row.Clear();
                    continue;
                }

                for (int j = 0; j < v; j++)
                {
                    row[j] *= scale;
                }

                row[target] -= scale;
            }
        });

        float[] hLast = _hOut[s.Layers - 1];
        Parameter headW = _net.HeadW;
        _workers.Run(p =>
        {
            // dW_head (V, H) += dLogitsᵀ · H, split over the H columns.
            (int c0, int c1) = Workers.Split(_h, _workers.Count, p, 16);
            Gemm.Multiply(v, _n, _logits, 0, 1, v, hLast, 0, _h, headW.Grad, 0, _h, true, c0, c1);

            // dH (N, H) = dLogits · W_head, split over rows.
            (int r0, int r1) = Workers.Split(_n, _workers.Count, p, 8);
            Gemm.Multiply(r1 - r0, v, _logits, r0 * v, v, 1, headW.Value, 0, _h, _dH, r0 * _h, _h, false, 0, _h);
        });
        ColumnSums(_logits, _n, v, _net.HeadB.Grad);

        for (int k = s.Layers - 1; k >= 0; k--)
        {
            int inSize = s.LayerInput(k);
            Array.Clear(_dhNext);
            Array.Clear(_dcNext);
            int kk = k;
            _workers.Run(p => StepBackwardCell(kk, Steps - 1, p));
            for (int t = Steps - 2; t >= 0; t--)
            {
                int tt = t;
                if (_resetBefore)
                {
                    _workers.Run(p => StepBackwardGruReset(kk, tt + 1, p));
                    _workers.Run(p => StepBackwardRecurrent(kk, tt + 1, p));
                    _workers.Run(p => StepBackwardCell(kk, tt, p));
                }
                else
                {
                    // Part p owns units [j0, j1): its columns of dh_prev from step t+1 are all that its cell step t reads.
                    _workers.Run(p =>
                    {
                        StepBackwardRecurrent(kk, tt + 1, p);
                        StepBackwardCell(kk, tt, p);
                    });
                }
            }

            if (_resetBefore)
            {
                _workers.Run(p => StepBackwardGruReset(kk, 0, p));
            }

            // No dh_prev for step 0: truncated BPTT stops at the window edge.

            float[] x = _x[k];
            float[] hPrev = _hPrev[k];
            Parameter wih = _net.W_ih[k];
            Parameter whh = _net.W_hh[k];
            _workers.Run(p =>
            {
                // dW_ih (GH, In) += dGxᵀ · X ; dW_hh (GH, H) += dGhᵀ · H_prev — one product over all T steps.
                (int c0, int c1) = Workers.Split(inSize, _workers.Count, p, 16);
                Gemm.Multiply(_gh, _n, _dGx, 0, 1, _gh, x, 0, inSize, wih.Grad, 0, inSize, true, c0, c1);
                (int h0, int h1) = Workers.Split(_h, _workers.Count, p, 16);
                if (_resetBefore)
                {
                    // r, z rows see h_prev; the n rows see r ⊙ h_prev.
                    Gemm.Multiply(2 * _h, _n, _dGh, 0, 1, _gh, hPrev, 0, _h, whh.Grad, 0, _h, true, h0, h1);
                    Gemm.Multiply(_h, _n, _dGh, 2 * _h, 1, _gh, _rh[k], 0, _h, whh.Grad, 2 * _h * _h, _h, true, h0, h1);
                }
                else
                {
                    Gemm.Multiply(_gh, _n, _dGh, 0, 1, _gh, hPrev, 0, _h, whh.Grad, 0, _h, true, h0, h1);
                }

                // dX (N, In) = dGx · W_ih, split over rows.
                (int r0, int r1) = Workers.Split(_n, _workers.Count, p, 8);
                Gemm.Multiply(r1 - r0, _gh, _dGx, r0 * _gh, _gh, 1, wih.Value, 0, inSize, _dX, r0 * inSize, inSize, false, 0, inSize);
            });
            ColumnSums(_dGx, _n, _gh, _net.b_ih[k].Grad);
            ColumnSums(_dGh, _n, _gh, _net.b_hh[k].Grad);

            if (k > 0)
            {
                // Through the dropout between layer k−1 and k.
                float[] drop = _drop[k - 1];
                for (int i = 0; i < _n * _h; i++)
                {
                    _dH[i] = drop.Length == 0 ? _dX[i] : _dX[i] * drop[i];
                }
            }
        }

        // Embedding rows (and the image projection) in row order: a fixed summation order.
        int e = s.Embedding;
        float[] dEmb = _net.Embedding.Grad;
        for (int r = 0; r < _n; r++)
        {
            int tok = Inputs[r];
            if (tok >= 0)
            {
                int at = tok * e;
                for (int j = 0; j < e; j++)
                {
                    dEmb[at + j] += _dX[r * e + j];
                }
            }
            else
            {
                ImageBackward(-1 - tok, r * e);
            }
        }
    }

    private void ProjectImage(int sample, float[] dst, int at)
    {
        Parameter w = _net.ImageW ?? throw new InvalidOperationException("An image input needs a network with an image projection.");
        float[] features = Features ?? throw new InvalidOperationException("An image input needs Window.Features.");
        int f = w.Cols;
        for (int i = 0; i < w.Rows; i++)
        {
            float sum = _net.ImageB!.Value[i];
            for (int j = 0; j < f; j++)
            {
                sum = MathF.FusedMultiplyAdd(w.Value[i * f + j], features[sample * f + j], sum);
            }

            dst[at + i] = sum;
        }
    }

    private void ImageBackward(int sample, int at)
    {
        Parameter w = _net.ImageW!;
        float[] features = Features!;
        int f = w.Cols;
        for (int i = 0; i < w.Rows; i++)
        {
            float d = _dX[at + i];
            _net.ImageB!.Grad[i] += d;
            for (int j = 0; j < f; j++)
            {
                w.Grad[i * f + j] += d * features[sample * f + j];
            }
        }
    }

    // h_prev (and c_prev) of step t: the carried state or the previous step, zero where the row resets.
    private void PrepareStep(int k, int t)
    {
        int bsz = Batch;
        bool lstm = _net.Shape.Cell == TrainCell.Lstm;
        for (int b = 0; b < bsz; b++)
        {
            int row = t * bsz + b;
            Span<float> hp = new(_hPrev[k], row * _h, _h);
            Span<float> cp = lstm ? new(_cPrev[k], row * _h, _h) : default;
            if (Reset[row])
            {
                hp.Clear();
                cp.Clear();
                continue;
            }

            if (t == 0)
            {
                new ReadOnlySpan<float>(_hState[k], b * _h, _h).CopyTo(hp);
                if (lstm)
                {
                    new ReadOnlySpan<float>(_cState[k], b * _h, _h).CopyTo(cp);
                }
            }
            else
            {
                new ReadOnlySpan<float>(_hOut[k], (row - bsz) * _h, _h).CopyTo(hp);
                if (lstm)
                {
                    new ReadOnlySpan<float>(_c[k], (row - bsz) * _h, _h).CopyTo(cp);
                }
            }
        }
    }

    // h_prev (and c_prev) of step t + 1 for units [j0, j1), from step t's output; zero where the row resets.
    private void PrepareNext(int k, int t, int j0, int j1)
    {
        if (t + 1 >= Steps)
        {
            return;
        }

        int bsz = Batch;
        bool lstm = _net.Shape.Cell == TrainCell.Lstm;
        for (int b = 0; b < bsz; b++)
        {
            int row = (t + 1) * bsz + b;
            Span<float> hp = new(_hPrev[k], row * _h + j0, j1 - j0);
            Span<float> cp = lstm ? new(_cPrev[k], row * _h + j0, j1 - j0) : default;
            if (Reset[row])
            {
                hp.Clear();
                cp.Clear();
                continue;
            }

            new ReadOnlySpan<float>(_hOut[k], (row - bsz) * _h + j0, j1 - j0).CopyTo(hp);
            if (lstm)
            {
                new ReadOnlySpan<float>(_c[k], (row - bsz) * _h + j0, j1 - j0).CopyTo(cp);
            }
        }
    }

    // Part p owns hidden units [j0, j1): it computes their columns of every gate block, then the cell.
    private void StepForward(int k, int t, int p)
    {
        int bsz = Batch;
        int h = _h;
        int gh = _gh;
        (int j0, int j1) = Workers.Split(h, _workers.Count, p, 16);
        if (j0 >= j1)
        {
            return;
        }

        float[] whhT = _net.W_hh[k].Transposed!;
        float[] bhh = _net.b_hh[k].Value;
        float[] hPrev = _hPrev[k];
        int gates = _resetBefore ? 2 : _net.Shape.Gates; // reset-before: the n block needs r first
        for (int g = 0; g < gates; g++)
        {
            int c0 = g * h + j0, c1 = g * h + j1;
            for (int b = 0; b < bsz; b++)
            {
                Array.Copy(bhh, c0, _gh1, b * gh + c0, c1 - c0);
            }

            Gemm.Multiply(bsz, h, hPrev, t * bsz * h, h, 1, whhT, 0, gh, _gh1, 0, gh, true, c0, c1);
        }

        float[] gx = _gx[k];
        float[] act = _act[k];
        float[] hOut = _hOut[k];
        switch (_net.Shape.Cell)
        {
            case TrainCell.Lstm:
            {
                float[] cPrev = _cPrev[k], c = _c[k], tanhC = _tanhC[k];
                bool cifg = _net.Shape.Cifg;
                float[]? peep = _net.Peephole[k]?.Value; // (3, H): p_i, p_f, p_o
                int oF = h, oG = cifg ? h : 2 * h, oO = cifg ? 2 * h : 3 * h; // gate blocks: i, f, g, o (CIFG: i, g, o)
                for (int b = 0; b < bsz; b++)
                {
                    int row = t * bsz + b;
                    int gRow = row * gh;
                    int sRow = b * gh;
                    for (int j = j0; j < j1; j++)
                    {
                        float cp = cPrev[row * h + j];
                        float ai = gx[gRow + j] + _gh1[sRow + j];
                        if (peep is not null)
                        {
                            ai += peep[j] * cp;
                        }

                        float i = Sigmoid(ai);
                        float f;
                        if (cifg)
                        {
                            f = 1f - i;
                        }
                        else
                        {
                            float af = gx[gRow + oF + j] + _gh1[sRow + oF + j];
                            if (peep is not null)
                            {
                                af += peep[h + j] * cp;
                            }

                            f = Sigmoid(af);
                            act[gRow + oF + j] = f;
                        }

                        float gg = MathF.Tanh(gx[gRow + oG + j] + _gh1[sRow + oG + j]);
                        float cNew = f * cp + i * gg;
                        float ao = gx[gRow + oO + j] + _gh1[sRow + oO + j];
                        if (peep is not null)
                        {
                            ao += peep[2 * h + j] * cNew;
                        }

                        float o = Sigmoid(ao);
                        act[gRow + j] = i;
                        act[gRow + oG + j] = gg;
                        act[gRow + oO + j] = o;
                        float tc = MathF.Tanh(cNew);
                        c[row * h + j] = cNew;
                        tanhC[row * h + j] = tc;
                        hOut[row * h + j] = o * tc;
                    }
                }

                break;
            }

            case TrainCell.Gru:
            {
                float[] ghN = _ghN[k];
                for (int b = 0; b < bsz; b++)
                {
                    int row = t * bsz + b;
                    int gRow = row * gh;
                    int sRow = b * gh;
                    for (int j = j0; j < j1; j++)
                    {
                        float r = Sigmoid(gx[gRow + j] + _gh1[sRow + j]);
                        float z = Sigmoid(gx[gRow + h + j] + _gh1[sRow + h + j]);
                        if (_resetBefore)
                        {
                            act[gRow + j] = r;
                            act[gRow + h + j] = z;
                            _rh[k][row * h + j] = r * hPrev[row * h + j];
                            continue;
                        }

                        float hn = _gh1[sRow + 2 * h + j];
                        float n = MathF.Tanh(gx[gRow + 2 * h + j] + r * hn);
                        act[gRow + j] = r;
                        act[gRow + h + j] = z;
                        act[gRow + 2 * h + j] = n;
                        ghN[row * h + j] = hn;
                        hOut[row * h + j] = (1f - z) * n + z * hPrev[row * h + j];
                    }
                }

                break;
            }

            default:
            {
                bool relu = _net.Shape.Cell == TrainCell.RnnRelu;
                for (int b = 0; b < bsz; b++)
                {
                    int row = t * bsz + b;
                    for (int j = j0; j < j1; j++)
                    {
                        float a = gx[row * gh + j] + _gh1[b * gh + j];
                        hOut[row * h + j] = relu ? (a > 0f ? a : 0f) : MathF.Tanh(a);
                    }
                }

                break;
            }
        }

        if (!_resetBefore)
        {
            PrepareNext(k, t, j0, j1);
        }
    }

    // Cell backward of step t for units [j0, j1): writes dGx/dGh rows of step t and the elementwise parts of dh_prev, dc_prev.
    private void StepBackwardCell(int k, int t, int p)
    {
        int bsz = Batch;
        int h = _h;
        int gh = _gh;
        (int j0, int j1) = Workers.Split(h, _workers.Count, p, 16);
        float[] act = _act[k];
        float[] hOut = _hOut[k];
        float[] hPrev = _hPrev[k];
        float[]? peep = _net.Peephole[k]?.Value;
        float[]? dPeep = _net.Peephole[k]?.Grad; // unit j is owned by one part: a fixed summation order (t down, b up)
        for (int b = 0; b < bsz; b++)
        {
            int row = t * bsz + b;
            int gRow = row * gh;
            bool reset = Reset[row];
            for (int j = j0; j < j1; j++)
            {
                float dh = _dH[row * h + j] + _dhNext[b * h + j];
                switch (_net.Shape.Cell)
                {
                    case TrainCell.Lstm:
                    {
                        bool cifg = _net.Shape.Cifg;
                        int oF = h, oG = cifg ? h : 2 * h, oO = cifg ? 2 * h : 3 * h;
                        float i = act[gRow + j], g = act[gRow + oG + j], o = act[gRow + oO + j];
                        float f = cifg ? 1f - i : act[gRow + oF + j];
                        float tc = _tanhC[k][row * h + j];
                        float cp = _cPrev[k][row * h + j];
                        float dao = dh * tc * o * (1f - o);
                        float dc = _dcNext[b * h + j] + dh * o * (1f - tc * tc);
                        if (peep is not null)
                        {
                            dc += dao * peep[2 * h + j]; // o saw p_o ⊙ c (new cell)
                        }

                        float dai, daf = 0f;
                        if (cifg)
                        {
                            dai = dc * (g - cp) * i * (1f - i); // c = (1 − i) c_prev + i g
                        }
                        else
                        {
                            dai = dc * g * i * (1f - i);
                            daf = dc * cp * f * (1f - f);
                            _dGx[gRow + oF + j] = daf;
                        }

                        _dGx[gRow + j] = dai;
                        _dGx[gRow + oG + j] = dc * i * (1f - g * g);
                        _dGx[gRow + oO + j] = dao;
                        float dcPrev = dc * f;
                        if (peep is not null)
                        {
                            dcPrev += dai * peep[j] + daf * peep[h + j];
                            dPeep![j] += dai * cp;
                            dPeep[h + j] += daf * cp;
                            dPeep[2 * h + j] += dao * _c[k][row * h + j];
                        }

                        _dcNext[b * h + j] = reset ? 0f : dcPrev;
                        break;
                    }

                    case TrainCell.Gru:
                    {
                        float r = act[gRow + j], z = act[gRow + h + j], n = act[gRow + 2 * h + j];
                        if (_resetBefore)
                        {
                            // r's gradient needs d(r ⊙ h) over all units: StepBackwardGruReset.
                            float danB = dh * (1f - z) * (1f - n * n);
                            float dazB = dh * (hPrev[row * h + j] - n) * z * (1f - z);
                            _dGx[gRow + h + j] = dazB;
                            _dGx[gRow + 2 * h + j] = danB;
                            _dGh[gRow + h + j] = dazB;
                            _dGh[gRow + 2 * h + j] = danB;
                            _dhNext[b * h + j] = dh * z;
                            break;
                        }

                        float hn = _ghN[k][row * h + j];
                        float dan = dh * (1f - z) * (1f - n * n);
                        float dar = dan * hn * r * (1f - r);
                        float daz = dh * (hPrev[row * h + j] - n) * z * (1f - z);
                        _dGx[gRow + j] = dar;
                        _dGx[gRow + h + j] = daz;
                        _dGx[gRow + 2 * h + j] = dan;
                        _dGh[gRow + j] = dar;
                        _dGh[gRow + h + j] = daz;
                        _dGh[gRow + 2 * h + j] = dan * r;
                        _dhNext[b * h + j] = dh * z;
                        break;
                    }

                    case TrainCell.RnnRelu:
                        _dGx[gRow + j] = hOut[row * h + j] > 0f ? dh : 0f;
                        break;

                    default:
                    {
                        float y = hOut[row * h + j];
                        _dGx[gRow + j] = dh * (1f - y * y);
                        break;
                    }
                }
            }
        }
    }

    // GRU reset-before, units [j0, j1): n = tanh(x_n + W_hn (r ⊙ h_prev) + b_hn) once r is known for every unit.
    private void StepForwardGruCandidate(int k, int t, int p)
    {
        int bsz = Batch;
        int h = _h;
        int gh = _gh;
        (int j0, int j1) = Workers.Split(h, _workers.Count, p, 16);
        if (j0 >= j1)
        {
            return;
        }

        float[] bhh = _net.b_hh[k].Value;
        int c0 = 2 * h + j0, c1 = 2 * h + j1;
        for (int b = 0; b < bsz; b++)
        {
            Array.Copy(bhh, c0, _gh1, b * gh + c0, c1 - c0);
        }

        Gemm.Multiply(bsz, h, _rh[k], t * bsz * h, h, 1, _net.W_hh[k].Transposed!, 0, gh, _gh1, 0, gh, true, c0, c1);
        float[] gx = _gx[k], act = _act[k], hOut = _hOut[k], hPrev = _hPrev[k];
        for (int b = 0; b < bsz; b++)
        {
            int row = t * bsz + b;
            int gRow = row * gh;
            for (int j = j0; j < j1; j++)
            {
                float z = act[gRow + h + j];
                float n = MathF.Tanh(gx[gRow + 2 * h + j] + _gh1[b * gh + 2 * h + j]);
                act[gRow + 2 * h + j] = n;
                hOut[row * h + j] = (1f - z) * n + z * hPrev[row * h + j];
            }
        }

        PrepareNext(k, t, j0, j1);
    }

    // GRU reset-before, units [j0, j1): d(r ⊙ h) = dGh_n · W_hn, then r's gradient and the r-path of dh_prev.
    private void StepBackwardGruReset(int k, int t, int p)
    {
        int bsz = Batch;
        int h = _h;
        int gh = _gh;
        (int j0, int j1) = Workers.Split(h, _workers.Count, p, 16);
        if (j0 >= j1)
        {
            return;
        }

        Gemm.Multiply(bsz, h, _dGh, t * bsz * gh + 2 * h, gh, 1, _net.W_hh[k].Value, 2 * h * h, h, _dRh, 0, h, false, j0, j1);
        float[] act = _act[k], hPrev = _hPrev[k];
        for (int b = 0; b < bsz; b++)
        {
            int row = t * bsz + b;
            int gRow = row * gh;
            for (int j = j0; j < j1; j++)
            {
                float r = act[gRow + j];
                float d = _dRh[b * h + j];
                float dar = d * hPrev[row * h + j] * r * (1f - r);
                _dGx[gRow + j] = dar;
                _dGh[gRow + j] = dar;
                _dhNext[b * h + j] += d * r;
            }
        }
    }

    // dh_prev (B, H) (+)= dGh_t (B, GH) · W_hh (GH, H) for columns [j0, j1); zero where the row reset.
    private void StepBackwardRecurrent(int k, int t, int p)
    {
        int bsz = Batch;
        (int j0, int j1) = Workers.Split(_h, _workers.Count, p, 16);
        bool gru = _net.Shape.Cell == TrainCell.Gru;
        int depth = _resetBefore ? 2 * _h : _gh; // reset-before: the n block reached h through r ⊙ h (already added)
        Gemm.Multiply(bsz, depth, _dGh, t * bsz * _gh, _gh, 1, _net.W_hh[k].Value, 0, _h, _dhNext, 0, _h, gru, j0, j1);
        for (int b = 0; b < bsz; b++)
        {
            if (Reset[t * bsz + b])
            {
                new Span<float>(_dhNext, b * _h + j0, j1 - j0).Clear();
            }
        }
    }

    private void ApplyDropout(int k, Rng? rng)
    {
        float[] src = _hOut[k];
        float[] dst = _x[k + 1];
        if (rng is null || Dropout <= 0f)
        {
            Array.Copy(src, dst, _n * _h);
            _drop[k] = Array.Empty<float>();
            return;
        }

        if (_drop[k].Length != _n * _h)
        {
            _drop[k] = new float[_n * _h];
        }

        float keep = 1f - Dropout;
        float scale = 1f / keep;
        float[] mask = _drop[k];
        for (int i = 0; i < mask.Length; i++)
        {
            mask[i] = rng.NextFloat() < keep ? scale : 0f;
            dst[i] = src[i] * mask[i];
        }
    }

    private static void ColumnSums(float[] m, int rows, int cols, float[] acc)
    {
        for (int r = 0; r < rows; r++)
        {
            int at = r * cols;
            for (int j = 0; j < cols; j++)
            {
                acc[j] += m[at + j];
            }
        }
    }

    // In place: logits → probabilities; returns −log p[target] (0 when target < 0).
    private static double SoftmaxLoss(Span<float> z, int target)
    {
        float max = float.NegativeInfinity;
        for (int j = 0; j < z.Length; j++)
        {
            max = MathF.Max(max, z[j]);
        }

        float shifted = target >= 0 ? z[target] - max : 0f;
        float sum = 0f;
        for (int j = 0; j < z.Length; j++)
        {
            float ez = MathF.Exp(z[j] - max);
            z[j] = ez;
            sum += ez;
        }

        double loss = target >= 0 ? Math.Log(sum) - shifted : 0.0;
        float inv = 1f / sum;
        for (int j = 0; j < z.Length; j++)
        {
            z[j] *= inv;
        }

        return loss;
    }

    private static float Sigmoid(float x) => x >= 0f ? 1f / (1f + MathF.Exp(-x)) : MathF.Exp(x) / (1f + MathF.Exp(x));
}
