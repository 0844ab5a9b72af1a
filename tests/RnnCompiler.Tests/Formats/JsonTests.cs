using System.Text;
using RnnEmbedded.Compiler.Formats;

namespace RnnEmbedded.Tests.Formats;

public sealed class JsonTests
{
    [Fact]
    public void Parse_ObjectKeepsMemberOrderAndKinds()
    {
        JsonValue v = Json.Parse(" { \"b\" : [1, -2.5e3, \"s\", true, false, null, {}, []], \"a\": {\"x\": \"y\"} } ");

        Assert.Equal(JsonKind.Object, v.Kind);
        Assert.Equal(["b", "a"], v.Members.Select(m => m.Key).ToArray());
        IReadOnlyList<JsonValue> items = v.GetMember("b")!.Items;
        Assert.Equal(
            [JsonKind.Number, JsonKind.Number, JsonKind.String, JsonKind.True, JsonKind.False, JsonKind.Null, JsonKind.Object, JsonKind.Array],
            items.Select(i => i.Kind).ToArray());
        Assert.Equal("-2.5e3", items[1].RawNumber);
        Assert.Equal(-2500.0, items[1].GetDouble());
        Assert.False(items[1].IsIntegerLiteral);
        Assert.True(items[0].TryGetInt64(out long one));
        Assert.Equal(1, one);
        Assert.Equal("y", v.GetMember("a")!.GetMember("x")!.StringValue);
        Assert.Null(v.GetMember("missing"));
    }

    [Fact]
    public void Parse_RejectsDuplicateKeysByDefault()
    {
        JsonParseException e = Assert.Throws<JsonParseException>(() => Json.Parse("{\"a\":1,\"b\":2,\"a\":3}"));
        Assert.Contains("duplicate key \"a\"", e.Message);
        Assert.Equal(13, e.Offset); // the second "a"
    }

    [Fact]
    public void Parse_RejectsDuplicateKeysInNestedObjects()
    {
        Assert.Throws<JsonParseException>(() => Json.Parse("[{\"k\":1},{\"k\":1,\"k\":2}]"));
    }

    [Fact]
    public void Parse_AllowDuplicateKeys_KeepsEveryMemberInOrder()
    {
        JsonValue v = Json.Parse("{\"a\":1,\"a\":2}", allowDuplicateKeys: true);
        Assert.Equal(["1", "2"], v.Members.Select(m => m.Value.RawNumber).ToArray());
        Assert.Equal("1", v.GetMember("a")!.RawNumber);
    }

    [Fact]
    public void Parse_DeepNesting100k_RejectedWithoutStackOverflow()
    {
        string text = new string('[', 100_000) + new string(']', 100_000);
        JsonParseException e = Assert.Throws<JsonParseException>(() => Json.Parse(text));
        Assert.Contains("nesting deeper than 64", e.Message);

        string objects = string.Concat(Enumerable.Repeat("{\"a\":", 100_000));
        Assert.Throws<JsonParseException>(() => Json.Parse(objects));
    }

    [Fact]
    public void Parse_NestingLimitIsExactly64()
    {
        JsonValue v = Json.Parse(new string('[', 64) + new string(']', 64));
        Assert.Equal(JsonKind.Array, v.Kind);
        Assert.Throws<JsonParseException>(() => Json.Parse(new string('[', 65) + new string(']', 65)));
    }

    [Theory]
    [InlineData("\"\\x\"", "invalid escape")]
    [InlineData("\"\\u12\"", "4 hex digits")]
    [InlineData("\"\\u12G4\"", "4 hex digits")]
    [InlineData("\"\\uD800\"", "lone high surrogate")]
    [InlineData("\"\\uD800x\"", "lone high surrogate")]
    [InlineData("\"\\uD800\\u0041\"", "not a low surrogate")]
    [InlineData("\"\\uDC00\"", "lone low surrogate")]
    [InlineData("\"\\", "unterminated string")]
    [InlineData("\"abc", "unterminated string")]
    [InlineData("\"a\u0001b\"", "control character U+0001")]
    [InlineData("\"a\nb\"", "control character U+000A")]
    [InlineData("\"\\'\"", "invalid escape")]
    public void Parse_RejectsBadStrings(string text, string expected)
    {
        JsonParseException e = Assert.Throws<JsonParseException>(() => Json.Parse(text));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Parse_DecodesEveryEscapeAndSurrogatePairs()
    {
        JsonValue v = Json.Parse("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u0041\\u00e9\\uD83D\\uDE00 \\u0000 raw😀é\"");
        Assert.Equal("q\" b\\ s/ \b\f\n\r\t Aé😀 \0 raw😀é", v.StringValue);
    }

    [Theory]
    [InlineData("01")]
    [InlineData("-")]
    [InlineData("1.")]
    [InlineData(".5")]
    [InlineData("1e")]
    [InlineData("1e+")]
    [InlineData("+1")]
    [InlineData("0x10")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-01")]
    public void Parse_RejectsBadNumbers(string text)
    {
        Assert.Throws<JsonParseException>(() => Json.Parse(text));
    }

    [Theory]
    [InlineData("0", 0.0)]
    [InlineData("-0", 0.0)]
    [InlineData("12.5", 12.5)]
    [InlineData("1E2", 100.0)]
    [InlineData("1e-2", 0.01)]
    [InlineData("-1.5E+3", -1500.0)]
    public void Parse_AcceptsValidNumbers(string text, double expected)
    {
        Assert.Equal(expected, Json.Parse(text).GetDouble());
        Assert.Equal(text, Json.Parse(text).RawNumber);
    }

    [Fact]
    public void GetDouble_HugeExponentIsInfinity()
    {
        Assert.Equal(double.PositiveInfinity, Json.Parse("1e400").GetDouble());
        Assert.Equal(double.NegativeInfinity, Json.Parse("-1e400").GetDouble());
    }

    [Theory]
    [InlineData("9223372036854775807", true, long.MaxValue)]
    [InlineData("-9223372036854775808", true, long.MinValue)]
    [InlineData("9223372036854775808", false, 0L)]
    [InlineData("-9223372036854775809", false, 0L)]
    [InlineData("99999999999999999999999", false, 0L)]
    [InlineData("1.0", false, 0L)]
    [InlineData("1e3", false, 0L)]
    [InlineData("-42", true, -42L)]
    public void TryGetInt64_HandlesRangeAndForm(string text, bool ok, long expected)
    {
        Assert.Equal(ok, Json.Parse(text).TryGetInt64(out long value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("[1,]")]
    [InlineData("{\"a\":1,}")]
    [InlineData("[1 2]")]
    [InlineData("{\"a\" 1}")]
    [InlineData("{a:1}")]
    [InlineData("tru")]
    [InlineData("nul")]
    [InlineData("truex")]
    [InlineData("[] x")]
    [InlineData("// c\n[]")]
    [InlineData("[\u00a0]")]
    [InlineData("'a'")]
    public void Parse_RejectsMalformedDocuments(string text)
    {
        Assert.Throws<JsonParseException>(() => Json.Parse(text));
    }

    [Fact]
    public void Parse_AcceptsAllFourWhitespaceCharacters()
    {
        Assert.Equal(2, Json.Parse(" \t\r\n[ 1 ,\t2\n]\r\n ").Items.Count);
    }

    [Fact]
    public void Quote_RoundTripsThroughParse_ForRandomStrings()
    {
        var rng = new Random(11);
        char[] pool = ['a', 'Z', '"', '\\', '/', '\n', '\r', '\t', '\b', '\f', '\0', '\u001f', '\u007f', 'é', '€', '\u2028', '\uFFFF'];
        for (int i = 0; i < 2000; i++)
        {
            var sb = new StringBuilder();
            int length = rng.Next(12);
            for (int k = 0; k < length; k++)
            {
                if (rng.Next(8) == 0)
                {
                    sb.Append("😀");
                }
                else
                {
                    sb.Append(pool[rng.Next(pool.Length)]);
                }
            }

            string s = sb.ToString();
            string quoted = Json.Quote(s);
            Assert.DoesNotContain(quoted, c => c < 0x20);
            Assert.Equal(s, Json.Parse(quoted).StringValue);
        }
    }

    [Fact]
    public void Quote_RejectsLoneSurrogates()
    {
        Assert.Throws<ArgumentException>(() => Json.Quote("a\uD800"));
        Assert.Throws<ArgumentException>(() => Json.Quote("\uDC00b"));
    }

    [Fact]
    public void StringArray_ParsesBackToTheSameTokens()
    {
        string[] tokens = ["<start>", "<stop>", "\"", " ", "\n", "日本"];
        JsonValue v = Json.Parse(Json.StringArray(tokens));
        Assert.Equal(tokens, v.Items.Select(i => i.StringValue).ToArray());
        Assert.Equal("[]", Json.StringArray([]));
    }

    [Fact]
    public void WrongKindAccess_ThrowsInvalidOperation()
    {
        JsonValue v = Json.Parse("[1]");
        Assert.Throws<InvalidOperationException>(() => v.Members);
        Assert.Throws<InvalidOperationException>(() => v.StringValue);
        Assert.Throws<InvalidOperationException>(() => v.Items[0].Items);
    }
}

public sealed class JsonAllocationTests
{
    private readonly Xunit.Abstractions.ITestOutputHelper _log;

    public JsonAllocationTests(Xunit.Abstractions.ITestOutputHelper log) => _log = log;

    [Theory]
    [InlineData("[]", "[", "]")]         // empty arrays: one value per 3 characters
    [InlineData("{}", "[", "]")]
    [InlineData("0", "[", "]")]          // numbers: one value per 2 characters
    [InlineData("\"\"", "[", "]")]       // empty strings
    [InlineData("\"k\":0", "{", "}")]    // (duplicate) keys in one object
    public void Parse_AllocatesLinearlyInInputLength(string unit, string open, string close)
    {
        // Per input character (2 bytes in a .NET string) the parser may spend a constant number of bytes.
        const long BytesPerChar = 64;
        string text = open + string.Join(",", Enumerable.Repeat(unit, 200_000)) + close;

        long before = GC.GetAllocatedBytesForCurrentThread();
        JsonValue value = Json.Parse(text, allowDuplicateKeys: true);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.NotNull(value);
        _log.WriteLine($"{unit}: {text.Length} chars, {allocated} bytes, {(double)allocated / text.Length:F1} bytes/char");
        Assert.True(allocated <= BytesPerChar * text.Length, $"{allocated} bytes for {text.Length} characters");
    }
}
