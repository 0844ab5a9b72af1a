namespace RnnEmbedded.Trainer;

/// <summary>The nonlinearity of a plain RNN cell and its derivative in terms of the output.</summary>
internal interface IRnnActivation
{
    static abstract float Apply(float a);

    /// <summary>d loss / d a, given y = Apply(a) and d loss / d y.</summary>
    static abstract float Gradient(float y, float dy);
}

internal readonly struct TanhActivation : IRnnActivation
{
    public static float Apply(float a) => MathF.Tanh(a);

    public static float Gradient(float y, float dy) => dy * (1f - y * y);
}

internal readonly struct ReluActivation : IRnnActivation
{
    public static float Apply(float a) => a > 0f ? a : 0f;

    public static float Gradient(float y, float dy) => y > 0f ? dy : 0f;
}

/// <summary>Plain (Elman) RNN: h = act(W_ih x + b_ih + W_hh h_prev + b_hh), one gate block.</summary>
internal readonly struct RnnCell<TActivation> : ITrainingCell
    where TActivation : struct, IRnnActivation
{
    public static CellBuffers Buffers => new(Gates: false, CellState: false, HiddenCandidate: false, ResetHidden: false, SeparateHiddenGradient: false);

    public static int BlocksFromHidden => 1;

    public static bool BackwardWritesHiddenGradient => false;

    public static void Forward(LayerBuffers l, int t, int j0, int j1)
    {
        int bsz = l.Batch, h = l.Hidden;
        float[] gx = l.Gx, gs = l.StepGates, hOut = l.HOut;
        for (int b = 0; b < bsz; b++)
        {
            int row = t * bsz + b;
            for (int j = j0; j < j1; j++)
            {
                hOut[row * h + j] = TActivation.Apply(gx[row * h + j] + gs[b * h + j]);
            }
        }
    }

    public static void Backward(LayerBuffers l, int t, int j0, int j1)
    {
        int bsz = l.Batch, h = l.Hidden;
        float[] hOut = l.HOut, dGx = l.DGx, dH = l.Shared.DH, dhNext = l.Shared.DhNext;
        for (int b = 0; b < bsz; b++)
        {
            int row = t * bsz + b;
            for (int j = j0; j < j1; j++)
            {
                dGx[row * h + j] = TActivation.Gradient(hOut[row * h + j], dH[row * h + j] + dhNext[b * h + j]);
            }
        }
    }
}
