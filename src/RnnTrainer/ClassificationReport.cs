using System.Globalization;
using System.Text;

namespace RnnEmbedded.Trainer;

/// <summary>
/// How a classifier did on held-out sequences: <see cref="Confusion"/>[true · C + predicted] counts sequences of
/// label <c>true</c> predicted as <c>predicted</c> (the arg-max after the sequence's last token).
/// </summary>
public sealed class ClassificationReport
{
    public ClassificationReport(IReadOnlyList<string> labels, long[] confusion)
    {
        if (confusion.Length != labels.Count * labels.Count)
        {
            throw new ArgumentException($"A confusion matrix over {labels.Count} labels has {labels.Count * labels.Count} cells, not {confusion.Length}.");
        }

        Labels = labels;
        Confusion = confusion;
    }

    public IReadOnlyList<string> Labels { get; }

    /// <summary>(C, C), row = true label, column = predicted label.</summary>
    public long[] Confusion { get; }

    public long Total => Confusion.Sum();

    public long Correct
    {
        get
        {
            long n = 0;
            for (int k = 0; k < Labels.Count; k++)
            {
                n += Confusion[k * Labels.Count + k];
            }

            return n;
        }
    }

    /// <summary>Correct / Total (NaN when nothing was scored).</summary>
    public double Accuracy => Total == 0 ? double.NaN : Correct / (double)Total;

    /// <summary>Counts the arg-max of every scored row of <paramref name="window"/> against its target.</summary>
    public void Add(Window window)
    {
        int c = Labels.Count;
        for (int r = 0; r < window.Targets.Length; r++)
        {
            int target = window.Targets[r];
            if (target < 0)
            {
                continue;
            }

            ReadOnlySpan<float> p = window.Probabilities(r);
            int best = 0;
            for (int k = 1; k < c; k++)
            {
                if (p[k] > p[best])
                {
                    best = k;
                }
            }

            Confusion[target * c + best]++;
        }
    }

    /// <summary>The matrix as text: a header of predicted labels, one row per true label with its recall.</summary>
    public string Format()
    {
        int c = Labels.Count;
        int width = Math.Max(6, Labels.Max(l => l.Length) + 1);
        int cell = Math.Max(width, Confusion.Length == 0 ? 1 : Confusion.Max().ToString(CultureInfo.InvariantCulture).Length + 1);
        var sb = new StringBuilder();
        sb.Append("true \\ predicted".PadRight(width + 11));
        foreach (string l in Labels)
        {
            sb.Append(l.PadLeft(cell));
        }

        sb.Append("   recall\n");
        for (int t = 0; t < c; t++)
        {
            sb.Append(Labels[t].PadRight(width + 11));
            long row = 0;
            for (int p = 0; p < c; p++)
            {
                long n = Confusion[t * c + p];
                row += n;
                sb.Append(n.ToString(CultureInfo.InvariantCulture).PadLeft(cell));
            }

            double recall = row == 0 ? double.NaN : Confusion[t * c + t] / (double)row;
            sb.Append(string.Create(CultureInfo.InvariantCulture, $"   {recall,6:P1}\n"));
        }

        return sb.ToString();
    }
}
