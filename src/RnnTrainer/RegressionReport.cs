namespace RnnEmbedded.Trainer;

/// <summary>
/// How a regression model did on held-out targets: the mean squared error over every target value (the loss), its
/// root, the mean absolute error, and the targets' own variance — the error of always answering their mean — so
/// that <see cref="RSquared"/> = 1 − MSE / variance says how much of it the model explains.
/// </summary>
public sealed class RegressionReport
{
    private double _sumSquared, _sumAbsolute, _sumTarget, _sumTargetSquared;

    /// <summary>Target values scored (rows with a target × outputs).</summary>
    public long Count { get; private set; }

    /// <summary>Rows (time steps) with a target.</summary>
    public long Rows { get; private set; }

    public double MeanSquaredError => Count == 0 ? double.NaN : _sumSquared / Count;

    public double RootMeanSquaredError => Math.Sqrt(MeanSquaredError);

    public double MeanAbsoluteError => Count == 0 ? double.NaN : _sumAbsolute / Count;

    /// <summary>The variance of the scored targets (population): the MSE of always predicting their mean.</summary>
    public double TargetVariance
    {
        get
        {
            if (Count == 0)
            {
                return double.NaN;
            }

            double mean = _sumTarget / Count;
            return Math.Max(0, _sumTargetSquared / Count - mean * mean);
        }
    }

    /// <summary>1 − MSE / <see cref="TargetVariance"/> (NaN when the targets do not vary).</summary>
    public double RSquared => TargetVariance > 0 ? 1 - MeanSquaredError / TargetVariance : double.NaN;

    /// <summary>Adds every scored row of <paramref name="window"/> (after its forward pass) in row order.</summary>
    public void Add(Window window)
    {
        float[] targets = window.TargetValues ?? throw new InvalidOperationException("A regression report needs Window.TargetValues.");
        for (int r = 0; r < window.Targets.Length; r++)
        {
            int target = window.Targets[r];
            if (target < 0)
            {
                continue;
            }

            ReadOnlySpan<float> y = window.Outputs(r);
            for (int j = 0; j < y.Length; j++)
            {
                double t = targets[target * y.Length + j];
                double d = y[j] - t;
                _sumSquared += d * d;
                _sumAbsolute += Math.Abs(d);
                _sumTarget += t;
                _sumTargetSquared += t * t;
                Count++;
            }

            Rows++;
        }
    }
}
