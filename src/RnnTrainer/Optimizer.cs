namespace RnnEmbedded.Trainer;

/// <summary>Which update rule <see cref="Optimizer"/> applies.</summary>
public enum OptimizerKind
{
    Adam,
    Sgd,
}

/// <summary>
/// Adam (Kingma &amp; Ba 2015, with bias correction, as torch.optim.Adam) or SGD with momentum (as torch.optim.SGD),
/// after global gradient-norm clipping (as torch.nn.utils.clip_grad_norm_). The norm is summed in double in
/// parameter order, so it does not depend on the thread count.
/// </summary>
public sealed class Optimizer
{
    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly Workers _workers;

    public Optimizer(IReadOnlyList<Parameter> parameters, OptimizerKind kind, Workers workers)
    {
        _parameters = parameters;
        _workers = workers;
        Kind = kind;
        First = new float[parameters.Count][];
        Second = new float[parameters.Count][];
        for (int i = 0; i < parameters.Count; i++)
        {
            First[i] = new float[parameters[i].Value.Length];
            Second[i] = kind == OptimizerKind.Adam ? new float[parameters[i].Value.Length] : Array.Empty<float>();
        }
    }

    public OptimizerKind Kind { get; }

    public float Beta1 { get; init; } = 0.9f;

    public float Beta2 { get; init; } = 0.999f;

    public float AdamEpsilon { get; init; } = 1e-8f;

    public float Momentum { get; init; } = 0.9f;

    /// <summary>Maximum global gradient norm; 0 disables clipping.</summary>
    public float Clip { get; init; } = 5f;

    /// <summary>Updates taken so far (Adam's bias correction uses it).</summary>
    public long StepCount { get; set; }

    /// <summary>Adam m / SGD velocity, per parameter.</summary>
    public float[][] First { get; }

    /// <summary>Adam v, per parameter (empty for SGD).</summary>
    public float[][] Second { get; }

    /// <summary>Global L2 norm of the gradients (before clipping).</summary>
    public double GradientNorm()
    {
        double sum = 0;
        foreach (Parameter p in _parameters)
        {
            float[] g = p.Grad;
            double s = 0;
            for (int i = 0; i < g.Length; i++)
            {
                s += (double)g[i] * g[i];
            }

            sum += s;
        }

        return Math.Sqrt(sum);
    }

    /// <summary>Clips, then updates every parameter with learning rate <paramref name="lr"/>; returns the pre-clip norm.</summary>
    public double Step(float lr)
    {
        double norm = GradientNorm();
        float gradScale = Clip > 0 && norm > Clip ? (float)(Clip / (norm + 1e-6)) : 1f;
        StepCount++;
        float bc1 = 1f - MathF.Pow(Beta1, StepCount);
        float bc2 = 1f - MathF.Pow(Beta2, StepCount);
        for (int pi = 0; pi < _parameters.Count; pi++)
        {
            Parameter p = _parameters[pi];
            float[] w = p.Value, g = p.Grad, m = First[pi], v = Second[pi];
            _workers.Run(part =>
            {
                (int i0, int i1) = Workers.Split(w.Length, _workers.Count, part, 16);
                if (Kind == OptimizerKind.Adam)
                {
                    float stepSize = lr / bc1;
                    float sqrtBc2 = MathF.Sqrt(bc2);
                    for (int i = i0; i < i1; i++)
                    {
                        float gi = g[i] * gradScale;
                        m[i] = Beta1 * m[i] + (1f - Beta1) * gi;
                        v[i] = Beta2 * v[i] + (1f - Beta2) * gi * gi;
                        w[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) / sqrtBc2 + AdamEpsilon);
                    }
                }
                else
                {
                    for (int i = i0; i < i1; i++)
                    {
                        float gi = g[i] * gradScale;
                        m[i] = Momentum * m[i] + gi;
                        w[i] -= lr * m[i];
                    }
                }
            });
            p.RefreshTransposed();
        }

        return norm;
    }
}
