using System.Text;
using RnnEmbedded.Compiler.Formats;
using static RnnEmbedded.Tests.Formats.SafeTensorsBytes;

namespace RnnEmbedded.Tests.Formats;

public sealed class SafeTensorsRoundTripTests
{
    [Fact]
    public void RoundTrip_F32_PreservesNamesShapesDataAndOrder()
    {
        var rng = new Random(7);
        Tensor[] tensors =
        [
            new("rnn.weight_ih_l0", [8, 3], RandomFloats(rng, 24)),
            new("scalar", [], [3.25f]),
            new("empty", [0, 5], []),
            new("rnn.bias_ih_l0", [8], RandomFloats(rng, 8)),
            new("a.b", [2, 1, 2], [float.MaxValue, float.Epsilon, -0.0f, 1e-30f]),
        ];

        WeightFile file = SafeTensorsReader.Read(SafeTensorsWriter.Write(tensors), "m.safetensors");

        Assert.Equal("m.safetensors", file.FileName);
        Assert.Equal(tensors.Length, file.Tensors.Count);
        for (int i = 0; i < tensors.Length; i++)
        {
            Tensor read = file.Tensors[i];
            Assert.Equal(tensors[i].Name, read.Name);
            Assert.Equal(tensors[i].Shape, read.Shape);
            Assert.Equal(TensorDType.F32, read.SourceDType);
            Assert.Equal(Bits(tensors[i].Data), Bits(read.Data)); // bit-exact, -0 included
        }

        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void RoundTrip_Metadata_ComesBackOrdinalSortedWithEscapes()
    {
        var metadata = new Dictionary<string, string>
        {
            ["rnn.vocab"] = Json.StringArray(["a", "\"", "\\", "\n", "\u0001", "é", "😀", "<stop>"]),
            ["B"] = "upper",
            ["a"] = "lower",
            ["ctl\t\"key\""] = "tab\tquote\"backslash\\ unicode \u00e9 \U0001F600 del\u007f nul\0",
            ["empty"] = "",
        };

        WeightFile file = SafeTensorsReader.Read(SafeTensorsWriter.Write([new Tensor("w", [1], [1f])], metadata), "m");

        Assert.Equal(["B", "a", "ctl\t\"key\"", "empty", "rnn.vocab"], file.Metadata.Keys.ToArray());
        foreach (KeyValuePair<string, string> pair in metadata)
        {
            Assert.Equal(pair.Value, file.Metadata[pair.Key]);
        }

        JsonValue vocab = Json.Parse(file.Metadata["rnn.vocab"]);
        Assert.Equal(["a", "\"", "\\", "\n", "\u0001", "é", "😀", "<stop>"], vocab.Items.Select(v => v.StringValue).ToArray());
    }

    [Fact]
    public void RoundTrip_TensorNamesWithQuotesAndUnicode()
    {
        string[] names = ["we\"ird", "back\\slash", "tab\tname", "ünïcödé", "emoji😀"];
        Tensor[] tensors = names.Select((n, i) => new Tensor(n, [1], [i])).ToArray();

        WeightFile file = SafeTensorsReader.Read(SafeTensorsWriter.Write(tensors), "m");

        Assert.Equal(names, file.Tensors.Select(t => t.Name).ToArray());
    }

    [Fact]
    public void Write_MatchesReferenceImplementationBytes_OneTensor()
    {
        // Expected bytes from safetensors' own test (tensor.rs, test_serialization): "attn.0", F32, [1, 2, 3], 0..5.
        byte[] expected =
        [
            64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
            58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
            101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
            0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
        ];

        byte[] actual = SafeTensorsWriter.Write([new Tensor("attn.0", [1, 2, 3], [0f, 1f, 2f, 3f, 4f, 5f])]);

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Write_MatchesReferenceImplementationBytes_PaddingAndMetadata()
    {
        // tensor.rs test_serialization_forced_alignement ("attn0", [1, 1, 2, 3]) and test_empty (with metadata).
        byte[] padded = SafeTensorsWriter.Write([new Tensor("attn0", [1, 1, 2, 3], [0f, 1f, 2f, 3f, 4f, 5f])]);
        Assert.Equal(72, BitConverter.ToInt64(padded, 0));
        Assert.Equal("{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ",
            Encoding.UTF8.GetString(padded, 8, 72));

        byte[] empty = SafeTensorsWriter.Write([]);
        Assert.Equal(new byte[] { 8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32 }, empty);

        byte[] withMetadata = SafeTensorsWriter.Write([], new Dictionary<string, string> { ["framework"] = "pt" });
        Assert.Equal(40, BitConverter.ToInt64(withMetadata, 0));
        Assert.Equal("{\"__metadata__\":{\"framework\":\"pt\"}}     ", Encoding.UTF8.GetString(withMetadata, 8, 40));
        Assert.Equal(48, withMetadata.Length);
    }

    [Fact]
    public void Write_HeaderIsPaddedToMultipleOf8_ForEveryNameLength()
    {
        for (int length = 1; length <= 17; length++)
        {
            byte[] bytes = SafeTensorsWriter.Write([new Tensor(new string('x', length), [1], [1f])]);
            long n = BitConverter.ToInt64(bytes, 0);
            Assert.Equal(0, n % 8);
            string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
            Assert.EndsWith("}", header.TrimEnd(' '));
            Assert.Equal(header.TrimEnd(' ').Length + CountTrailingSpaces(header), header.Length);
            Assert.Single(SafeTensorsReader.Read(bytes, "m").Tensors);
        }
    }

    [Fact]
    public void Write_IsDeterministic_MetadataKeyOrderDoesNotMatter()
    {
        Tensor[] tensors = [new Tensor("w", [2], [1f, 2f])];
        byte[] a = SafeTensorsWriter.Write(tensors, new Dictionary<string, string> { ["x"] = "1", ["a"] = "2" });
        byte[] b = SafeTensorsWriter.Write(tensors, new SortedDictionary<string, string> { ["a"] = "2", ["x"] = "1" });
        Assert.Equal(a, b);
    }

    [Fact]
    public void Write_RejectsBadTensors()
    {
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write([new Tensor("w", [2, 2], [1f, 2f, 3f])]));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write([new Tensor("w", [-1], [])]));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write([new Tensor("", [1], [1f])]));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write([new Tensor("__metadata__", [1], [1f])]));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write([new Tensor("w", [1], [1f]), new Tensor("w", [1], [2f])]));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write([new Tensor("lone\uD800", [1], [1f])]));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write([], new Dictionary<string, string> { ["k"] = "\uDC00" }));
    }

    [Fact]
    public void Write_ZeroDimensionAfterHugeDimensionIsEmptyTensor()
    {
        byte[] bytes = SafeTensorsWriter.Write([new Tensor("w", [int.MaxValue, 2, 0], [])]);
        Tensor t = Assert.Single(SafeTensorsReader.Read(bytes, "m").Tensors);
        Assert.Equal([int.MaxValue, 2, 0], t.Shape);
        Assert.Empty(t.Data);
    }

    [Fact]
    public void Read_ReturnsTensorsInDataOffsetOrder_NotHeaderOrder()
    {
        string header = "{" + Entry("second", "F32", "[1]", 4, 8) + "," + Entry("first", "F32", "[1]", 0, 4) + "}";
        WeightFile file = SafeTensorsReader.Read(Build(header, F32(1f, 2f)), "m");

        Assert.Equal(["first", "second"], file.Tensors.Select(t => t.Name).ToArray());
        Assert.Equal(1f, file.Tensors[0].Data[0]);
        Assert.Equal(2f, file.Tensors[1].Data[0]);
    }

    [Fact]
    public void Read_AcceptsUnpaddedHeaderAndZeroSizeTensorsSharingAnOffset()
    {
        string header = "{" + Entry("z1", "F32", "[0]", 0, 0) + "," + Entry("a", "F16", "[2]", 0, 4) + "," + Entry("z2", "BF16", "[3,0]", 4, 4) + "}";
        WeightFile file = SafeTensorsReader.Read(Build(header, U16(0x3C00, 0x4000), pad: false), "m");

        Assert.Equal(["z1", "a", "z2"], file.Tensors.Select(t => t.Name).ToArray());
        Assert.Equal([1f, 2f], file.Tensors[1].Data);
        Assert.Equal([3, 0], file.Tensors[2].Shape);
    }

    [Fact]
    public void WriteFile_ThenReadFile_RoundTripsAndLeavesNoTempFiles()
    {
        string dir = Path.Combine(Path.GetTempPath(), "rnn-st-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "m.safetensors");
            SafeTensorsWriter.WriteFile(path, [new Tensor("w", [2], [1f, 2f])], new Dictionary<string, string> { ["k"] = "v1" });
            SafeTensorsWriter.WriteFile(path, [new Tensor("w", [3], [4f, 5f, 6f])], new Dictionary<string, string> { ["k"] = "v2" });

            WeightFile file = SafeTensorsReader.ReadFile(path);

            Assert.Equal(path, file.FileName);
            Assert.Equal([4f, 5f, 6f], file.Tensors[0].Data);
            Assert.Equal("v2", file.Metadata["k"]);
            Assert.Equal([path], Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ReadFile_MissingFile_ThrowsRnnFormatExceptionNamingPath()
    {
        string path = Path.Combine(Path.GetTempPath(), "does-not-exist-" + Guid.NewGuid().ToString("N") + ".safetensors");

        RnnFormatException e = Assert.Throws<RnnFormatException>(() => SafeTensorsReader.ReadFile(path));

        Assert.Equal(path, e.FileName);
        Assert.Contains("cannot read the file", e.Message);
        Assert.StartsWith(path + ": ", e.Message);
    }

    [Fact]
    public void ReadFile_Directory_ThrowsRnnFormatException()
    {
        RnnFormatException e = Assert.Throws<RnnFormatException>(() => SafeTensorsReader.ReadFile(Path.GetTempPath()));
        Assert.Contains("cannot read the file", e.Message);
    }

    [Fact]
    public void Read_MetadataIsReadOnly()
    {
        WeightFile file = SafeTensorsReader.Read(SafeTensorsWriter.Write([], new Dictionary<string, string> { ["k"] = "v" }), "m");
        var asDictionary = Assert.IsAssignableFrom<IDictionary<string, string>>(file.Metadata);
        Assert.Throws<NotSupportedException>(() => asDictionary["k"] = "changed");
    }

    private static float[] RandomFloats(Random rng, int n) =>
        Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    private static int CountTrailingSpaces(string s) => s.Length - s.TrimEnd(' ').Length;
}
