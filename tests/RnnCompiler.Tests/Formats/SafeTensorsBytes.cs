using System.Text;
using RnnEmbedded.Compiler.Formats;

namespace RnnEmbedded.Tests.Formats;

/// <summary>Builds safetensors files byte by byte, so tests can break any rule on purpose.</summary>
internal static class SafeTensorsBytes
{
    /// <summary>8-byte LE length of the (space-padded) header, the header, then <paramref name="data"/>.</summary>
    public static byte[] Build(string header, byte[]? data = null, bool pad = true)
    {
        byte[] headerBytes = Encoding.UTF8.GetBytes(header);
        return BuildRaw(headerBytes, data, pad);
    }

    public static byte[] BuildRaw(byte[] headerBytes, byte[]? data = null, bool pad = true)
    {
        data ??= [];
        int padded = pad ? (headerBytes.Length + 7) / 8 * 8 : headerBytes.Length;
        var bytes = new byte[8 + padded + data.Length];
        BitConverter.GetBytes((ulong)padded).CopyTo(bytes, 0);
        headerBytes.CopyTo(bytes, 8);
        for (int i = 8 + headerBytes.Length; i < 8 + padded; i++)
        {
            bytes[i] = (byte)' ';
        }

        data.CopyTo(bytes, 8 + padded);
        return bytes;
    }

    public static byte[] F32(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BitConverter.GetBytes(values[i]).CopyTo(bytes, 4 * i);
        }

        return bytes;
    }

    public static byte[] U16(params ushort[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            bytes[2 * i] = (byte)values[i];
            bytes[2 * i + 1] = (byte)(values[i] >> 8);
        }

        return bytes;
    }

    /// <summary>A one-tensor header: {"name":{"dtype":..,"shape":..,"data_offsets":[b,e]}}.</summary>
    public static string Entry(string name, string dtype, string shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

    public static RnnFormatException ReadFails(byte[] bytes, string fileName = "t.safetensors", SafeTensorsReadOptions? options = null) =>
        Assert.Throws<RnnFormatException>(() => SafeTensorsReader.Read(bytes, fileName, options));
}
