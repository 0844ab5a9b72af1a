using static RnnEmbedded.Trainer.CellMath;

namespace RnnEmbedded.Trainer;

/// <summary>
/// GRU, reset before the recurrent product (Cho et al. 2014; gate order r, z, n):
/// r = σ(a_r), z = σ(a_z), n = tanh(x_n + W_hn (r ⊙ h_prev) + b_hn), h = (1 − z) n + z h_prev.
/// n needs r ⊙ h_prev of every unit, so each step has two phases: r, z (and r ⊙ h_prev) per unit, then, after a
/// barrier, W_hn (r ⊙ h_prev), n and h. The backward pass mirrors them: z and n first, then r through
/// d(r ⊙ h_prev) = W_hnᵀ dn.
/// </summary>
internal readonly struct GruResetBeforeCell : ITrainingCell
{
    // dGh equals dGx in every block here (r, z: the same pre-activation; n: W_hn sees r ⊙ h_prev, handled below).
    public static CellBuffers Buffers => new(Gates: true, CellState: false, HiddenCandidate: false, ResetHidden: true, SeparateHiddenGradient: false);

    public static int BlocksFromHidden => 2;

    public static bool BackwardWritesHiddenGradient => true;

    public static bool HasSecondPhase => true;

    /// <summary>Phase 1: r, z and r ⊙ h_prev.</summary>
    public static void Forward(LayerBuffers l, int t, int j0, int j1)
    {
        int bsz = l.Batch, h = l.Hidden, gh = l.GateWidth;
        float[] gx = l.Gx, gs = l.StepGates, act = l.Gates, rh = l.ResetHidden, hPrev = l.HPrev;
        for (int b = 0; b < bsz; b++)
        {
            int row = t * bsz + b;
            int gRow = row * gh;
            int sRow = b * gh;
            for (int j = j0; j < j1; j++)
            {
                float r = Sigmoid(gx[gRow + j] + gs[sRow + j]);
                float z = Sigmoid(gx[gRow + h + j] + gs[sRow + h + j]);
                act[gRow + j] = r;
                act[gRow + h + j] = z;
                rh[row * h + j] = r * hPrev[row * h + j];
            }
        }
    }

    /// <summary>Phase 2: W_hn (r ⊙ h_prev) + b_hn for units [j0, j1), then n and h.</summary>
    public static void ForwardSecondPhase(LayerBuffers l, int t, int j0, int j1)
    {
        int bsz = l.Batch, h = l.Hidden, gh = l.GateWidth;
        float[] gx = l.Gx, gs = l.StepGates, act = l.Gates, hOut = l.HOut, hPrev = l.HPrev, bhh = l.b_hh.Value;
        int c0 = 2 * h + j0, c1 = 2 * h + j1;
        for (int b = 0; b < bsz; b++)
        {
            Array.Copy(bhh, c0, gs, b * gh + c0, c1 - c0);
        }

        l.Gemm.Multiply(bsz, h, l.ResetHidden, t * bsz * h, h, 1, l.W_hh.Transposed!, 0, gh, gs, 0, gh, true, c0, c1);
        for (int b = 0; b < bsz; b++)
        {
            int row = t * bsz + b;
            int gRow = row * gh;
            for (int j = j0; j < j1; j++)
            {
                float z = act[gRow + h + j];
                float n = MathF.Tanh(gx[gRow + 2 * h + j] + gs[b * gh + 2 * h + j]);
                act[gRow + 2 * h + j] = n;
                hOut[row * h + j] = (1f - z) * n + z * hPrev[row * h + j];
            }
        }
    }

    /// <summary>Phase 1 backward: the z and n gradients and the direct path z ⊙ dh of dh_prev.</summary>
    public static void Backward(LayerBuffers l, int t, int j0, int j1)
    {
        int bsz = l.Batch, h = l.Hidden, gh = l.GateWidth;
        float[] act = l.Gates, hPrev = l.HPrev, dGx = l.DGx;
        float[] dH = l.Shared.DH, dhNext = l.Shared.DhNext;
        for (int b = 0; b < bsz; b++)
        {
            int row = t * bsz + b;
            int gRow = row * gh;
            for (int j = j0; j < j1; j++)
            {
                float dh = dH[row * h + j] + dhNext[b * h + j];
                float z = act[gRow + h + j], n = act[gRow + 2 * h + j];
                float dan = dh * (1f - z) * (1f - n * n);
                float daz = dh * (hPrev[row * h + j] - n) * z * (1f - z);
                dGx[gRow + h + j] = daz;
                dGx[gRow + 2 * h + j] = dan;
                dhNext[b * h + j] = dh * z;
            }
        }
    }

    /// <summary>Phase 2 backward: d(r ⊙ h_prev) = dn · W_hn for units [j0, j1), then r's gradient and the r path of dh_prev.</summary>
    public static void BackwardSecondPhase(LayerBuffers l, int t, int j0, int j1)
    {
        int bsz = l.Batch, h = l.Hidden, gh = l.GateWidth;
        float[] dRh = l.Shared.DResetHidden;
        l.Gemm.Multiply(bsz, h, l.DGh, t * bsz * gh + 2 * h, gh, 1, l.W_hh.Value, 2 * h * h, h, dRh, 0, h, false, j0, j1);
        float[] act = l.Gates, hPrev = l.HPrev, dGx = l.DGx, dhNext = l.Shared.DhNext;
        for (int b = 0; b < bsz; b++)
        {
            int row = t * bsz + b;
            int gRow = row * gh;
            for (int j = j0; j < j1; j++)
            {
                float r = act[gRow + j];
                float d = dRh[b * h + j];
                dGx[gRow + j] = d * hPrev[row * h + j] * r * (1f - r);
                dhNext[b * h + j] += d * r;
            }
        }
    }

    /// <summary>The r and z rows of dW_hh see h_prev; the n rows see r ⊙ h_prev.</summary>
    public static void AddRecurrentWeightGradient(LayerBuffers l, int h0, int h1)
    {
        int n = l.Batch * l.Steps, h = l.Hidden, gh = l.GateWidth;
        l.Gemm.Multiply(2 * h, n, l.DGh, 0, 1, gh, l.HPrev, 0, h, l.W_hh.Grad, 0, h, true, h0, h1);
        l.Gemm.Multiply(h, n, l.DGh, 2 * h, 1, gh, l.ResetHidden, 0, h, l.W_hh.Grad, 2 * h * h, h, true, h0, h1);
    }
}
