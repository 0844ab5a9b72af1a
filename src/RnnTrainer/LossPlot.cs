using System.Globalization;
using System.Text;

namespace RnnEmbedded.Trainer;

/// <summary>Writes the loss curve as a small self-contained SVG: training loss (smoothed) and validation loss against steps.</summary>
public static class LossPlot
{
    private const int Width = 720, Height = 400, Left = 60, Right = 20, Top = 30, Bottom = 45;

    public static void Write(string path, LossCurve curve, string unit)
    {
        File.WriteAllText(path, Render(curve, unit));
    }

    public static string Render(LossCurve curve, string unit)
    {
        List<(long Step, double Loss)>[] series = [curve.Training, curve.Validation];
        double maxStep = 1, minLoss = double.PositiveInfinity, maxLoss = double.NegativeInfinity;
        foreach (List<(long Step, double Loss)> points in series)
        {
            foreach ((long step, double loss) in points)
            {
                maxStep = Math.Max(maxStep, step);
                if (double.IsFinite(loss))
                {
                    minLoss = Math.Min(minLoss, loss);
                    maxLoss = Math.Max(maxLoss, loss);
                }
            }
        }

        if (!double.IsFinite(minLoss))
        {
            minLoss = 0;
            maxLoss = 1;
        }

        if (maxLoss - minLoss < 1e-6)
        {
            maxLoss = minLoss + 1;
        }

        string X(double step) => (Left + step / maxStep * (Width - Left - Right)).ToString("F1", CultureInfo.InvariantCulture);
        string Y(double loss) => (Top + (maxLoss - loss) / (maxLoss - minLoss) * (Height - Top - Bottom)).ToString("F1", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\" stroke=\"black\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\" stroke=\"black\"/>\n");
        for (int i = 0; i <= 4; i++)
        {
            double loss = minLoss + (maxLoss - minLoss) * i / 4;
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{Y(loss)}\" text-anchor=\"end\">{loss:F3}</text>\n");
            double step = maxStep * i / 4;
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(step)}\" y=\"{Height - Bottom + 16}\" text-anchor=\"middle\">{step:F0}</text>\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{(Width + Left) / 2}\" y=\"{Height - 8}\" text-anchor=\"middle\">step</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"18\">loss ({unit}): training (blue, smoothed), validation (red)</text>\n");
        for (int k = 0; k < series.Length; k++)
        {
            var line = new StringBuilder();
            foreach ((long step, double loss) in series[k])
            {
                if (double.IsFinite(loss))
                {
                    line.Append(X(step)).Append(',').Append(Y(loss)).Append(' ');
                }
            }

            if (line.Length > 0)
            {
                string color = k == 0 ? "#1f77b4" : "#d62728";
                sb.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"{(k == 0 ? 1.5 : 2.5)}\" points=\"{line.ToString().TrimEnd()}\"/>\n");
            }
        }

        sb.Append("</svg>\n");
        return sb.ToString();
    }
}
