using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Formats.Onnx;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Tests.Reference;

namespace RnnEmbedded.Tests.Onnx;

/// <summary>
/// The hand-written protobuf reader and the importer on hostile bytes: every malformed input is an
/// <see cref="RnnFormatException"/> naming the file and the rule, never another exception, and the work done is
/// bounded by the file's size (docs/model-format.md, "Reading is bounded").
/// </summary>
public sealed class OnnxReaderTests
{
    private const int Seed = 20261130;
    private const int Iterations = 3000;
    private const long AllocationFactor = 64;
    private const long AllocationSlack = 1 << 20;

    private static byte[] Varint(ulong v)
    {
        var bytes = new List<byte>();
        do
        {
            byte b = (byte)(v & 0x7F);
            v >>= 7;
            bytes.Add(v != 0 ? (byte)(b | 0x80) : b);
        }
        while (v != 0);
        return bytes.ToArray();
    }

    private static byte[] Field(int number, byte[] payload) => [.. Varint((ulong)number << 3 | 2), .. Varint((ulong)payload.Length), .. payload];

    private static string Rule(byte[] bytes) => Assert.Throws<RnnFormatException>(() => OnnxImporter.Import(bytes, "bad.onnx")).Message;

    [Fact]
    public void LengthPastTheEnd_IsRejectedBeforeAllocating()
    {
        // graph field claiming 2^40 bytes.
        byte[] bytes = [0x08, 0x07, .. Varint(7 << 3 | 2), .. Varint(1UL << 40)];
        long before = GC.GetAllocatedBytesForCurrentThread();
        string message = Rule(bytes);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.StartsWith("bad.onnx: not a well-formed ONNX file: ModelProto: a length-delimited field claims 1099511627776 bytes but only 0 remain", message);
    }

    [Fact]
    public void VarintLongerThanTenBytes_IsRejected() =>
        Assert.Contains("a varint is longer than", Rule([0x08, .. Enumerable.Repeat((byte)0xFF, 11), 0x01]));

    [Fact]
    public void GroupWireType_IsRejected() =>
        Assert.Contains("wire type 3", Rule([0x0B]));

    [Fact]
    public void FieldNumberZero_IsRejected() =>
        Assert.Contains("field number 0", Rule([0x02, 0x00]));

    [Fact]
    public void NoGraph_IsRejected() =>
        Assert.Contains("the model has no graph", Rule([0x08, 0x07]));

    [Fact]
    public void NestedMessageTruncated_NamesTheMessage()
    {
        byte[] node = [.. Varint(4 << 3 | 2), .. Varint(100), .. "LSTM"u8.ToArray()];
        byte[] graph = Field(1, node);
        Assert.Contains("NodeProto #0: a length-delimited field claims 100 bytes but only 4 remain", Rule([0x08, 0x07, .. Field(7, graph)]));
    }

    [Fact]
    public void OverlongName_IsRejected()
    {
        byte[] node = Field(3, Enumerable.Repeat((byte)'a', OnnxReader.MaxStringLength + 1).ToArray());
        Assert.Contains($"node name is {OnnxReader.MaxStringLength + 1} bytes long; the limit is {OnnxReader.MaxStringLength}", Rule([0x08, 0x07, .. Field(7, Field(1, node))]));
    }

    [Fact]
    public void TooManyNodes_IsRejected()
    {
        byte[] empty = [0x0A, 0x00];
        byte[] graph = Enumerable.Range(0, OnnxReader.MaxGraphItems + 1).SelectMany(_ => empty).ToArray();
        Assert.Contains($"more than {OnnxReader.MaxGraphItems} nodes", Rule([0x08, 0x07, .. Field(7, graph)]));
    }

    [Fact]
    public void InvalidUtf8Name_IsRejected() =>
        Assert.Contains("not valid UTF-8", Rule([0x08, 0x07, .. Field(7, Field(1, Field(4, [0xC3, 0x28])))]));

    [Fact]
    public void RawDataOfTheWrongSize_NamesTheTensor()
    {
        // An initializer 'W' of dims [2, 3] (FLOAT) whose raw data holds 5 bytes; the graph never gets further.
        byte[] tensor = [0x08, 0x02, 0x08, 0x03, 0x10, 0x01, .. Field(8, "W"u8.ToArray()), .. Field(9, new byte[5])];
        byte[] input = Field(1, "X"u8.ToArray());
        byte[] node = [.. Field(1, "X"u8.ToArray()), .. Field(1, "W"u8.ToArray()), .. Field(1, "W"u8.ToArray()), .. Field(2, "Y"u8.ToArray()), .. Field(4, "RNN"u8.ToArray())];
        byte[] xType = Field(2, Field(1, [0x08, 0x01, .. Field(2, [.. Field(1, [0x08, 0x04]), .. Field(1, [0x08, 0x01]), .. Field(1, [0x08, 0x03])])]));
        byte[] graph = [.. Field(1, node), .. Field(5, tensor), .. Field(11, [.. input, .. xType])];
        byte[] opset = Field(8, [0x10, 0x0E]);
        var e = Assert.Throws<RnnFormatException>(() => OnnxImporter.Import([0x08, 0x07, .. opset, .. Field(7, graph)], "m.onnx"));
        Assert.Equal("W", e.TensorName);
        Assert.Contains("raw data has 5 bytes but shape [2, 3] of Float needs 24", e.Message);
    }

    private static byte[] IntAttribute(string name, long value) => [.. Field(1, System.Text.Encoding.UTF8.GetBytes(name)), .. Varint(3 << 3), .. Varint((ulong)value), .. Varint(20 << 3), 0x02];

    private static byte[] IntsAttribute(string name, long value) => [.. Field(1, System.Text.Encoding.UTF8.GetBytes(name)), .. Varint(8 << 3), .. Varint((ulong)value), .. Varint(20 << 3), 0x07];

    private static byte[] StackOfSharedLayers(int layers, int hidden)
    {
        byte[] S(string text) => System.Text.Encoding.UTF8.GetBytes(text);
        byte[] Tensor(string name) => [.. Varint(1 << 3), 0x01, .. Varint(1 << 3), .. Varint((ulong)(4 * hidden)), .. Varint(1 << 3), .. Varint((ulong)hidden),
            0x10, 0x01, .. Field(8, S(name)), .. Field(9, new byte[4 * 4 * hidden * hidden])];
        var graph = new List<byte>();
        string previous = "X";
        for (int k = 0; k < layers; k++)
        {
            byte[] lstm = [.. Field(1, S(previous)), .. Field(1, S("W")), .. Field(1, S("R")), .. Field(2, S("y" + k)), .. Field(4, S("LSTM")), .. Field(5, IntAttribute("hidden_size", hidden))];
            byte[] squeeze = [.. Field(1, S("y" + k)), .. Field(2, S("s" + k)), .. Field(4, S("Squeeze")), .. Field(5, IntsAttribute("axes", 1))];
            graph.AddRange(Field(1, lstm));
            graph.AddRange(Field(1, squeeze));
            previous = "s" + k;
        }

        byte[] dims = [.. Field(1, Field(2, S("seq"))), .. Field(1, [0x08, 0x01]), .. Field(1, [0x08, .. Varint((ulong)hidden)])];
        graph.AddRange(Field(5, Tensor("W")));
        graph.AddRange(Field(5, Tensor("R")));
        graph.AddRange(Field(11, [.. Field(1, S("X")), .. Field(2, Field(1, [0x08, 0x01, .. Field(2, dims)]))]));
        graph.AddRange(Field(12, Field(1, S(previous))));
        return [0x08, 0x07, .. Field(8, [0x10, 0x0B]), .. Field(7, graph.ToArray())];
    }

    [Fact]
    public void SharedWeightsCopiedPerLayer_AreBoundedByTheFileSize()
    {
        // Two layers sharing W and R import (the copies fit the budget); forty would copy the file's weights forty
        // times from a file hardly larger: rejected, without allocating them.
        ModelSpec two = ModelBuilder.Build(OnnxImporter.Import(StackOfSharedLayers(2, 64), "m.onnx"));
        Assert.Equal(2, two.Layers.Count);
        byte[] forty = StackOfSharedLayers(40, 64);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<RnnFormatException>(() => OnnxImporter.Import(forty, "m.onnx"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before <= AllocationFactor * forty.Length + AllocationSlack);
        Assert.Contains("more elements than a file of its size can hold", e.Message);
    }

    [Fact]
    public void FuzzRegression_NaNWeight_IsRejectedNamingTheTensor()
    {
        // fuzz/run.sh onnx, first campaign: a bit flip made an element of W NaN; the importer accepted it, and the
        // converted safetensors did not read back (docs/fuzzing.md).
        byte[] bytes = File.ReadAllBytes(Path.Combine(ParityFixture.OnnxDirectory, "regressions", "fuzz_nan_weight.onnx"));
        var e = Assert.Throws<RnnFormatException>(() => OnnxImporter.Import(bytes, "m.onnx"));
        Assert.NotNull(e.TensorName);
        Assert.Contains("weights must be finite", e.Message);
    }

    public static TheoryData<string> Fixtures() => new(ParityFixture.OnnxNames.Where(n => n.StartsWith("bare_", StringComparison.Ordinal) || n.EndsWith("o9", StringComparison.Ordinal) || n.EndsWith("o14", StringComparison.Ordinal)));

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void RandomByteMutations_ImportOrThrowRnnFormatException_WithBoundedAllocation(string name)
    {
        byte[] original = File.ReadAllBytes(ParityFixture.LoadOnnx(name).WeightsPath);
        var rng = new Random(Seed ^ name.Length);
        int imported = 0;
        int rejected = 0;
        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            byte[] bytes = (byte[])original.Clone();
            int mutations = 1 + rng.Next(4);
            for (int m = 0; m < mutations; m++)
            {
                int position = rng.Next(bytes.Length);
                bytes[position] = rng.Next(3) switch
                {
                    0 => (byte)rng.Next(256),
                    1 => (byte)(bytes[position] ^ (1 << rng.Next(8))),
                    _ => (byte)(bytes[position] + rng.Next(-2, 3)),
                };
            }

            if (rng.Next(8) == 0)
            {
                bytes = bytes[..rng.Next(bytes.Length)];
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                ModelBuilder.Build(OnnxImporter.Import(bytes, "m.onnx"));
                imported++;
            }
            catch (RnnFormatException e)
            {
                Assert.StartsWith("m.onnx: ", e.Message);
                rejected++;
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated <= AllocationFactor * bytes.Length + AllocationSlack, $"{name} iteration {iteration}: {allocated} bytes allocated for a {bytes.Length}-byte file");
        }

        Assert.True(imported > 0 && rejected > 0, $"{name}: {imported} imported, {rejected} rejected: the mutations should produce both");
    }
}
