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
