using System.Globalization;
using System.Text;

namespace SceneKit;

/// <summary>
/// The trainer's caption format (docs/training.md, <c>rnn train --task caption</c>): one example per line,
/// <c>f1 f2 … fF&lt;TAB&gt;caption words</c>, features as invariant-culture floats separated by single spaces.
/// </summary>
public static class CaptionDataset
{
    /// <summary>Writes <paramref name="count"/> scenes of <paramref name="generator"/> as lines; returns the captions.</summary>
    public static void Write(TextWriter writer, SceneGenerator generator, int count)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(generator);
        var features = new float[FeatureExtractor.FeatureCount];
        var line = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            Scene scene = generator.Next();
            FeatureExtractor.Extract(SceneRenderer.Render(scene), features);
            line.Clear();
            AppendLine(line, features, scene.Caption);
            writer.Write(line);
        }
    }

    public static void AppendLine(StringBuilder line, ReadOnlySpan<float> features, string caption)
    {
        for (int k = 0; k < features.Length; k++)
        {
            if (k > 0)
            {
                line.Append(' ');
            }

            // "R" round-trips the float exactly, so the trainer sees the very values the app computes.
            line.Append(features[k] == 0 ? "0" : features[k].ToString("R", CultureInfo.InvariantCulture));
        }

        line.Append('\t').Append(caption).Append('\n');
    }

    /// <summary>Parses one line: features, and the caption after a tab (null when there is no tab).</summary>
    public static (float[] Features, string? Caption) ParseLine(string line, string fileName, int lineNumber)
    {
        ArgumentNullException.ThrowIfNull(line);
        int tab = line.IndexOf('\t');
        string numbers = tab < 0 ? line : line[..tab];
        string[] parts = numbers.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var features = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out features[i]) || !float.IsFinite(features[i]))
            {
                throw new FormatException($"{fileName}:{lineNumber}: feature {i + 1} '{parts[i]}' is not a finite number");
            }
        }

        return (features, tab < 0 ? null : line[(tab + 1)..].Trim());
    }
}
