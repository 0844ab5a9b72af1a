using System.Text;
using RnnEmbedded.Compiler.Formats;
using static RnnEmbedded.Tests.Formats.SafeTensorsBytes;

namespace RnnEmbedded.Tests.Formats;

/// <summary>One crafted file per rule of the reference implementation (and our extra rules).</summary>
public sealed class SafeTensorsRuleTests
{
    private static readonly byte[] s_twoFloats = F32(1f, 2f);

    private static string One(string dtype = "F32", string shape = "[2]", long begin = 0, long end = 8) =>
        "{" + Entry("w", dtype, shape, begin, end) + "}";

    [Fact]
    public void Read_ValidBaseline_Loads()
    {
        Tensor t = Assert.Single(SafeTensorsReader.Read(Build(One(), s_twoFloats), "t").Tensors);
        Assert.Equal([1f, 2f], t.Data);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void Read_RejectsFileShorterThanHeaderLengthField(int length)
    {
        RnnFormatException e = ReadFails(new byte[length]);
        Assert.Contains("8-byte header length", e.Message);
        Assert.Null(e.TensorName);
        Assert.Equal("t.safetensors", e.FileName);
    }

    [Theory]
    [InlineData(100_000_001UL)]
    [InlineData(1UL << 40)]
    [InlineData(1UL << 63)]
    [InlineData(ulong.MaxValue)]
    public void Read_RejectsHeaderLengthAboveMaximum(ulong n)
    {
        byte[] bytes = Build(One(), s_twoFloats);
        BitConverter.GetBytes(n).CopyTo(bytes, 0);

        RnnFormatException e = ReadFails(bytes);

        Assert.Contains($"header length {n} exceeds the maximum of 100000000", e.Message);
    }

    [Theory]
    [InlineData(100_000_000UL)]
    [InlineData(1000UL)]
    public void Read_RejectsHeaderLengthBeyondFile(ulong n)
    {
        byte[] bytes = Build(One(), s_twoFloats);
        BitConverter.GetBytes(n).CopyTo(bytes, 0);

        RnnFormatException e = ReadFails(bytes);

        Assert.Contains("exceeds the file length", e.Message);
    }

    [Fact]
    public void Read_RejectsHeaderLengthOneByteBeyondFile()
    {
        byte[] bytes = Build(One(), s_twoFloats);
        BitConverter.GetBytes((ulong)(bytes.Length - 7)).CopyTo(bytes, 0);

        RnnFormatException e = ReadFails(bytes);

        Assert.Contains($"header length {bytes.Length - 7} + 8 exceeds the file length {bytes.Length}", e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]              // never valid in UTF-8
    [InlineData(new byte[] { 0xC0, 0x80 })]        // overlong NUL
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]  // encoded surrogate U+D800
    [InlineData(new byte[] { 0xE2, 0x82 })]        // truncated sequence
    public void Read_RejectsNonUtf8Header(byte[] bad)
    {
        byte[] header = Encoding.UTF8.GetBytes("{\"__metadata__\":{\"k\":\"");
        header = [.. header, .. bad, .. Encoding.UTF8.GetBytes("\"}}")];

        RnnFormatException e = ReadFails(BuildRaw(header));

        Assert.Contains("not valid UTF-8", e.Message);
    }

    [Theory]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],}}")]   // trailing comma
    [InlineData("{'w':1}")]                                                           // single quotes
    [InlineData("{\"w\":{\"dtype\":\"F32\"")]                                          // truncated
    [InlineData("{} {}")]                                                             // two values
    [InlineData("{\"a\":NaN}")]
    [InlineData("{\"a\":01}")]
    [InlineData("{\"a\":\"x\ty\"}")]                                                  // raw control character
    public void Read_RejectsInvalidJson(string header)
    {
        RnnFormatException e = ReadFails(Build(header, s_twoFloats));
        Assert.Contains("header is not valid JSON", e.Message);
        Assert.Contains("header offset", e.Message);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"x\"")]
    [InlineData("42")]
    [InlineData(" {}")]
    [InlineData("\uFEFF{}")]
    public void Read_RejectsHeaderThatIsNotAnObject(string header)
    {
        RnnFormatException e = ReadFails(Build(header, pad: false));
        Assert.Contains("expected a JSON object", e.Message);
    }

    [Fact]
    public void Read_RejectsEmptyHeader()
    {
        RnnFormatException e = ReadFails(new byte[8]);
        Assert.Contains("header is empty", e.Message);
    }

    [Theory]
    [InlineData("[]", "is an array")]
    [InlineData("null", "is null")]
    [InlineData("\"k=v\"", "is a string")]
    public void Read_RejectsMetadataThatIsNotAnObject(string metadata, string described)
    {
        RnnFormatException e = ReadFails(Build("{\"__metadata__\":" + metadata + "}"));
        Assert.Contains($"'__metadata__' {described}; expected an object of string values", e.Message);
    }

    [Theory]
    [InlineData("1", "the number 1")]
    [InlineData("null", "null")]
    [InlineData("true", "true")]
    [InlineData("{}", "an object")]
    [InlineData("[\"a\"]", "an array")]
    public void Read_RejectsNonStringMetadataValue(string value, string described)
    {
        RnnFormatException e = ReadFails(Build("{\"__metadata__\":{\"ok\":\"x\",\"bad\":" + value + "}}"));
        Assert.Contains($"value for key \"bad\" is {described}; metadata values must be strings", e.Message);
    }

    [Theory]
    [InlineData("F64", 8)]
    [InlineData("I64", 8)]
    [InlineData("BOOL", 1)]
    [InlineData("U8", 1)]
    [InlineData("I32", 4)]
    [InlineData("F8_E4M3", 1)]
    public void Read_RejectsKnownButUnsupportedDType(string dtype, int size)
    {
        RnnFormatException e = ReadFails(Build(One(dtype, "[2]", 0, 2 * size), new byte[2 * size]));

        Assert.Equal("w", e.TensorName);
        Assert.Contains($"dtype {dtype} is not supported; convert to F32, F16 or BF16", e.Message);
    }

    [Theory]
    [InlineData("F33")]
    [InlineData("f32")]
    [InlineData("")]
    [InlineData("FLOAT")]
    public void Read_RejectsUnknownDType(string dtype)
    {
        RnnFormatException e = ReadFails(Build(One(dtype), s_twoFloats));

        Assert.Equal("w", e.TensorName);
        Assert.Contains($"unknown dtype \"{dtype}\"", e.Message);
    }

    [Fact]
    public void Read_RejectsDTypeThatIsNotAString()
    {
        string header = "{\"w\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}";
        RnnFormatException e = ReadFails(Build(header, s_twoFloats));
        Assert.Contains("dtype is the number 32", e.Message);
    }

    [Theory]
    [InlineData("[-1]", "shape entry 0 is the number -1")]
    [InlineData("[2, -0]", "shape entry 1 is the number -0")]
    [InlineData("[1.5]", "shape entry 0 is the number 1.5")]
    [InlineData("[2.0]", "shape entry 0 is the number 2.0")]
    [InlineData("[2e0]", "shape entry 0 is the number 2e0")]
    [InlineData("[\"2\"]", "shape entry 0 is a string")]
    [InlineData("[null]", "shape entry 0 is null")]
    [InlineData("[99999999999999999999]", "shape entry 0 is the number 99999999999999999999")]
    public void Read_RejectsShapeEntriesThatAreNotNonNegativeIntegers(string shape, string expected)
    {
        RnnFormatException e = ReadFails(Build(One("F32", shape), s_twoFloats));

        Assert.Equal("w", e.TensorName);
        Assert.Contains(expected, e.Message);
        Assert.Contains("shape entries must be non-negative integers", e.Message);
    }

    [Theory]
    [InlineData("2")]
    [InlineData("{}")]
    [InlineData("null")]
    public void Read_RejectsShapeThatIsNotAnArray(string shape)
    {
        RnnFormatException e = ReadFails(Build(One("F32", shape), s_twoFloats));
        Assert.Contains("expected an array of non-negative integers", e.Message);
    }

    [Theory]
    [InlineData("F32", "[4294967296, 4294967296]")]                  // elements overflow u64
    [InlineData("F32", "[4611686018427387904, 4]")]                  // bytes overflow u64
    [InlineData("F32", "[9223372036854775807, 4]")]
    [InlineData("F16", "[4294967296, 2147483648, 2, 1]")]
    public void Read_RejectsShapeTimesDTypeThatOverflows(string dtype, string shape)
    {
        RnnFormatException e = ReadFails(Build(One(dtype, shape), s_twoFloats));

        Assert.Equal("w", e.TensorName);
        Assert.Contains("overflows 64 bits", e.Message);
    }

    [Theory]
    [InlineData("[0]", "an array of 1 items")]
    [InlineData("[0, 8, 16]", "an array of 3 items")]
    [InlineData("8", "the number 8")]
    [InlineData("{\"begin\":0}", "an object")]
    public void Read_RejectsDataOffsetsThatAreNotTwoItems(string offsets, string described)
    {
        string header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":" + offsets + "}}";
        RnnFormatException e = ReadFails(Build(header, s_twoFloats));

        Assert.Equal("w", e.TensorName);
        Assert.Contains($"data_offsets is {described}; expected [begin, end]", e.Message);
    }

    [Theory]
    [InlineData("[-8, 0]", "begin is the number -8")]
    [InlineData("[0, 8.0]", "end is the number 8.0")]
    [InlineData("[0, \"8\"]", "end is a string")]
    [InlineData("[0, 1e1]", "end is the number 1e1")]
    [InlineData("[0, 18446744073709551616]", "end is the number 18446744073709551616")]
    public void Read_RejectsDataOffsetsThatAreNotNonNegativeIntegers(string offsets, string expected)
    {
        string header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":" + offsets + "}}";
        RnnFormatException e = ReadFails(Build(header, s_twoFloats));

        Assert.Contains($"data_offsets {expected}; expected a non-negative integer", e.Message);
    }

    [Fact]
    public void Read_RejectsDataOffsetsThatEndBeforeTheyBegin()
    {
        RnnFormatException e = ReadFails(Build(One("F32", "[2]", 8, 0), s_twoFloats));

        Assert.Equal("w", e.TensorName);
        Assert.Contains("data_offsets [8, 0] end before they begin", e.Message);
    }

    [Fact]
    public void Read_RejectsGapBeforeFirstTensor()
    {
        RnnFormatException e = ReadFails(Build(One("F32", "[2]", 4, 12), F32(0f, 1f, 2f)));

        Assert.Equal("w", e.TensorName);
        Assert.Contains("begin at 4 but the previous tensor ends at 0 (a gap)", e.Message);
        Assert.Contains("contiguous from 0", e.Message);
    }

    [Fact]
    public void Read_RejectsGapBetweenTensors()
    {
        string header = "{" + Entry("a", "F32", "[1]", 0, 4) + "," + Entry("b", "F32", "[1]", 8, 12) + "}";
        RnnFormatException e = ReadFails(Build(header, F32(1f, 2f, 3f)));

        Assert.Equal("b", e.TensorName);
        Assert.Contains("(a gap)", e.Message);
    }

    [Fact]
    public void Read_RejectsOverlappingOffsets()
    {
        string header = "{" + Entry("a", "F32", "[2]", 0, 8) + "," + Entry("b", "F32", "[2]", 4, 12) + "}";
        RnnFormatException e = ReadFails(Build(header, F32(1f, 2f, 3f)));

        Assert.Equal("b", e.TensorName);
        Assert.Contains("(an overlap)", e.Message);
    }

    [Fact]
    public void Read_RejectsTwoTensorsSharingTheSameBytes()
    {
        string header = "{" + Entry("a", "F32", "[2]", 0, 8) + "," + Entry("b", "F32", "[2]", 0, 8) + "}";
        RnnFormatException e = ReadFails(Build(header, s_twoFloats));

        Assert.Equal("b", e.TensorName);
        Assert.Contains("(an overlap)", e.Message);
    }

    [Theory]
    [InlineData("F32", "[2]", 12)]
    [InlineData("F32", "[3]", 8)]
    [InlineData("F16", "[2]", 8)]
    [InlineData("BF16", "[]", 4)]
    public void Read_RejectsByteRangeThatDiffersFromShapeTimesDType(string dtype, string shape, long end)
    {
        RnnFormatException e = ReadFails(Build(One(dtype, shape, 0, end), new byte[end]));

        Assert.Equal("w", e.TensorName);
        Assert.Contains($"span {end} bytes but shape", e.Message);
        Assert.Contains($"of dtype {dtype} needs", e.Message);
    }

    [Fact]
    public void Read_RejectsTrailingBytesNotCoveredByAnyTensor()
    {
        RnnFormatException e = ReadFails(Build(One(), F32(1f, 2f, 3f)));

        Assert.Null(e.TensorName);
        Assert.Contains("the data section is 12 bytes but the tensors cover only 8", e.Message);
    }

    [Fact]
    public void Read_RejectsDataBytesWhenThereAreNoTensors()
    {
        RnnFormatException e = ReadFails(Build("{}", [0]));
        Assert.Contains("the data section is 1 bytes but the tensors cover only 0", e.Message);
    }

    [Fact]
    public void Read_RejectsMissingData()
    {
        RnnFormatException e = ReadFails(Build(One(), F32(1f)));
        Assert.Contains("the tensors need 8 bytes of data but the file has only 4", e.Message);
    }

    [Fact]
    public void Read_RejectsDuplicateTensorName()
    {
        string header = "{" + Entry("w", "F32", "[1]", 0, 4) + "," + Entry("w", "F32", "[1]", 4, 8) + "}";
        RnnFormatException e = ReadFails(Build(header, s_twoFloats));

        Assert.Equal("w", e.TensorName);
        Assert.Contains("duplicate tensor name", e.Message);
    }

    [Fact]
    public void Read_RejectsDuplicateMetadataKeyAtTopLevel()
    {
        RnnFormatException e = ReadFails(Build("{\"__metadata__\":{},\"__metadata__\":{\"a\":\"b\"}}"));
        Assert.Contains("duplicate key '__metadata__'", e.Message);
    }

    [Fact]
    public void Read_RejectsDuplicateKeyInsideMetadata()
    {
        RnnFormatException e = ReadFails(Build("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}"));
        Assert.Contains("duplicate key \"a\" in '__metadata__'", e.Message);
    }

    [Theory]
    [InlineData("dtype", "{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}")]
    [InlineData("shape", "{\"dtype\":\"F32\",\"shape\":[2],\"shape\":[2],\"data_offsets\":[0,8]}")]
    [InlineData("data_offsets", "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"data_offsets\":[0,8]}")]
    public void Read_RejectsDuplicateFieldInsideTensorEntry(string field, string entry)
    {
        RnnFormatException e = ReadFails(Build("{\"w\":" + entry + "}", s_twoFloats));

        Assert.Equal("w", e.TensorName);
        Assert.Contains($"duplicate field '{field}'", e.Message);
    }

    [Theory]
    [InlineData("dtype", "{\"shape\":[2],\"data_offsets\":[0,8]}")]
    [InlineData("shape", "{\"dtype\":\"F32\",\"data_offsets\":[0,8]}")]
    [InlineData("data_offsets", "{\"dtype\":\"F32\",\"shape\":[2]}")]
    public void Read_RejectsMissingFieldInTensorEntry(string field, string entry)
    {
        RnnFormatException e = ReadFails(Build("{\"w\":" + entry + "}", s_twoFloats));

        Assert.Equal("w", e.TensorName);
        Assert.Contains($"missing field '{field}'", e.Message);
    }

    [Fact]
    public void Read_RejectsExtraFieldInTensorEntry()
    {
        string header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"layout\":\"C\"}}";
        RnnFormatException e = ReadFails(Build(header, s_twoFloats));

        Assert.Equal("w", e.TensorName);
        Assert.Contains("unexpected field \"layout\"", e.Message);
    }

    [Theory]
    [InlineData("[]", "an array")]
    [InlineData("\"F32\"", "a string")]
    [InlineData("null", "null")]
    public void Read_RejectsTensorEntryThatIsNotAnObject(string entry, string described)
    {
        RnnFormatException e = ReadFails(Build("{\"w\":" + entry + "}"));

        Assert.Equal("w", e.TensorName);
        Assert.Contains($"entry is {described}; expected an object", e.Message);
    }

    [Fact]
    public void Read_RejectsEmptyTensorName()
    {
        RnnFormatException e = ReadFails(Build("{" + Entry("", "F32", "[2]", 0, 8) + "}", s_twoFloats));
        Assert.Contains("empty name", e.Message);
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "+Infinity")]
    [InlineData(float.NegativeInfinity, "-Infinity")]
    public void Read_RejectsNonFiniteF32_NamingTensorAndElement(float bad, string described)
    {
        string header = "{" + Entry("ok", "F32", "[1]", 0, 4) + "," + Entry("rnn.bias_hh_l0", "F32", "[4]", 4, 20) + "}";
        byte[] bytes = Build(header, F32(0f, 1f, 2f, 3f, bad));

        RnnFormatException e = ReadFails(bytes);

        Assert.Equal("rnn.bias_hh_l0", e.TensorName);
        Assert.Contains($"element 3 is {described}; weights must be finite", e.Message);
        Assert.Contains("tensor 'rnn.bias_hh_l0'", e.Message);

        WeightFile allowed = SafeTensorsReader.Read(bytes, "t", new SafeTensorsReadOptions { AllowNonFinite = true });
        Assert.Equal(BitConverter.SingleToInt32Bits(bad), BitConverter.SingleToInt32Bits(allowed.Tensors[1].Data[3]));
    }

    [Theory]
    [InlineData("F16", (ushort)0x7C00, "+Infinity")]
    [InlineData("F16", (ushort)0xFC01, "NaN")]
    [InlineData("BF16", (ushort)0xFF80, "-Infinity")]
    [InlineData("BF16", (ushort)0x7FC0, "NaN")]
    public void Read_RejectsNonFiniteHalfValues(string dtype, ushort bits, string described)
    {
        byte[] bytes = Build(One(dtype, "[2]", 0, 4), U16(0x3C00, bits));

        RnnFormatException e = ReadFails(bytes);

        Assert.Contains($"element 1 is {described}", e.Message);
        Assert.Single(SafeTensorsReader.Read(bytes, "t", new SafeTensorsReadOptions { AllowNonFinite = true }).Tensors);
    }

    [Fact]
    public void Read_RejectsDeeplyNestedHeaderWithoutStackOverflow()
    {
        string header = "{\"__metadata__\":" + new string('[', 100_000) + new string(']', 100_000) + "}";
        RnnFormatException e = ReadFails(Build(header));
        Assert.Contains("nesting deeper than 64", e.Message);
    }

    [Fact]
    public void Read_MessageStartsWithFileNameAndTensor()
    {
        RnnFormatException e = ReadFails(Build(One("F64", "[1]", 0, 8), new byte[8]), "models/x.safetensors");
        Assert.StartsWith("models/x.safetensors: tensor 'w': dtype F64", e.Message);
    }
}
