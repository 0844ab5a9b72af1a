using static RnnEmbedded.Trainer.CellMath;

namespace RnnEmbedded.Trainer;

/// <summary>
/// GRU, reset after the recurrent product (PyTorch's form; gate order r, z, n):
/// r = σ(a_r), z = σ(a_z), n = tanh(x_n + r ⊙ (W_hn h_prev + b_hn)), h = (1 − z) n + z h_prev,
/// where a = W_ih x + b_ih + W_hh h_prev + b_hh and x_n = W_in x + b_in.
/// </summary>
internal readonly struct GruCell : ITrainingCell
{
    public static CellBuffers Buffers => new(Gates: true, CellState: false, HiddenCandidate: true, ResetHidden: false, SeparateHiddenGradient: true);

    public static int BlocksFromHidden => 3;

    public static bool BackwardWritesHiddenGradient => true;

    public static void Forward(LayerBuffers l, int t, int j0, int j1)
    {
        int bsz = l.Batch, h = l.Hidden, gh = l.GateWidth;
        float[] gx = l.Gx, gs = l.StepGates, act = l.Gates, hn = l.HiddenCandidate, hPrev = l.HPrev, hOut = l.HOut;
        for (int b = 0; b < bsz; b++)
        {
            int row = t * bsz + b;
            int gRow = row * gh;
            int sRow = b * gh;
            for (int j = j0; j < j1; j++)
            {
                float r = Sigmoid(gx[gRow + j] + gs[sRow + j]);
                float z = Sigmoid(gx[gRow + h + j] + gs[sRow + h + j]);
                float hnj = gs[sRow + 2 * h + j];
                float n = MathF.Tanh(gx[gRow + 2 * h + j] + r * hnj);
                act[gRow + j] = r;
                act[gRow + h + j] = z;
                act[gRow + 2 * h + j] = n;
                hn[row * h + j] = hnj;
                hOut[row * h + j] = (1f - z) * n + z * hPrev[row * h + j];
            }
        }
    }

    public static void Backward(LayerBuffers l, int t, int j0, int j1)
    {
        int bsz = l.Batch, h = l.Hidden, gh = l.GateWidth;
        float[] act = l.Gates, hn = l.HiddenCandidate, hPrev = l.HPrev, dGx = l.DGx, dGh = l.DGh;
        float[] dH = l.Shared.DH, dhNext = l.Shared.DhNext;
        for (int b = 0; b < bsz; b++)
        {
            int row = t * bsz + b;
            int gRow = row * gh;
            for (int j = j0; j < j1; j++)
            {
                float dh = dH[row * h + j] + dhNext[b * h + j];
                float r = act[gRow + j], z = act[gRow + h + j], n = act[gRow + 2 * h + j];
                float dan = dh * (1f - z) * (1f - n * n);
                float dar = dan * hn[row * h + j] * r * (1f - r);
                float daz = dh * (hPrev[row * h + j] - n) * z * (1f - z);
                dGx[gRow + j] = dar;
                dGx[gRow + h + j] = daz;
                dGx[gRow + 2 * h + j] = dan;
                dGh[gRow + j] = dar;
                dGh[gRow + h + j] = daz;
                dGh[gRow + 2 * h + j] = dan * r;
                dhNext[b * h + j] = dh * z; // the direct path; the recurrent product adds W_hhᵀ dGh
            }
        }
    }
}
