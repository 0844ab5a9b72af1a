using System.Globalization;
using System.Text;

namespace RnnEmbedded.Trainer;

public sealed partial class Dataset
{
    /// <summary>The sequence-id column used when the header has one and <c>--sequence-column</c> is not given.</summary>
    public const string DefaultSequenceColumn = "sequence";

    /// <summary>
    /// Reads a regression corpus (docs/training.md, "Regression"): a CSV file (RFC 4180, read by
    /// <see cref="CsvRecords"/>: quoted cells, CRLF, a byte-order mark) whose first non-blank line names the
    /// columns; one row per time step; <paramref name="targetColumns"/> (comma-separated names) are the targets, the
    /// sequence-id column (<paramref name="sequenceColumn"/>, or <see cref="DefaultSequenceColumn"/> when the header
    /// has it) groups rows into sequences, every other column is an input. A step whose target cells are all empty
    /// has no target (masked out of the loss). The last <paramref name="validationFraction"/> of the sequences (in
    /// file order) is held out; a file that is one sequence is split by rows instead. Errors name the file, the
    /// line the record starts on, the column and the rule broken.
    /// </summary>
    public static Dataset LoadRegression(string path, string targetColumns, string? sequenceColumn, double validationFraction, int validationLimit)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, new UTF8Encoding(false, true));
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidDataException($"{path}: the corpus is not valid UTF-8 text");
        }

        return RegressionFromText(text, path, targetColumns, sequenceColumn, validationFraction, validationLimit);
    }

    /// <summary><see cref="LoadRegression"/> on text already read; <paramref name="name"/> names it in errors.</summary>
    public static Dataset RegressionFromText(string text, string name, string targetColumns, string? sequenceColumn, double validationFraction,
        int validationLimit)
    {
        if (validationFraction < 0 || validationFraction >= 1)
        {
            throw new ArgumentException($"--val-fraction must be in [0, 1), not {validationFraction.ToString(CultureInfo.InvariantCulture)}");
        }

        // One CSV line, so a header name holding a comma can be named quoted: "temp, °C",total.
        string[] targetNames;
        try
        {
            CsvRecord[] names = CsvRecords.Read(targetColumns, "--target-columns").Take(2).ToArray();
            targetNames = names.Length == 1 ? names[0].Cells : [""];
        }
        catch (CsvSyntaxException)
        {
            throw new ArgumentException($"--target-columns '{targetColumns}' has a '\"' that is not closed; quote a name as \"temp, °C\"");
        }

        if (targetNames.Any(t => t.Length == 0))
        {
            throw new ArgumentException($"--target-columns '{targetColumns}' must be comma-separated column names, none empty");
        }

        if (targetNames.Distinct(StringComparer.Ordinal).Count() != targetNames.Length)
        {
            throw new ArgumentException($"--target-columns '{targetColumns}' names a column twice");
        }

        string[]? header = null;
        int headerLine = 0;
        int[] targetAt = [];
        int[] inputAt = [];
        int sequenceAt = -1;
        var inputValues = new List<float>();
        var targetValues = new List<float>();
        var rowTarget = new List<int>();
        var rowLine = new List<int>();
        var sequenceStarts = new List<int>(); // first row of each sequence
        var seen = new Dictionary<string, int>(StringComparer.Ordinal); // sequence id → its last line
        string? currentId = null;
        try
        {
            foreach (CsvRecord record in CsvRecords.Read(text, name))
            {
                int lineNumber = record.Line;
                string[] cells = record.Cells;
                if (header is null)
                {
                    header = cells;
                    headerLine = lineNumber;
                    (targetAt, inputAt, sequenceAt) = Columns(name, lineNumber, header, targetNames, sequenceColumn);
                    continue;
                }

                if (cells.Length != header.Length)
                {
                    throw new InvalidDataException(
                        $"{name}:{lineNumber}: expected {header.Length} comma-separated cells ({CsvRecords.Format(header)}), found {cells.Length}");
                }

                int row = rowTarget.Count;
                if (sequenceAt >= 0)
                {
                    string id = cells[sequenceAt];
                    if (id.Length == 0)
                    {
                        throw new InvalidDataException($"{name}:{lineNumber}: the sequence id (column '{header[sequenceAt]}') is empty");
                    }

                    if (id != currentId)
                    {
                        if (seen.TryGetValue(id, out int lastLine))
                        {
                            throw new InvalidDataException(
                                $"{name}:{lineNumber}: sequence '{id}' reappears after sequence '{currentId}' (its rows ended at line {lastLine}); "
                                + "the rows of a sequence must be contiguous");
                        }

                        currentId = id;
                        sequenceStarts.Add(row);
                    }

                    seen[id] = lineNumber;
                }
                else if (row == 0)
                {
                    sequenceStarts.Add(0);
                }

                foreach (int c in inputAt)
                {
                    string cell = cells[c];
                    if (cell.Length == 0)
                    {
                        throw new InvalidDataException($"{name}:{lineNumber}: input column '{header[c]}' is empty; every input cell needs a number");
                    }

                    inputValues.Add(Number(name, lineNumber, header[c], cell));
                }

                int filled = targetAt.Count(c => cells[c].Length > 0);
                if (filled == 0)
                {
                    rowTarget.Add(-1);
                }
                else if (filled == targetAt.Length)
                {
                    rowTarget.Add(targetValues.Count / targetAt.Length);
                    foreach (int c in targetAt)
                    {
                        targetValues.Add(Number(name, lineNumber, header[c], cells[c]));
                    }
                }
                else
                {
                    throw new InvalidDataException(
                        $"{name}:{lineNumber}: {filled} of the {targetAt.Length} target cells are filled; a step has a value in every target column or in none");
                }

                rowLine.Add(lineNumber);
            }
        }
        catch (CsvSyntaxException e)
        {
            // Past the header the column has a name: say it, as the other errors do.
            string column = header is not null && e.Column <= header.Length ? $"'{header[e.Column - 1]}'" : e.Column.ToString(CultureInfo.InvariantCulture);
            throw new InvalidDataException($"{name}:{e.Line}: column {column}: {e.Rule}", e);
        }

        if (header is null)
        {
            throw new InvalidDataException($"{name}: the file is empty; a regression corpus starts with a header line naming its columns");
        }

        int rows = rowTarget.Count;
        if (rows == 0)
        {
            throw new InvalidDataException($"{name}: no data rows after the header (line {headerLine})");
        }

        string targetList = string.Join(", ", targetNames.Select(t => $"'{t}'"));
        if (targetValues.Count == 0)
        {
            throw new InvalidDataException(
                $"{name}: no row has a target: the target column(s) {targetList} are empty on all {rows:N0} rows; a regression needs at least one target");
        }

        // The held-out part: the last sequences (file order); a single sequence is split by rows, the held-out rows
        // starting from the zero state.
        var starts = new bool[rows];
        foreach (int s in sequenceStarts)
        {
            starts[s] = true;
        }

        int splitRow;
        if (sequenceStarts.Count >= 2)
        {
            int splitSequence = SplitIndex(sequenceStarts.Count, validationFraction);
            if (splitSequence < 1)
            {
                throw new InvalidDataException($"{name}: {sequenceStarts.Count} sequences leave no training sequence after the validation split");
            }

            splitRow = splitSequence < sequenceStarts.Count ? sequenceStarts[splitSequence] : rows;
        }
        else
        {
            splitRow = rows - (int)(rows * validationFraction);
            if (splitRow < rows)
            {
                starts[splitRow] = true;
            }
        }

        float[] allInputs = inputValues.ToArray();
        float[] allTargets = targetValues.ToArray();
        TokenStream Stream(int from, int to)
        {
            int n = to - from;
            var inputs = new int[n];
            var targets = new int[n];
            var reset = new bool[n];
            for (int i = 0; i < n; i++)
            {
                inputs[i] = from + i;
                targets[i] = rowTarget[from + i];
                reset[i] = starts[from + i];
            }

            return new TokenStream(inputs, targets, reset) { InputValues = allInputs, TargetValues = allTargets };
        }

        TokenStream train = Stream(0, splitRow);
        if (Array.TrueForAll(train.Targets, t => t < 0))
        {
            throw new InvalidDataException(
                $"{name}: the training split (lines {rowLine[0]}–{rowLine[Math.Max(0, splitRow - 1)]}) has no target; targets are only in the held-out part");
        }

        TokenStream validation = Stream(splitRow, rows);
        if (validation.Length > 0 && Array.TrueForAll(validation.Targets, t => t < 0))
        {
            throw new InvalidDataException(
                $"{name}: the validation split (lines {rowLine[splitRow]}–{rowLine[^1]}, the last --val-fraction) has no target to measure the error on");
        }

        if (validationLimit > 0)
        {
            validation = validation.Take(validationLimit);
        }

        return new Dataset(TrainTask.Regress, null, train, validation, 0, false)
        {
            InputColumns = inputAt.Select(c => header[c]).ToArray(),
            TargetColumns = targetNames,
        };
    }

    private static (int[] Targets, int[] Inputs, int Sequence) Columns(string name, int line, string[] header, string[] targetNames, string? sequenceColumn)
    {
        for (int c = 0; c < header.Length; c++)
        {
            if (header[c].Length == 0)
            {
                throw new InvalidDataException($"{name}:{line}: header column {c + 1} has no name; the first line names every column");
            }

            if (Array.IndexOf(header, header[c]) != c)
            {
                throw new InvalidDataException($"{name}:{line}: the header names column '{header[c]}' twice");
            }
        }

        int[] targets = targetNames.Select(t => Array.IndexOf(header, t)).ToArray();
        for (int i = 0; i < targets.Length; i++)
        {
            if (targets[i] < 0)
            {
                throw new InvalidDataException(
                    $"{name}:{line}: the header has no target column '{targetNames[i]}' (--target-columns); its columns are {string.Join(", ", header)}");
            }
        }

        int sequence = Array.IndexOf(header, sequenceColumn ?? DefaultSequenceColumn);
        if (sequenceColumn is not null && sequence < 0)
        {
            throw new InvalidDataException(
                $"{name}:{line}: the header has no sequence column '{sequenceColumn}' (--sequence-column); its columns are {string.Join(", ", header)}");
        }

        if (sequence >= 0 && Array.IndexOf(targets, sequence) >= 0)
        {
            throw new InvalidDataException($"{name}:{line}: column '{header[sequence]}' cannot be both the sequence id and a target");
        }

        int[] inputs = Enumerable.Range(0, header.Length).Where(c => c != sequence && Array.IndexOf(targets, c) < 0).ToArray();
        if (inputs.Length == 0)
        {
            throw new InvalidDataException($"{name}:{line}: no input column: every column is a target or the sequence id");
        }

        return (targets, inputs, sequence);
    }

    private static float Number(string name, int line, string column, string cell)
    {
        if (!float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
        {
            throw new InvalidDataException($"{name}:{line}: column '{column}': '{cell}' is not a finite number");
        }

        return value;
    }
}
