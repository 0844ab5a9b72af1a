using nietras.SeparatedValues;

namespace RnnEmbedded.Trainer;

/// <summary>One record of a CSV file: the physical line it starts on (1-based) and its cells, unquoted and trimmed.</summary>
public readonly record struct CsvRecord(int Line, string[] Cells);

/// <summary>
/// A CSV syntax error: <see cref="Line"/> (1-based, the line the record starts on) and <see cref="Column"/>
/// (1-based) locate it, <see cref="Rule"/> says what is wrong. The message is "name:line: column N: rule"; a reader
/// of a particular file format rethrows it in its own terms (the column's name, its own exception type).
/// </summary>
public sealed class CsvSyntaxException(string name, int line, int column, string rule)
    : FormatException($"{name}:{line}: column {column}: {rule}")
{
    /// <summary>The 1-based line the record starts on.</summary>
    public int Line { get; } = line;

    /// <summary>The 1-based column of the bad cell.</summary>
    public int Column { get; } = column;

    /// <summary>What is wrong, without the location.</summary>
    public string Rule { get; } = rule;
}

/// <summary>
/// Reads comma-separated text as RFC 4180 records with nietras/Sep (docs/training.md, "Regression", says why Sep):
/// a cell may be quoted (<c>"temp, °C"</c>, <c>"say ""hi"""</c>, a line break inside quotes), lines end in LF, CRLF
/// or CR, a leading UTF-8 byte-order mark is ignored. Spaces around a cell and around a quoted cell's text are
/// trimmed (as the hand-split reader before it trimmed every cell). Blank lines are skipped. The separator is always
/// ',' (never guessed from the first line). The cell count may differ between records; the caller checks it.
/// </summary>
public static class CsvRecords
{
    /// <summary>The records of <paramref name="text"/>; <paramref name="name"/> names it in a <see cref="CsvSyntaxException"/>.</summary>
    public static IEnumerable<CsvRecord> Read(string text, string name)
    {
        // File.ReadAllText drops a byte-order mark; text from elsewhere may still begin with one.
        if (text.StartsWith('\uFEFF'))
        {
            text = text[1..];
        }

        using SepReader reader = Sep.New(',').Reader(o => o with
        {
            HasHeader = false,
            DisableColCountCheck = true,
            Unescape = true,
            Trim = SepTrim.All,
        }).FromText(text);
        while (reader.MoveNext())
        {
            CsvRecord? record = Convert(reader.Current, name);
            if (record is { } r)
            {
                yield return r;
            }
        }
    }

    /// <summary>
    /// <paramref name="cells"/> as one CSV line: a cell holding a comma, a quote, a line break or outer white space is
    /// quoted (<c>sequence,"temp, °C",target</c>), so an error message shows a header as the file could write it.
    /// </summary>
    public static string Format(IEnumerable<string> cells) => string.Join(",", cells.Select(Quote));

    private static string Quote(string cell) =>
        cell.AsSpan().IndexOfAny(",\"\r\n") >= 0 || (cell.Length > 0 && (char.IsWhiteSpace(cell[0]) || char.IsWhiteSpace(cell[^1])))
            ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : cell;

    private static CsvRecord? Convert(SepReader.Row row, string name)
    {
        // Sep toggles its in-quotes state at every '"', so a record holding an odd number of them has a quote that is
        // never closed: Sep then reads to the end of the text as one cell, the record's last. Checked on the raw row,
        // before the cells are unescaped in place.
        // Sep 0.17.1 reports the first row's LineNumberFrom as its LineNumberToExcl (2 for a one-line first row) when
        // HasHeader is false; the first row starts on line 1 whatever it spans (RegressionCsvTests checks every line).
        int line = row.RowIndex == 0 ? 1 : row.LineNumberFrom;
        ReadOnlySpan<char> raw = row.Span;
        if (raw.Count('"') % 2 != 0)
        {
            throw new CsvSyntaxException(name, line, row.ColCount,
                "a quoted cell is not closed: its opening '\"' has no closing '\"' before the end of the file");
        }

        if (row.ColCount == 1 && raw.IsWhiteSpace())
        {
            return null;
        }

        var cells = new string[row.ColCount];
        for (int c = 0; c < cells.Length; c++)
        {
            // Sep trims only ' '; the cells were always trimmed of every white-space character (tabs too).
            cells[c] = row[c].Span.Trim().ToString();
        }

        return new CsvRecord(line, cells);
    }
}
