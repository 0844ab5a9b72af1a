namespace RnnEmbedded.Cli.Visualize;

/// <summary>A simple property of the text at each character, to correlate cells with (docs/cli.md, rnn visualize).</summary>
public sealed record TextFeature(string Id, string Name, string ShortName, string Description, Func<string[], double[]> Compute);

/// <summary>
/// The features <c>rnn visualize</c> ranks cells by. Each maps the text (one string per Unicode scalar) to one value per
/// character, read as "the state after the model has read this character".
/// </summary>
public static class TextFeatures
{
    public static readonly TextFeature InsideQuotes = new(
        "quotes", "inside double quotes", "quotes",
        "1 from an opening \" (or “) to its closing \" (or ”), both included; 0 elsewhere",
        ComputeInsideQuotes);

    public static readonly TextFeature InsideParentheses = new(
        "parens", "inside parentheses", "parentheses",
        "1 from ( to its matching ), both included, at any depth; a ) without an open ( is outside",
        ComputeInsideParentheses);

    public static readonly TextFeature LinePosition = new(
        "column", "position in the line", "line position",
        "characters since the last newline: 0 for a line's first character; a newline has its line's length",
        ComputeLinePosition);

    public static readonly TextFeature WordStart = new(
        "word_start", "start of a word", "word start",
        "1 on a letter or digit whose previous character is not a letter or digit (or that starts the text)",
        ComputeWordStart);

    public static readonly TextFeature Digit = new(
        "digit", "digits", "digits",
        "1 on the digits 0-9",
        ComputeDigit);

    /// <summary>Every feature, in the order the page lists them.</summary>
    public static IReadOnlyList<TextFeature> All { get; } = [InsideQuotes, InsideParentheses, LinePosition, WordStart, Digit];

    private static double[] ComputeInsideQuotes(string[] text)
    {
        var values = new double[text.Length];
        bool inside = false;
        for (int t = 0; t < text.Length; t++)
        {
            string ch = text[t];
            if (ch == "\"")
            {
                values[t] = 1;      // the opening and the closing quote both count as inside
                inside = !inside;
            }
            else if (ch == "\u201c")
            {
                values[t] = 1;
                inside = true;
            }
            else if (ch == "\u201d")
            {
                values[t] = inside ? 1 : 0;
                inside = false;
            }
            else
            {
                values[t] = inside ? 1 : 0;
            }
        }

        return values;
    }

    private static double[] ComputeInsideParentheses(string[] text)
    {
        var values = new double[text.Length];
        int depth = 0;
        for (int t = 0; t < text.Length; t++)
        {
            string ch = text[t];
            if (ch == "(")
            {
                depth++;
                values[t] = 1;
            }
            else if (ch == ")")
            {
                values[t] = depth > 0 ? 1 : 0;
                depth = Math.Max(0, depth - 1);
            }
            else
            {
                values[t] = depth > 0 ? 1 : 0;
            }
        }

        return values;
    }

    private static double[] ComputeLinePosition(string[] text)
    {
        var values = new double[text.Length];
        int column = 0;
        for (int t = 0; t < text.Length; t++)
        {
            values[t] = column;
            column = text[t] == "\n" ? 0 : column + 1;
        }

        return values;
    }

    private static double[] ComputeWordStart(string[] text)
    {
        var values = new double[text.Length];
        bool previousIsWord = false;
        for (int t = 0; t < text.Length; t++)
        {
            bool isWord = IsLetterOrDigit(text[t]);
            values[t] = isWord && !previousIsWord ? 1 : 0;
            previousIsWord = isWord;
        }

        return values;
    }

    private static double[] ComputeDigit(string[] text)
    {
        var values = new double[text.Length];
        for (int t = 0; t < text.Length; t++)
        {
            values[t] = text[t].Length == 1 && text[t][0] is >= '0' and <= '9' ? 1 : 0;
        }

        return values;
    }

    private static bool IsLetterOrDigit(string ch) =>
        System.Text.Rune.TryGetRuneAt(ch, 0, out System.Text.Rune rune) && System.Text.Rune.IsLetterOrDigit(rune);
}
