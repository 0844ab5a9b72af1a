using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace RnnEmbedded.Compiler.Formats;

/// <summary>
/// Writes float32 safetensors files the reference implementation accepts: header JSON with
/// <c>__metadata__</c> first (keys in ordinal order) and then the tensors in the given order with contiguous
/// data_offsets from 0, padded with spaces to a multiple of 8 bytes, followed by little-endian F32 data.
/// The same input gives byte-identical output.
/// </summary>
public static class SafeTensorsWriter
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Serializes <paramref name="tensors"/> (as F32) and <paramref name="metadata"/>.</summary>
    /// <exception cref="ArgumentException">
    /// A tensor name is empty, duplicated, "__metadata__" or not valid Unicode; a shape has a negative dimension or
    /// does not match the data length.
    /// </exception>
    public static byte[] Write(IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (tensors is null)
        {
            throw new ArgumentNullException(nameof(tensors));
        }

        var header = new StringBuilder();
        header.Append('{');
        bool first = true;
        if (metadata is not null && metadata.Count > 0)
        {
            var keys = new List<string>(metadata.Keys);
            keys.Sort(StringComparer.Ordinal);
            header.Append('"').Append(SafeTensorsReader.MetadataKey).Append("\":{");
            for (int i = 0; i < keys.Count; i++)
            {
                string? value = metadata[keys[i]];
                if (value is null)
                {
                    throw new ArgumentException($"Metadata key '{keys[i]}' has a null value.", nameof(metadata));
                }

                if (i > 0)
                {
                    header.Append(',');
                }

                AppendString(header, keys[i], nameof(metadata));
                header.Append(':');
                AppendString(header, value, nameof(metadata));
            }

            header.Append('}');
            first = false;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        long offset = 0;
        foreach (Tensor tensor in tensors)
        {
            Validate(tensor, names);
            long size = 4L * tensor.Data.Length;
            if (!first)
            {
                header.Append(',');
            }

            first = false;
            AppendString(header, tensor.Name, nameof(tensors));
            header.Append(":{\"dtype\":\"F32\",\"shape\":[");
            for (int i = 0; i < tensor.Shape.Length; i++)
            {
                if (i > 0)
                {
                    header.Append(',');
                }

                header.Append(tensor.Shape[i].ToString(CultureInfo.InvariantCulture));
            }

            header.Append("],\"data_offsets\":[")
                .Append(offset.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append((offset + size).ToString(CultureInfo.InvariantCulture)).Append("]}");
            offset += size;
        }

        header.Append('}');

        byte[] headerBytes = s_strictUtf8.GetBytes(header.ToString());
        int paddedLength = (headerBytes.Length + 7) / 8 * 8;
        if (paddedLength > SafeTensorsReader.MaxHeaderLength)
        {
            throw new ArgumentException($"The header would be {paddedLength} bytes; safetensors allows at most {SafeTensorsReader.MaxHeaderLength}.");
        }

        long total = 8L + paddedLength + offset;
        if (total > int.MaxValue)
        {
            throw new ArgumentException($"The file would be {total} bytes; at most {int.MaxValue} fit in one array.", nameof(tensors));
        }

        var bytes = new byte[total];
        WriteUInt64(bytes, 0, (ulong)paddedLength);
        Buffer.BlockCopy(headerBytes, 0, bytes, 8, headerBytes.Length);
        for (int i = 8 + headerBytes.Length; i < 8 + paddedLength; i++)
        {
            bytes[i] = (byte)' ';
        }

        int position = 8 + paddedLength;
        foreach (Tensor tensor in tensors)
        {
            float[] data = tensor.Data;
            if (BitConverter.IsLittleEndian)
            {
                Buffer.BlockCopy(data, 0, bytes, position, data.Length * 4);
            }
            else
            {
                for (int i = 0; i < data.Length; i++)
                {
                    uint bits = FloatConversion.SingleToBits(data[i]);
                    int p = position + 4 * i;
                    bytes[p] = (byte)bits;
                    bytes[p + 1] = (byte)(bits >> 8);
                    bytes[p + 2] = (byte)(bits >> 16);
                    bytes[p + 3] = (byte)(bits >> 24);
                }
            }

            position += data.Length * 4;
        }

        return bytes;
    }
#if !RNN_GENERATOR // file I/O: not compiled into the Roslyn generator (RS1035)

    /// <summary>
    /// Writes the file atomically: the bytes go to a temporary file in the same directory, which then replaces
    /// <paramref name="path"/> by rename, so readers never see a half-written file.
    /// </summary>
    public static void WriteFile(string path, IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (path is null)
        {
            throw new ArgumentNullException(nameof(path));
        }

        byte[] bytes = Write(tensors, metadata);
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath) ?? ".";
        string temp = Path.Combine(directory, "." + Path.GetFileName(fullPath) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes, 0, bytes.Length);
                stream.Flush(flushToDisk: true);
            }

            if (File.Exists(fullPath))
            {
                File.Replace(temp, fullPath, destinationBackupFileName: null);
            }
            else
            {
                File.Move(temp, fullPath);
            }
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
#endif

    private static void Validate(Tensor tensor, HashSet<string> names)
    {
        if (tensor is null)
        {
            throw new ArgumentException("The tensor list holds a null tensor.", "tensors");
        }

        if (string.IsNullOrEmpty(tensor.Name))
        {
            throw new ArgumentException("A tensor has an empty name.", "tensors");
        }

        if (tensor.Name == SafeTensorsReader.MetadataKey)
        {
            throw new ArgumentException($"A tensor may not be named '{SafeTensorsReader.MetadataKey}'.", "tensors");
        }

        if (!names.Add(tensor.Name))
        {
            throw new ArgumentException($"Tensor '{tensor.Name}' appears twice.", "tensors");
        }

        if (tensor.Shape is null || tensor.Data is null)
        {
            throw new ArgumentException($"Tensor '{tensor.Name}' has no shape or no data.", "tensors");
        }

        long elements = 1;
        foreach (int dim in tensor.Shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException($"Tensor '{tensor.Name}' has shape {tensor.ShapeText} with a negative dimension.", "tensors");
            }

            elements = Math.Min(elements * dim, (long)int.MaxValue + 1); // clamped: cannot overflow, still != any length
        }

        if (elements != tensor.Data.Length)
        {
            throw new ArgumentException(
                $"Tensor '{tensor.Name}' has shape {tensor.ShapeText} but {tensor.Data.Length} values.", "tensors");
        }
    }

    private static void AppendString(StringBuilder header, string value, string parameter)
    {
        try
        {
            Json.WriteString(header, value);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(e.Message, parameter);
        }
    }

    private static void WriteUInt64(byte[] b, int i, ulong v)
    {
        for (int k = 0; k < 8; k++)
        {
            b[i + k] = (byte)(v >> (8 * k));
        }
    }
}
