using System.Text;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

/// <summary>
/// The regress corpus as real-world CSV (RFC 4180, read by <see cref="CsvRecords"/>): quoted header names and cells,
/// escaped quotes, CRLF, a byte-order mark, blank lines, an unclosed quote; and files without quotes read exactly as
/// the hand-split reader before it read them.
/// </summary>
public sealed class RegressionCsvTests : TrainerTestBase
{
    public RegressionCsvTests()
        : base("regress-csv")
    {
    }

    /// <summary>The reader that split lines on ',' by hand, kept here as the oracle for files without quotes.</summary>
    private static List<CsvRecord> HandSplit(string text)
    {
        var records = new List<CsvRecord>();
        int line = 0;
        foreach (string l in text.Split('\n').Select(l => l.TrimEnd('\r')))
        {
            line++;
            if (l.Trim().Length > 0)
            {
                records.Add(new CsvRecord(line, l.Split(',').Select(c => c.Trim()).ToArray()));
            }
        }

        return records;
    }

    private static void AssertSameRecords(List<CsvRecord> expected, List<CsvRecord> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Line, actual[i].Line);
            Assert.Equal(expected[i].Cells, actual[i].Cells);
        }
    }

    private static void AssertSameData(Dataset expected, Dataset actual)
    {
        Assert.Equal(expected.InputColumns, actual.InputColumns);
        Assert.Equal(expected.TargetColumns, actual.TargetColumns);
        foreach ((TokenStream e, TokenStream a) in new[] { (expected.Train, actual.Train), (expected.Validation, actual.Validation) })
        {
            Assert.Equal(e.Inputs, a.Inputs);
            Assert.Equal(e.Targets, a.Targets);
            Assert.Equal(e.Reset, a.Reset);
            Assert.Equal(e.InputValues, a.InputValues);
            Assert.Equal(e.TargetValues, a.TargetValues);
        }
    }

    public static TheoryData<string> UnquotedFiles() => new()
    {
        RegressionTests.DelayCorpus(),
        RegressionTests.DelayCorpus(7, 9).Replace("\n", "\r\n", StringComparison.Ordinal),
        "t1,x,id,y,t2\n1,0.5,a,2,-1\n,0.25,a,3,\n\n2,1e-1,b,4,5\n3,0,c,5,6\n,1,c,6,\n4,2,d,7,8\n4.5,3,d,8,9\n",
        "\n  \nsequence , x,\ttarget\n a ,\t1 , 2\n\n\n b,3,\n",
        "x,target\n" + string.Concat(Enumerable.Range(0, 10).Select(i => $"{i},{i * 2}\n")),
        "sequence,x,target\n1,0.5,1\n1,0.5\n1,2,3,4\n,,\n", // the cell counts differ: the caller checks them
    };

    [Theory]
    [MemberData(nameof(UnquotedFiles))]
    public void Read_FileWithoutQuotes_GivesTheHandSplitRecordsAndLines(string text)
    {
        AssertSameRecords(HandSplit(text), CsvRecords.Read(text, "r.csv").ToList());
    }

    [Fact]
    public void Load_QuotedHeaderNamesWithCommas_AreColumnNames_AndCanBeTargets()
    {
        const string text = "sequence,\"temp, °C\",\"say \"\"hi\"\"\",\"total, kWh\"\na,1,2,3\na,4,5,6\nb,7,8,9\nb,10,11,\n";
        Dataset d = Dataset.RegressionFromText(text, "r.csv", "\"total, kWh\"", null, 0.5, 0);
        Assert.Equal(new[] { "temp, °C", "say \"hi\"" }, d.InputColumns);
        Assert.Equal(new[] { "total, kWh" }, d.TargetColumns);
        Assert.Equal(2, d.Train.Length);
        Assert.Equal(new[] { 3f, 6f, 9f }, d.Train.TargetValues);
        Assert.Equal(new[] { 1f, 2f, 4f, 5f }, d.Train.InputValues!.AsSpan(0, 4).ToArray());

        // A target name holding a comma is one name only when quoted.
        var e = Assert.Throws<InvalidDataException>(() => Dataset.RegressionFromText(text, "r.csv", "total, kWh", null, 0.5, 0));
        Assert.StartsWith("r.csv:1: the header has no target column 'total' (--target-columns)", e.Message);
        var unclosed = Assert.Throws<ArgumentException>(() => Dataset.RegressionFromText(text, "r.csv", "\"total, kWh", null, 0.5, 0));
        Assert.StartsWith("--target-columns '\"total, kWh' has a '\"' that is not closed", unclosed.Message);
    }

    [Fact]
    public void Load_QuotedNumericCells_AreNumbers()
    {
        const string quoted = "\"sequence\",\"x\",\"target\"\n\"a\",\"0.5\",\" 1e-1 \"\n\"a\", \"-2\" ,\"\"\n\"b\",\"3\",\"4\"\n";
        const string plain = "sequence,x,target\na,0.5,1e-1\na,-2,\nb,3,4\n";
        AssertSameData(Dataset.RegressionFromText(plain, "r.csv", "target", null, 0.5, 0),
            Dataset.RegressionFromText(quoted, "r.csv", "target", null, 0.5, 0));
    }

    [Fact]
    public void Load_EscapedQuotesAndCommasInSequenceIds_AreOneId()
    {
        // Ids that differ only inside the quotes are different sequences; the error shows the unescaped id.
        const string text = "sequence,x,target\n\"a \"\"x\"\", 1\",1,1\n\"a \"\"x\"\", 1\",2,2\n\"a \"\"x\"\", 2\",3,3\n\"a \"\"x\"\", 1\",4,4\n";
        var e = Assert.Throws<InvalidDataException>(() => Dataset.RegressionFromText(text, "r.csv", "target", null, 0.2, 0));
        Assert.StartsWith("r.csv:5: sequence 'a \"x\", 1' reappears after sequence 'a \"x\", 2' (its rows ended at line 3)", e.Message);

        Dataset d = Dataset.RegressionFromText(text[..text.LastIndexOf("\"a", StringComparison.Ordinal)], "r.csv", "target", null, 0.5, 0);
        Assert.Equal(new[] { true, false }, d.Train.Reset);
        Assert.Equal(new[] { true }, d.Validation.Reset);
    }

    [Fact]
    public void Load_CrlfCrAndBlankLines_ReadAsLf_WithTheSameLineNumbers()
    {
        string lf = RegressionTests.DelayCorpus(20, 3);
        string crlf = "\r\n" + lf.Replace("\n", "\r\n\r\n", StringComparison.Ordinal);
        string lfBlank = "\n" + lf.Replace("\n", "\n\n", StringComparison.Ordinal);
        AssertSameData(Dataset.RegressionFromText(lf, "r.csv", "target", null, 0.2, 0),
            Dataset.RegressionFromText(crlf, "r.csv", "target", null, 0.2, 0));
        AssertSameData(Dataset.RegressionFromText(lf, "r.csv", "target", null, 0.2, 0),
            Dataset.RegressionFromText(lf.Replace('\n', '\r'), "r.csv", "target", null, 0.2, 0)); // classic Mac OS

        string bad = "sequence,x,target\r\n\r\na,1,1\r\n  \r\na,oops,2\r\n";
        var e = Assert.Throws<InvalidDataException>(() => Dataset.RegressionFromText(bad, "r.csv", "target", null, 0.2, 0));
        Assert.StartsWith("r.csv:5: column 'x': 'oops' is not a finite number", e.Message);
        Assert.Equal(HandSplit(lfBlank).Select(r => r.Line), CsvRecords.Read(crlf, "r.csv").Select(r => r.Line));
    }

    [Fact]
    public void LoadRegression_FileWithByteOrderMark_ReadsTheFirstHeaderName()
    {
        // Excel's "CSV UTF-8" starts with EF BB BF; the first column must still be 'sequence', not '\uFEFFsequence'.
        string text = "sequence,x,target\r\na,1,1\r\na,2,2\r\nb,3,3\r\n";
        string path = Path.Combine(Dir, "bom.csv");
        File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal(0xEF, File.ReadAllBytes(path)[0]);
        Dataset fromFile = Dataset.LoadRegression(path, "target", null, 0.5, 0);
        Assert.Equal(new[] { "x" }, fromFile.InputColumns);
        Assert.Equal(new[] { true, false }, fromFile.Train.Reset); // 'sequence' was found: two sequences

        Dataset fromText = Dataset.RegressionFromText("\uFEFF" + text, "r.csv", "target", null, 0.5, 0);
        AssertSameData(fromFile, fromText);
    }

    [Fact]
    public void Load_QuotedCellSpanningLines_NamesTheLineTheRecordStartsOn()
    {
        // A quoted id may hold a line break; the next record's line is the physical line it starts on.
        const string text = "sequence,x,target\n\"a\nb\",1,1\n\"a\nb\",2,\nc,x3,3\n";
        var e = Assert.Throws<InvalidDataException>(() => Dataset.RegressionFromText(text, "r.csv", "target", null, 0.2, 0));
        Assert.StartsWith("r.csv:6: column 'x': 'x3' is not a finite number", e.Message);
        Assert.Equal(new[] { 1, 2, 4, 6 }, CsvRecords.Read(text, "r.csv").Select(r => r.Line));
    }

    [Theory]
    [InlineData("sequence,x,target\na,1,1\na,\"2,2\nb,3,3\n", "r.csv:3: column 'x': a quoted cell is not closed: its opening '\"' has no closing '\"' before the end of the file")]
    [InlineData("sequence,x,target\na,1,1\na,2,\"2\n", "r.csv:3: column 'target': a quoted cell is not closed")]
    [InlineData("sequence,\"x,target\na,1,1\n", "r.csv:1: column 2: a quoted cell is not closed")]
    public void Load_UnclosedQuote_NamesTheFileLineAndColumn(string text, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => Dataset.RegressionFromText(text, "r.csv", "target", null, 0.2, 0));
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void Load_CellCountError_ShowsAQuotedHeaderAsCsv()
    {
        const string text = "sequence,\"temp, °C\",target\na,1\n";
        var e = Assert.Throws<InvalidDataException>(() => Dataset.RegressionFromText(text, "r.csv", "target", null, 0.2, 0));
        Assert.StartsWith("r.csv:2: expected 3 comma-separated cells (sequence,\"temp, °C\",target), found 2", e.Message);
    }

    [Fact]
    public void Load_SemicolonSeparatedFile_IsNotGuessed()
    {
        // The separator is always ',': a ';' file is one column per line, so the header has no 'target' column.
        const string text = "sequence;x;target\na;1;1\n";
        var e = Assert.Throws<InvalidDataException>(() => Dataset.RegressionFromText(text, "r.csv", "target", null, 0.2, 0));
        Assert.StartsWith("r.csv:1: the header has no target column 'target' (--target-columns); its columns are sequence;x;target", e.Message);
    }
}
