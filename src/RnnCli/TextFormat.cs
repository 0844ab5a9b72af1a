using System.Globalization;
using System.Text;

namespace RnnEmbedded.Cli;

/// <summary>Invariant, round-trip formatting shared by the commands.</summary>
public static class TextFormat
{
    /// <summary>Shortest text that parses back to the same float ("R" under the invariant culture).</summary>
    public static string Float(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The vector as space-separated round-trip floats.</summary>
    public static string Vector(float[] values)
    {
        var sb = new StringBuilder(values.Length * 12);
        for (int i = 0; i < values.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(' ');
            }

            sb.Append(Float(values[i]));
        }

        return sb.ToString();
    }

    /// <summary>Escapes control characters (\n, \t, \u0001) so a value prints on one line.</summary>
    public static string Printable(string text)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            string? escape = c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029' => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                _ => null,
            };
            if (escape is null)
            {
                sb?.Append(c);
                continue;
            }

            sb ??= new StringBuilder(text, 0, i, text.Length + 8);
            sb.Append(escape);
        }

        return sb?.ToString() ?? text;
    }

    /// <summary>At most <paramref name="max"/> characters, with a note of the full length when cut.</summary>
    public static string Truncate(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }

        int cut = max;
        if (char.IsHighSurrogate(text[cut - 1]))
        {
            cut--;
        }

        return text.Substring(0, cut) + $"... ({text.Length} chars)";
    }
}
