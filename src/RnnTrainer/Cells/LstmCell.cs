using static RnnEmbedded.Trainer.CellMath;

namespace RnnEmbedded.Trainer;

/// <summary>Which LSTM variant <see cref="LstmCell{TVariant}"/> computes (compile-time constants).</summary>
internal interface ILstmVariant
{
    /// <summary>Peepholes (ONNX rule): i and f see p ⊙ c_prev, o sees p ⊙ c.</summary>
    static abstract bool Peephole { get; }

    /// <summary>Coupled input-forget gate: f = 1 − i, no f block.</summary>
    static abstract bool Cifg { get; }
}

internal readonly struct LstmPlain : ILstmVariant
{
    public static bool Peephole => false;

    public static bool Cifg => false;
}

internal readonly struct LstmPeephole : ILstmVariant
{
    public static bool Peephole => true;

    public static bool Cifg => false;
}

internal readonly struct LstmCoupled : ILstmVariant
{
    public static bool Peephole => false;

    public static bool Cifg => true;
}

internal readonly struct LstmCoupledPeephole : ILstmVariant
{
    public static bool Peephole => true;

    public static bool Cifg => true;
}

/// <summary>
/// LSTM (PyTorch gate order i, f, g, o; CIFG: i, g, o), the math of docs/model-format.md ("Math"):
/// i = σ(a_i [+ p_i c_prev]), f = σ(a_f [+ p_f c_prev]) or 1 − i, g = tanh(a_g), c = f c_prev + i g,
/// o = σ(a_o [+ p_o c]), h = o tanh(c), where a = W_ih x + b_ih + W_hh h_prev + b_hh.
/// </summary>
internal readonly struct LstmCell<TVariant> : ITrainingCell
    where TVariant : struct, ILstmVariant
{
    public static CellBuffers Buffers => new(Gates: true, CellState: true, HiddenCandidate: false, ResetHidden: false, SeparateHiddenGradient: false);

    public static int BlocksFromHidden => TVariant.Cifg ? 3 : 4;

    public static bool BackwardWritesHiddenGradient => false;

    public static void Forward(LayerBuffers l, int t, int j0, int j1)
    {
        int bsz = l.Batch, h = l.Hidden, gh = l.GateWidth;
        float[] gx = l.Gx, gs = l.StepGates, act = l.Gates, cPrev = l.CPrev, c = l.C, tanhC = l.TanhC, hOut = l.HOut;
        float[] peep = TVariant.Peephole ? l.Peephole!.Value : []; // (3, H): p_i, p_f, p_o
        int oF = h, oG = TVariant.Cifg ? h : 2 * h, oO = TVariant.Cifg ? 2 * h : 3 * h; // gate block offsets
        for (int b = 0; b < bsz; b++)
        {
            int row = t * bsz + b;
            int gRow = row * gh;
            int sRow = b * gh;
            for (int j = j0; j < j1; j++)
            {
                float cp = cPrev[row * h + j];
                float ai = gx[gRow + j] + gs[sRow + j];
                if (TVariant.Peephole)
                {
                    ai += peep[j] * cp;
                }

                float i = Sigmoid(ai);
                float f;
                if (TVariant.Cifg)
                {
                    f = 1f - i;
                }
                else
                {
                    float af = gx[gRow + oF + j] + gs[sRow + oF + j];
                    if (TVariant.Peephole)
                    {
                        af += peep[h + j] * cp;
                    }

                    f = Sigmoid(af);
                    act[gRow + oF + j] = f;
                }

                float g = MathF.Tanh(gx[gRow + oG + j] + gs[sRow + oG + j]);
                float cNew = f * cp + i * g;
                float ao = gx[gRow + oO + j] + gs[sRow + oO + j];
                if (TVariant.Peephole)
                {
                    ao += peep[2 * h + j] * cNew;
                }

                float o = Sigmoid(ao);
                act[gRow + j] = i;
                act[gRow + oG + j] = g;
                act[gRow + oO + j] = o;
                float tc = MathF.Tanh(cNew);
                c[row * h + j] = cNew;
                tanhC[row * h + j] = tc;
                hOut[row * h + j] = o * tc;
            }
        }
    }

    public static void Backward(LayerBuffers l, int t, int j0, int j1)
    {
        int bsz = l.Batch, h = l.Hidden, gh = l.GateWidth;
        float[] act = l.Gates, cPrev = l.CPrev, c = l.C, tanhC = l.TanhC, dGx = l.DGx;
        float[] dH = l.Shared.DH, dhNext = l.Shared.DhNext, dcNext = l.Shared.DcNext;
        bool[] reset = l.Reset;
        float[] peep = TVariant.Peephole ? l.Peephole!.Value : [];
        float[] dPeep = TVariant.Peephole ? l.Peephole!.Grad : []; // unit j is owned by one part: a fixed summation order (t down, b up)
        int oF = h, oG = TVariant.Cifg ? h : 2 * h, oO = TVariant.Cifg ? 2 * h : 3 * h;
        for (int b = 0; b < bsz; b++)
        {
            int row = t * bsz + b;
            int gRow = row * gh;
            for (int j = j0; j < j1; j++)
            {
                float dh = dH[row * h + j] + dhNext[b * h + j];
                float i = act[gRow + j], g = act[gRow + oG + j], o = act[gRow + oO + j];
                float f = TVariant.Cifg ? 1f - i : act[gRow + oF + j];
                float tc = tanhC[row * h + j];
                float cp = cPrev[row * h + j];
                float dao = dh * tc * o * (1f - o);
                float dc = dcNext[b * h + j] + dh * o * (1f - tc * tc);
                if (TVariant.Peephole)
                {
                    dc += dao * peep[2 * h + j]; // o saw p_o ⊙ c (the new cell)
                }

                float dai, daf = 0f;
                if (TVariant.Cifg)
                {
                    dai = dc * (g - cp) * i * (1f - i); // c = (1 − i) c_prev + i g
                }
                else
                {
                    dai = dc * g * i * (1f - i);
                    daf = dc * cp * f * (1f - f);
                    dGx[gRow + oF + j] = daf;
                }

                dGx[gRow + j] = dai;
                dGx[gRow + oG + j] = dc * i * (1f - g * g);
                dGx[gRow + oO + j] = dao;
                float dcPrev = dc * f;
                if (TVariant.Peephole)
                {
                    dcPrev += dai * peep[j] + daf * peep[h + j]; // CIFG: daf = 0 and p_f stays zero
                    dPeep[j] += dai * cp;
                    dPeep[h + j] += daf * cp;
                    dPeep[2 * h + j] += dao * c[row * h + j];
                }

                dcNext[b * h + j] = reset[row] ? 0f : dcPrev;
            }
        }
    }
}
