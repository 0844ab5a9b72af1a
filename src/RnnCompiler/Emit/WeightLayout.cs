using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace RnnEmbedded.Compiler.Emit;

/// <summary>
/// The weight blob: a 64-byte header (magic "RNNWGT01", the layout fingerprint, the blob's length), then every
/// weight entry in plan order, each starting at a multiple of <see cref="Alignment"/> bytes (zero padding between).
/// Offsets are a pure function of the entries' element types and counts, so the generator (which plans without
/// the weights) and the build step (which packs them) agree; the fingerprint checks that they did
/// (docs/generator.md, "Weights: manifest resources"). The runtime side is <c>EmbeddedWeights</c>.
/// </summary>
public static class WeightLayout
{
    /// <summary>Byte alignment of every entry inside the blob (one cache line, a Vector512).</summary>
    public const int Alignment = 64;

    /// <summary>Header bytes before the first entry.</summary>
    public const int HeaderSize = 64;

    /// <summary>"RNNWGT01" read as a little-endian u64; equal to the runtime's EmbeddedWeights.Magic.</summary>
    public const ulong Magic = 0x31305447574E4E52;

    /// <summary>
    /// Largest blob: a manifest resource's length is an int32 in the PE format and the runtime reads it as one; the
    /// build also caps the sum over an assembly at this (RNN0004).
    /// </summary>
    public const long MaxBlobBytes = int.MaxValue - 64L * 1024 * 1024;

    /// <summary>Places every entry (sets <see cref="WeightEntry.ByteOffset"/>) and describes the blob.</summary>
    public static WeightResourcePlan Assign(IReadOnlyList<WeightEntry> weights, string resourceName)
    {
        long position = HeaderSize;
        ulong hash = 14695981039346656037; // FNV-1a 64
        foreach (WeightEntry e in weights)
        {
            e.ByteOffset = position;
            hash = Mix(hash, e.Name);
            hash = Mix(hash, ((int)e.ElementType).ToString(System.Globalization.CultureInfo.InvariantCulture));
            hash = Mix(hash, position.ToString(System.Globalization.CultureInfo.InvariantCulture));
            hash = Mix(hash, e.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            position = AlignUp(position + e.ByteLength);
        }

        return new WeightResourcePlan { Name = resourceName, Length = position, Fingerprint = Mix(hash, position.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
    }

    /// <summary>Writes the blob of a <see cref="WeightStorage.Resource"/> plan, producing one entry's data at a time.</summary>
    public static void Write(ModelPlan plan, Stream destination)
    {
        WeightResourcePlan resource = plan.Resource ?? throw new ArgumentException("the plan does not store its weights in a resource", nameof(plan));
        var header = new byte[HeaderSize];
        WriteUInt64(header, 0, Magic);
        WriteUInt64(header, 8, resource.Fingerprint);
        WriteUInt64(header, 16, (ulong)resource.Length);
        destination.Write(header, 0, header.Length);
        long position = HeaderSize;
        var buffer = new byte[1 << 20];
        foreach (WeightEntry e in plan.BlobEntries) // the decoder's entries, then a seq2seq encoder's
        {
            WriteZeros(destination, e.ByteOffset - position, buffer);
            Array data = e.Produce();
            long bytes = e.ByteLength;
            for (long done = 0; done < bytes; done += buffer.Length)
            {
                int chunk = (int)Math.Min(buffer.Length, bytes - done);
                Buffer.BlockCopy(data, checked((int)done), buffer, 0, chunk); // little-endian machine (docs/generator.md)
                destination.Write(buffer, 0, chunk);
            }

            position = e.ByteOffset + bytes;
        }

        WriteZeros(destination, resource.Length - position, buffer);
    }

    private static long AlignUp(long n) => (n + Alignment - 1) / Alignment * Alignment;

    private static void WriteZeros(Stream destination, long count, byte[] buffer)
    {
        Array.Clear(buffer, 0, (int)Math.Min(buffer.Length, Math.Max(count, 0)));
        for (long k = 0; k < count; k += buffer.Length)
        {
            destination.Write(buffer, 0, (int)Math.Min(buffer.Length, count - k));
        }
    }

    private static void WriteUInt64(byte[] b, int at, ulong v)
    {
        for (int k = 0; k < 8; k++)
        {
            b[at + k] = (byte)(v >> (8 * k));
        }
    }

    private static ulong Mix(ulong hash, string s)
    {
        foreach (byte b in Encoding.UTF8.GetBytes(s + "\n"))
        {
            hash = unchecked((hash ^ b) * 1099511628211);
        }

        return hash;
    }
}
