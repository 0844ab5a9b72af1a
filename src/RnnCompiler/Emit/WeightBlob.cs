using System.Collections.Generic;
using System.Text;

namespace RnnEmbedded.Compiler.Emit;

/// <summary>
/// Weights embedded as C# string literals: each float is two UTF-16 code units (its little-endian halves),
/// read back at run time with MemoryMarshal.Cast&lt;char, float&gt; — no allocation, no copy. String literals
/// compile about 10× faster than array initializers (docs/generator.md, "Weights: string literals"), but share one user-string heap of 2^24
/// bytes per assembly (CS8103), which is the size limit checked by <see cref="MaxFloats"/>.
/// </summary>
internal sealed class WeightBlob
{
    /// <summary>2^24 bytes of user strings minus headroom for the app's own strings, in floats (4 bytes each).</summary>
    public const long MaxFloats = (16L * 1024 * 1024 - 512 * 1024) / 4;

    private readonly List<Entry> _entries = new();

    public long TotalFloats { get; private set; }

    public IReadOnlyList<Entry> Entries => _entries;

    /// <summary>Adds a named weight array; returns the property name that exposes it.</summary>
    public string Add(string name, float[] data, string comment)
    {
        _entries.Add(new Entry(name, data, comment));
        TotalFloats += data.Length;
        return name;
    }

    public static unsafe void AppendLiteral(StringBuilder sb, float[] data)
    {
        sb.Append('"');
        foreach (float f in data)
        {
            uint bits = *(uint*)&f;
            AppendUnit(sb, (ushort)(bits & 0xFFFF));
            AppendUnit(sb, (ushort)(bits >> 16));
        }

        sb.Append('"');
    }

    private static void AppendUnit(StringBuilder sb, ushort unit)
    {
        const string Hex = "0123456789ABCDEF";
        sb.Append('\\').Append('u')
            .Append(Hex[(unit >> 12) & 0xF]).Append(Hex[(unit >> 8) & 0xF])
            .Append(Hex[(unit >> 4) & 0xF]).Append(Hex[unit & 0xF]);
    }

    public sealed class Entry
    {
        public Entry(string name, float[] data, string comment)
        {
            Name = name;
            Data = data;
            Comment = comment;
        }

        public string Name { get; }

        public float[] Data { get; }

        public string Comment { get; }
    }
}
