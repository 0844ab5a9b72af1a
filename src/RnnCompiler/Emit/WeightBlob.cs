using System.Text;

namespace RnnEmbedded.Compiler.Emit;

/// <summary>
/// Weights embedded as C# string literals: each float is two UTF-16 code units (its little-endian halves),
/// read back at run time with MemoryMarshal.Cast&lt;char, float&gt; — no allocation, no copy. String literals
/// compile about 10× faster than array initializers (docs/generator.md, "Weights: string literals"), but share one user-string heap of 2^24
/// bytes per assembly (CS8103), which is the size limit checked by <see cref="MaxFloats"/>.
/// </summary>
internal static class WeightBlob
{
    /// <summary>2^24 bytes of user strings minus headroom for the app's own strings, in floats (4 bytes each).</summary>
    public const long MaxFloats = (16L * 1024 * 1024 - 512 * 1024) / 4;

    /// <summary>Appends data[start, start + count) as one quoted literal of \uXXXX escapes.</summary>
    public static unsafe void AppendLiteral(StringBuilder sb, float[] data, int start, int count)
    {
        sb.Append('"');
        for (int k = start; k < start + count; k++)
        {
            float f = data[k];
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
}
