using System.Text;

namespace RnnEmbedded.Compiler.Emit;

/// <summary>
/// bfloat16 and int8 weights as C# string literals, like <see cref="WeightBlob"/>'s floats: a bfloat16 value is one
/// UTF-16 code unit, two int8 values are one (little-endian: the first in the low byte). Read back in place with
/// <c>MemoryMarshal.Cast&lt;char, ushort&gt;</c> / <c>&lt;char, sbyte&gt;</c>.
/// </summary>
internal static class QuantizedBlob
{
    /// <summary>Appends the bfloat16 bit patterns as one quoted literal of \uXXXX escapes.</summary>
    public static void AppendLiteral(StringBuilder sb, ushort[] data)
    {
        sb.Append('"');
        foreach (ushort unit in data)
        {
            AppendUnit(sb, unit);
        }

        sb.Append('"');
    }

    /// <summary>Appends int8 values, two per code unit; an odd count is padded with a zero byte.</summary>
    public static void AppendLiteral(StringBuilder sb, sbyte[] data)
    {
        sb.Append('"');
        for (int k = 0; k < data.Length; k += 2)
        {
            int lo = (byte)data[k];
            int hi = k + 1 < data.Length ? (byte)data[k + 1] : 0;
            AppendUnit(sb, (ushort)(lo | (hi << 8)));
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
