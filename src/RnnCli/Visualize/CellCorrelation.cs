namespace RnnEmbedded.Cli.Visualize;

/// <summary>A cell and its Pearson correlation with a feature.</summary>
public sealed record RankedCell(int Layer, char Kind, int Cell, double R);

/// <summary>Pearson correlation between cells and text features, and the ranking the page shows.</summary>
public static class CellCorrelation
{
    /// <summary>
    /// Pearson's r = Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)² Σ(y−ȳ)²), in double. NaN when either series is constant (the
    /// correlation is undefined) or has fewer than two values.
    /// </summary>
    public static double Pearson(float[] x, double[] y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Length != y.Length)
        {
            throw new ArgumentException($"The series have {x.Length} and {y.Length} values; Pearson's r needs equal lengths.", nameof(y));
        }

        int n = x.Length;
        if (n < 2)
        {
            return double.NaN;
        }

        double meanX = 0;
        double meanY = 0;
        for (int i = 0; i < n; i++)
        {
            meanX += x[i];
            meanY += y[i];
        }

        meanX /= n;
        meanY /= n;
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = x[i] - meanX;
            double dy = y[i] - meanY;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }

        if (sxx == 0 || syy == 0)
        {
            return double.NaN;
        }

        return Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1.0, 1.0);
    }

    /// <summary>True when the feature takes a single value over the steps, so no cell can correlate with it.</summary>
    public static bool IsConstant(double[] feature)
    {
        for (int i = 1; i < feature.Length; i++)
        {
            if (feature[i] != feature[0])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The <paramref name="count"/> cells with the largest |r| with <paramref name="feature"/> (one value per step),
    /// largest first; ties by layer, kind (h before c) and index. Constant cells (r undefined) are left out.
    /// </summary>
    public static List<RankedCell> Rank(IEnumerable<CellSeries> cells, double[] feature, int count)
    {
        var ranked = new List<RankedCell>();
        foreach (CellSeries cell in cells)
        {
            double r = Pearson(cell.Values, feature);
            if (!double.IsNaN(r))
            {
                ranked.Add(new RankedCell(cell.Layer, cell.Kind, cell.Cell, r));
            }
        }

        ranked.Sort(static (a, b) =>
        {
            int order = Math.Abs(b.R).CompareTo(Math.Abs(a.R));
            if (order == 0)
            {
                order = a.Layer.CompareTo(b.Layer);
            }

            if (order == 0)
            {
                order = (a.Kind == 'h' ? 0 : 1).CompareTo(b.Kind == 'h' ? 0 : 1);
            }

            return order != 0 ? order : a.Cell.CompareTo(b.Cell);
        });
        if (ranked.Count > count)
        {
            ranked.RemoveRange(count, ranked.Count - count);
        }

        return ranked;
    }
}
