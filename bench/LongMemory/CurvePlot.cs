using System.Globalization;
using System.Text;
using RnnEmbedded.Compiler.Formats;

namespace RnnEmbedded.Bench.LongMemory;

/// <summary>
/// Several runs' held-out error curves in one self-contained SVG (log-scale error against training steps). The
/// curves come from the trainer's checkpoints (tensor <c>train.curve.validation</c>: (points, 2) step, loss;
/// docs/training.md, "Checkpoints").
/// </summary>
internal static class CurvePlot
{
    private const int Width = 760, Height = 440, Left = 70, Right = 160, Top = 40, Bottom = 50;
    private static readonly string[] s_colors = ["#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

    internal sealed record Series(string Label, List<(double Step, double Loss)> Points);

    public static Series ReadValidation(string label, string checkpoint)
    {
        WeightFile file = SafeTensorsReader.ReadFile(checkpoint);
        Tensor curve = file.Tensors.FirstOrDefault(t => t.Name == "train.curve.validation")
            ?? throw new ArgumentException($"{checkpoint}: no tensor 'train.curve.validation' (not a training checkpoint, or no validation yet)");
        var points = new List<(double, double)>();
        for (int i = 0; i + 1 < curve.Data.Length; i += 2)
        {
            points.Add((curve.Data[i], curve.Data[i + 1]));
        }

        return new Series(label, points);
    }

    public static string Render(IReadOnlyList<Series> series, string title, double? baseline)
    {
        double maxStep = Math.Max(1, series.SelectMany(s => s.Points).Max(p => p.Step));
        var losses = series.SelectMany(s => s.Points).Select(p => p.Loss).Where(l => l > 0 && double.IsFinite(l)).ToList();
        if (baseline is double b0)
        {
            losses.Add(b0);
        }

        double lo = Math.Floor(Math.Log10(losses.Count > 0 ? losses.Min() : 1e-3));
        double hi = Math.Ceiling(Math.Log10(losses.Count > 0 ? losses.Max() : 1));
        if (hi - lo < 1)
        {
            hi = lo + 1;
        }

        string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);
        double X(double step) => Left + step / maxStep * (Width - Left - Right);
        double Y(double loss) => Top + (hi - Math.Log10(Math.Max(loss, Math.Pow(10, lo)))) / (hi - lo) * (Height - Top - Bottom);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"22\" font-size=\"14\">{Escape(title)}</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\" stroke=\"black\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\" stroke=\"black\"/>\n");
        for (double e = lo; e <= hi + 1e-9; e++)
        {
            double y = Y(Math.Pow(10, e));
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{F(y)}\" x2=\"{Width - Right}\" y2=\"{F(y)}\" stroke=\"#ddd\"/>\n");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{F(y + 4)}\" text-anchor=\"end\">{Math.Pow(10, e):G3}</text>\n");
        }

        for (int i = 0; i <= 4; i++)
        {
            double step = maxStep * i / 4;
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(X(step))}\" y=\"{Height - Bottom + 16}\" text-anchor=\"middle\">{step:F0}</text>\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{(Width - Right + Left) / 2}\" y=\"{Height - 10}\" text-anchor=\"middle\">training step</text>\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"<text x=\"16\" y=\"{(Height - Bottom + Top) / 2}\" transform=\"rotate(-90 16 {(Height - Bottom + Top) / 2})\" text-anchor=\"middle\">held-out MSE (log scale)</text>\n");
        int legend = Top + 10;
        if (baseline is double b)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"<line x1=\"{Left}\" y1=\"{F(Y(b))}\" x2=\"{Width - Right}\" y2=\"{F(Y(b))}\" stroke=\"#777\" stroke-dasharray=\"6 4\"/>\n");
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Width - Right + 10}\" y1=\"{legend}\" x2=\"{Width - Right + 30}\" y2=\"{legend}\" stroke=\"#777\" stroke-dasharray=\"6 4\"/>\n");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width - Right + 35}\" y=\"{legend + 4}\">target variance</text>\n");
            legend += 20;
        }

        for (int k = 0; k < series.Count; k++)
        {
            string color = s_colors[k % s_colors.Length];
            var line = new StringBuilder();
            foreach ((double step, double loss) in series[k].Points)
            {
                if (double.IsFinite(loss))
                {
                    line.Append(F(X(step))).Append(',').Append(F(Y(loss))).Append(' ');
                }
            }

            sb.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{line.ToString().TrimEnd()}\"/>\n");
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Width - Right + 10}\" y1=\"{legend}\" x2=\"{Width - Right + 30}\" y2=\"{legend}\" stroke=\"{color}\" stroke-width=\"2\"/>\n");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width - Right + 35}\" y=\"{legend + 4}\">{Escape(series[k].Label)}</text>\n");
            legend += 20;
        }

        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
