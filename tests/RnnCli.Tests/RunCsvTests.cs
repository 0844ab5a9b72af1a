using System.Text;
using RnnEmbedded.Cli;
using RnnEmbedded.Cli.Commands;
using static RnnEmbedded.Tests.Tool.CliHarness;

namespace RnnEmbedded.Tests.Tool;

/// <summary>
/// <c>rnn run --inputs</c> on CSV as spreadsheets and pandas write it (RFC 4180): quoted cells, CRLF, a byte-order
/// mark, blank lines, a quoted cell over two lines; and an unclosed quote named by file, line and column.
/// </summary>
public sealed class RunCsvTests
{
    private const string DenseFixture = "gru_dense"; // 5 features per step

    private static string Csv(IEnumerable<float[]> rows, Func<string, string> cell, string newline) =>
        string.Concat(rows.Select(row => string.Join(",", row.Select(v => cell(TextFormat.Float(v)))) + newline));

    private static string TempBytes(byte[] content)
    {
        string path = TempFile("");
        File.WriteAllBytes(path, content);
        return path;
    }

    [Fact]
    public void Run_QuotedCrlfBomCsv_PrintsWhatThePlainCsvPrints()
    {
        List<float[]> dense = ExpectedFixture.Load(DenseFixture).Dense;
        string plain = TempFile(Csv(dense, c => c, "\n"));
        byte[] bom = Encoding.UTF8.GetPreamble();
        string excel = TempBytes([.. bom, .. Encoding.UTF8.GetBytes("\r\n  \r\n" + Csv(dense, c => $" \"{c}\" ", "\r\n\r\n"))]);
        try
        {
            CliResult expected = Run("run", FixturePath(DenseFixture), "--inputs", plain);
            CliResult actual = Run("run", FixturePath(DenseFixture), "--inputs", excel);

            Assert.Equal(0, expected.ExitCode);
            Assert.Equal(dense.Count, ParseVectors(expected.Output).Length);
            Assert.Equal("", actual.Error);
            Assert.Equal(0, actual.ExitCode);
            Assert.Equal(expected.Output, actual.Output);
            Assert.Equal(dense.ToArray(), RunCommand.ReadCsv(excel, 5, "inputs"));
        }
        finally
        {
            File.Delete(plain);
            File.Delete(excel);
        }
    }

    [Theory]
    [InlineData("1,2,3,4,5\n1,2,\"3,4,5\n6,7,8,9,10\n",
        "line 2 column 3: a quoted cell is not closed: its opening '\"' has no closing '\"' before the end of the file")]
    [InlineData("\"1,2,3,4,5\n", "line 1 column 1: a quoted cell is not closed")]
    [InlineData("\"1\n\",2,3,4,5\n1,2,x,4,5\n", "line 3 column 3: 'x' is not a finite number")]
    [InlineData("1,2,3,4,5\r\n\r\n1,\"2,3\",4,5\r\n", "line 3: expected 5 comma-separated values, got 4")]
    [InlineData("1,2,3,4,\"5\"\"\"\n", "line 1 column 5: '5\"' is not a finite number")]
    public void Run_BadQuotedCsv_Exit1NamingLineAndColumn(string content, string expected)
    {
        string csv = TempFile(content);
        try
        {
            CliResult r = Run("run", FixturePath(DenseFixture), "--inputs", csv);

            Assert.Equal(1, r.ExitCode);
            Assert.Equal("", r.Output);
            Assert.StartsWith($"error: {csv} {expected}", r.Error);
        }
        finally
        {
            File.Delete(csv);
        }
    }
}
