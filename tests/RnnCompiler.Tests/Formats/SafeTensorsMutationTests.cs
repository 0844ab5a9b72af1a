using System.Text;
using Xunit.Abstractions;
using RnnEmbedded.Compiler.Formats;
using static RnnEmbedded.Tests.Formats.SafeTensorsBytes;

namespace RnnEmbedded.Tests.Formats;

/// <summary>
/// Corrupted files must load or fail with <see cref="RnnFormatException"/> — never another exception, never a hang —
/// and reading must allocate at most a constant factor of the file size.
/// </summary>
public sealed class SafeTensorsMutationTests
{
    private readonly ITestOutputHelper _log;

    public SafeTensorsMutationTests(ITestOutputHelper log) => _log = log;

    private const int Seed = 20261123;
    private const int Iterations = 3000;
    private const long AllocationFactor = 64;
    private const long AllocationSlack = 1 << 20;

    private static readonly byte[] s_interesting = Encoding.ASCII.GetBytes("{}[]\",:0123456789-.eE\\ ntfu_") is var a
        ? [.. a, 0x00, 0x7F, 0x80, 0xC0, 0xED, 0xFF]
        : [];

    private static byte[] ValidFile()
    {
        string header = "{\"__metadata__\":{\"rnn.vocab\":\"[\\\"a\\\",\\\"b\\\"]\",\"rnn.task\":\"char-lm\"}," +
            Entry("emb.weight", "F32", "[2,3]", 0, 24) + "," +
            Entry("rnn.weight_hh_l0", "F16", "[3,1]", 24, 30) + "," +
            Entry("rnn.bias_hh_l0", "BF16", "[3]", 30, 36) + "," +
            Entry("empty", "F32", "[0]", 36, 36) + "," +
            Entry("s", "F32", "[]", 36, 40) + "}";
        byte[] data = [.. F32(1f, -2f, 0.5f, 3f, 0f, 1e-3f), .. U16(0x3C00, 0x0001, 0xC000), .. U16(0x3F80, 0x8001, 0x4040), .. F32(7f)];
        return Build(header, data);
    }

    [Fact]
    public void ValidFile_Loads()
    {
        WeightFile file = SafeTensorsReader.Read(ValidFile(), "v");
        Assert.Equal(5, file.Tensors.Count);
        Assert.Equal("char-lm", file.Metadata["rnn.task"]);
    }

    [Fact]
    public void RandomByteMutations_LoadOrThrowRnnFormatException_WithBoundedAllocation()
    {
        byte[] original = ValidFile();
        var rng = new Random(Seed);
        int loaded = 0;
        int rejected = 0;
        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            byte[] bytes = (byte[])original.Clone();
            int mutations = 1 + rng.Next(4);
            for (int m = 0; m < mutations; m++)
            {
                int position = rng.Next(bytes.Length);
                switch (rng.Next(3))
                {
                    case 0:
                        bytes[position] ^= (byte)(1 << rng.Next(8));
                        break;
                    case 1:
                        bytes[position] = (byte)rng.Next(256);
                        break;
                    default:
                        bytes[position] = s_interesting[rng.Next(s_interesting.Length)];
                        break;
                }
            }

            if (Check(bytes, $"iteration {iteration}"))
            {
                loaded++;
            }
            else
            {
                rejected++;
            }
        }

        _log.WriteLine($"random byte mutations: {loaded} loaded, {rejected} rejected");

        // Both outcomes must occur, or the mutations did not exercise the reader.
        Assert.True(loaded > 0, "no mutation loaded");
        Assert.True(rejected > Iterations / 2, $"only {rejected} mutations were rejected");
    }

    [Fact]
    public void HeaderMutationsWithConsistentLength_LoadOrThrowRnnFormatException()
    {
        // Mutate the header text and rewrite the length field, so that the JSON and validation rules are reached.
        byte[] original = ValidFile();
        int n = (int)BitConverter.ToUInt64(original, 0);
        byte[] header = original.AsSpan(8, n).ToArray();
        byte[] data = original.AsSpan(8 + n).ToArray();
        var rng = new Random(Seed + 1);
        int loaded = 0;
        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            var mutated = new List<byte>(header);
            int mutations = 1 + rng.Next(3);
            for (int m = 0; m < mutations; m++)
            {
                int position = rng.Next(mutated.Count);
                byte b = s_interesting[rng.Next(s_interesting.Length)];
                switch (rng.Next(3))
                {
                    case 0:
                        mutated[position] = b;
                        break;
                    case 1:
                        mutated.Insert(position, b);
                        break;
                    default:
                        mutated.RemoveAt(position);
                        break;
                }
            }

            byte[] dataCopy = rng.Next(4) == 0 ? data.AsSpan(0, rng.Next(data.Length + 1)).ToArray() : data;
            if (Check(BuildRaw(mutated.ToArray(), dataCopy, pad: rng.Next(2) == 0), $"header iteration {iteration}"))
            {
                loaded++;
            }
        }

        _log.WriteLine($"header mutations: {loaded} of {Iterations} loaded");
        Assert.True(loaded > 0, "no header mutation loaded");
    }

    [Fact]
    public void EveryTruncation_ThrowsRnnFormatException()
    {
        byte[] original = ValidFile();
        for (int length = 0; length < original.Length; length++)
        {
            byte[] bytes = original.AsSpan(0, length).ToArray();
            Assert.False(Check(bytes, $"truncated to {length}"), $"truncated to {length} bytes loaded");
        }
    }

    [Fact]
    public void HugeHeaderLengthClaims_AreRejectedWithoutAllocatingThem()
    {
        byte[] original = ValidFile();
        ulong[] claims =
        [
            ulong.MaxValue, 1UL << 63, 1UL << 32, uint.MaxValue, int.MaxValue, 100_000_001, 100_000_000,
            (ulong)original.Length, (ulong)original.Length - 7, (ulong)original.Length - 9, 0, 1,
        ];
        foreach (ulong claim in claims)
        {
            byte[] bytes = (byte[])original.Clone();
            BitConverter.GetBytes(claim).CopyTo(bytes, 0);
            Assert.False(Check(bytes, $"header length {claim}"), $"header length {claim} loaded");
        }
    }

    [Fact]
    public void LargeShapeArray_AllocationStaysLinearInFileSize()
    {
        // 200k dimensions of size 1: the most JSON values per header byte the format allows.
        string shape = "[" + string.Join(",", Enumerable.Repeat("1", 200_000)) + "]";
        byte[] bytes = Build("{" + Entry("w", "F32", shape, 0, 4) + "}", F32(1f));

        Assert.True(Check(bytes, "large shape"));
    }

    [Fact]
    public void ManyTinyStrings_AllocationStaysLinearInFileSize()
    {
        var sb = new StringBuilder("{\"__metadata__\":{");
        for (int i = 0; i < 50_000; i++)
        {
            sb.Append(i == 0 ? "" : ",").Append('"').Append(i).Append("\":\"\"");
        }

        byte[] bytes = Build(sb.Append("}}").ToString());

        Assert.True(Check(bytes, "many strings"));
    }

    /// <summary>True when the file loads; false when it is rejected properly. Fails the test otherwise.</summary>
    private bool Check(byte[] bytes, string description)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        bool loaded;
        try
        {
            SafeTensorsReader.Read(bytes, "fuzz.safetensors");
            loaded = true;
        }
        catch (RnnFormatException e)
        {
            Assert.StartsWith("fuzz.safetensors: ", e.Message);
            loaded = false;
        }
        catch (Exception e)
        {
            Assert.Fail($"{description}: {e.GetType().Name} escaped the reader: {e.Message}\nfile: {Convert.ToHexString(bytes)}");
            throw;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long bound = AllocationFactor * bytes.Length + AllocationSlack;
        if (bytes.Length > 100_000)
        {
            _log.WriteLine($"{description}: {bytes.Length} bytes, allocated {allocated} ({(double)allocated / bytes.Length:F1} x file size)");
        }

        Assert.True(allocated <= bound, $"{description}: allocated {allocated} bytes for a {bytes.Length}-byte file (bound {bound})");
        return loaded;
    }
}
