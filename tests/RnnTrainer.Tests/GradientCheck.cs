using RnnEmbedded.Runtime;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

/// <summary>
/// The finite-difference check the trainer's gradient tests share: central differences of a loss against the analytic
/// gradients a backward pass left in every parameter's Grad, on about <c>samplesPerParameter</c> entries of each.
/// </summary>
internal static class GradientCheck
{
    public const float Epsilon = 3e-3f;
    public const double AbsoluteTolerance = 2e-3;
    public const double RelativeTolerance = 2e-2;

    /// <summary>
    /// Gives <paramref name="window"/> a random carried-in state (uniform in ±0.5, so the check covers the state's
    /// gradient path too) and returns the loss the check differentiates: that state restored, then one forward pass
    /// (<paramref name="dropoutSeed"/> fixes the dropout masks so every evaluation sees the same ones).
    /// </summary>
    public static Func<double> LossFromRandomState(Window window, ref Xoshiro128StarStar rng, ulong? dropoutSeed)
    {
        float[] state = window.GetState();
        for (int i = 0; i < state.Length; i++)
        {
            state[i] = 0.5f * (2f * rng.NextSingle() - 1f);
        }

        return () =>
        {
            window.SetState(state);
            return window.Forward(dropoutSeed);
        };
    }

    /// <summary>
    /// Checks <paramref name="net"/>'s gradients (already computed by the caller's backward pass) against
    /// <paramref name="loss"/> (a deterministic forward pass); returns how many entries were checked.
    /// </summary>
    public static int AssertMatchesFiniteDifferences(Network net, Func<double> loss, int samplesPerParameter = 25)
    {
        int checkedCount = 0;
        foreach (Parameter p in net.Parameters)
        {
            float[] analytic = (float[])p.Grad.Clone();
            int stride = Math.Max(1, p.Value.Length / samplesPerParameter);
            for (int i = 0; i < p.Value.Length; i += stride)
            {
                float saved = p.Value[i];
                p.Value[i] = saved + Epsilon;
                net.RefreshTransposed();
                double plus = loss();
                p.Value[i] = saved - Epsilon;
                net.RefreshTransposed();
                double minus = loss();
                p.Value[i] = saved;
                net.RefreshTransposed();
                double numeric = (plus - minus) / (2 * Epsilon);
                double diff = Math.Abs(numeric - analytic[i]);
                Assert.True(
                    diff <= AbsoluteTolerance + RelativeTolerance * Math.Abs(numeric),
                    $"{p.Name}[{i}]: analytic {analytic[i]}, numeric {numeric}");
                checkedCount++;
            }
        }

        return checkedCount;
    }
}
