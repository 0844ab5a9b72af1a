using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.IO;
using System.Security;
using System.Text;

namespace RnnEmbedded.Compiler.Formats;

/// <summary>
/// Reads safetensors files (https://github.com/huggingface/safetensors) and converts F32, F16 and BF16 tensors
/// to float32. It enforces every rule of the reference implementation (safetensors' <c>read_metadata</c> and
/// <c>Metadata::validate</c>) and a few more of its own: duplicate keys, extra or missing fields in a tensor
/// entry, empty tensor names, non-finite weights, integer-form shapes and offsets.
/// <para>
/// Tensors come back in data-offset order (begin, then end; ties keep header order). That is the order the
/// reference implementation validates in, and for files written by <see cref="SafeTensorsWriter"/> it is the
/// order the tensors were given. Metadata comes back with keys in ordinal order.
/// </para>
/// </summary>
public static class SafeTensorsReader
{
    /// <summary>Largest header the reference implementation accepts (its MAX_HEADER_SIZE).</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>The key of the free-form string map in the header.</summary>
    public const string MetadataKey = "__metadata__";

    private const string SupportedDTypes = "F32, F16 or BF16";

    // Every dtype the safetensors format defines (tensor.rs Dtype), with its size in bits. Only F32, F16 and BF16
    // are accepted; the rest are known so that the message can say "not supported" rather than "unknown".
    private static readonly Dictionary<string, int> s_knownDTypeBits = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 8,
        ["F4"] = 4,
        ["F6_E2M3"] = 6,
        ["F6_E3M2"] = 6,
        ["U8"] = 8,
        ["I8"] = 8,
        ["F8_E5M2"] = 8,
        ["F8_E4M3"] = 8,
        ["F8_E8M0"] = 8,
        ["I16"] = 16,
        ["U16"] = 16,
        ["F16"] = 16,
        ["BF16"] = 16,
        ["I32"] = 32,
        ["U32"] = 32,
        ["F32"] = 32,
        ["C64"] = 64,
        ["F64"] = 64,
        ["I64"] = 64,
        ["U64"] = 64,
    };

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
#if !RNN_GENERATOR // file I/O: not compiled into the Roslyn generator (RS1035)

    /// <summary>Reads a file; I/O failures are reported as <see cref="RnnFormatException"/> naming <paramref name="path"/>.</summary>
    public static WeightFile ReadFile(string path, SafeTensorsReadOptions? options = null)
    {
        if (path is null)
        {
            throw new ArgumentNullException(nameof(path));
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException
                                   or ArgumentException or SecurityException)
        {
            throw new RnnFormatException(path, null, "cannot read the file: " + e.Message);
        }

        return Read(bytes, path, options);
    }
#endif

    /// <summary>Parses and validates a whole safetensors file held in memory.</summary>
    /// <param name="bytes">The file's content.</param>
    /// <param name="fileName">The name used in error messages.</param>
    /// <param name="options">Null for <see cref="SafeTensorsReadOptions.Default"/>.</param>
    /// <exception cref="RnnFormatException">The file breaks a rule; the message names the file, tensor and rule.</exception>
    public static WeightFile Read(byte[] bytes, string fileName, SafeTensorsReadOptions? options = null) =>
        Read(bytes, fileName, options, declaredDataLength: null);

    /// <summary>
    /// Parses and validates a file's header without its data: <paramref name="prefix"/> is the file's first 8 + N
    /// bytes, <paramref name="dataLength"/> the length of the data section that followed it. Every rule of
    /// <see cref="Read(byte[], string, SafeTensorsReadOptions?)"/> but the data's own (finiteness) is checked; the
    /// tensors come back with their shapes and zero-filled data, which is all a plan needs (the generator plans
    /// this way; the build step read the whole file).
    /// </summary>
    public static WeightFile ReadHeader(byte[] prefix, long dataLength, string fileName) =>
        Read(prefix, fileName, SafeTensorsReadOptions.Default, dataLength);

    /// <summary>The length of the header prefix (8 + N) of a file starting with <paramref name="bytes"/>, or -1 if it cannot be read.</summary>
    public static long HeaderPrefixLength(byte[] bytes)
    {
        if (bytes is null || bytes.Length < 8)
        {
            return -1;
        }

        ulong n = ReadUInt64(bytes, 0);
        return n > MaxHeaderLength || 8L + (long)n > bytes.Length ? -1 : 8L + (long)n;
    }

    private static WeightFile Read(byte[] bytes, string fileName, SafeTensorsReadOptions? options, long? declaredDataLength)
    {
        if (bytes is null)
        {
            throw new ArgumentNullException(nameof(bytes));
        }

        if (fileName is null)
        {
            throw new ArgumentNullException(nameof(fileName));
        }

        options ??= SafeTensorsReadOptions.Default;

        // 1. Header length: 8 bytes, little-endian u64.
        if (bytes.Length < 8)
        {
            throw Fail(fileName, null, $"file is {bytes.Length} bytes; a safetensors file starts with an 8-byte header length");
        }

        ulong headerLength = ReadUInt64(bytes, 0);
        if (headerLength > MaxHeaderLength)
        {
            throw Fail(fileName, null, $"header length {headerLength} exceeds the maximum of {MaxHeaderLength} bytes");
        }

        int n = (int)headerLength;
        if (8L + n > bytes.Length)
        {
            throw Fail(fileName, null, $"header length {n} + 8 exceeds the file length {bytes.Length}");
        }

        // 2. Header text: strict UTF-8, a JSON object.
        string headerText;
        try
        {
            headerText = s_strictUtf8.GetString(bytes, 8, n);
        }
        catch (DecoderFallbackException e)
        {
            int at = e.Index >= 0 ? e.Index : 0;
            throw Fail(fileName, null, $"header is not valid UTF-8 (bad byte at header offset {at})");
        }

        if (headerText.Length == 0 || headerText[0] != '{')
        {
            throw Fail(fileName, null, headerText.Length == 0
                ? "header is empty; expected a JSON object"
                : "header does not start with '{'; expected a JSON object");
        }

        JsonValue root;
        try
        {
            root = Json.Parse(headerText, allowDuplicateKeys: true);
        }
        catch (JsonParseException e)
        {
            throw Fail(fileName, null, $"header is not valid JSON: {e.Reason} at header offset {e.Offset}");
        }

        if (root.Kind != JsonKind.Object)
        {
            throw Fail(fileName, null, $"header is {root.Describe()}; expected a JSON object");
        }

        // 3. Entries: __metadata__ and tensors.
        var seenKeys = new HashSet<string>(StringComparer.Ordinal);
        SortedDictionary<string, string>? metadata = null;
        var entries = new List<Entry>(root.Members.Count);
        foreach (KeyValuePair<string, JsonValue> member in root.Members)
        {
            if (!seenKeys.Add(member.Key))
            {
                throw member.Key == MetadataKey
                    ? Fail(fileName, null, $"duplicate key '{MetadataKey}' in the header; each key may appear once")
                    : Fail(fileName, member.Key, "duplicate tensor name in the header; each key may appear once");
            }

            if (member.Key == MetadataKey)
            {
                metadata = ReadMetadata(fileName, member.Value);
                continue;
            }

            entries.Add(ReadEntry(fileName, member.Key, member.Value, entries.Count));
        }

        // 4. Offsets (reference: Metadata::validate over tensors sorted by data_offsets).
        entries.Sort(CompareByOffsets);
        long position = 0;
        foreach (Entry entry in entries)
        {
            if (entry.Begin != position)
            {
                string relation = entry.Begin > position ? "a gap" : "an overlap";
                throw Fail(fileName, entry.Name,
                    $"data_offsets [{entry.Begin}, {entry.End}] begin at {entry.Begin} but the previous tensor ends at {position} ({relation}); " +
                    "tensors must be contiguous from 0 with no gaps or overlap");
            }

            if (entry.End - entry.Begin != entry.ByteSize)
            {
                throw Fail(fileName, entry.Name,
                    $"data_offsets [{entry.Begin}, {entry.End}] span {entry.End - entry.Begin} bytes but shape {ShapeText(entry.Shape)} " +
                    $"of dtype {entry.DTypeName} needs {entry.ByteSize} bytes");
            }

            position = entry.End;
        }

        long dataLength = declaredDataLength ?? bytes.Length - 8L - n;
        if (position != dataLength)
        {
            throw Fail(fileName, null, position < dataLength
                ? $"the data section is {dataLength} bytes but the tensors cover only {position}; every byte after the header must belong to a tensor"
                : $"the tensors need {position} bytes of data but the file has only {dataLength} after the header");
        }

        // 5. Data: convert to float32, check finiteness.
        long dataStart = 8L + n;
        var tensors = new Tensor[entries.Count];
        for (int i = 0; i < entries.Count; i++)
        {
            Entry entry = entries[i];
            if (declaredDataLength is not null)
            {
                tensors[i] = new Tensor(entry.Name, entry.Shape, new float[entry.ElementCount], entry.DType);
                continue;
            }

            float[] data = Decode(bytes, checked((int)(dataStart + entry.Begin)), (int)entry.ElementCount, entry.DType);
            if (!options.AllowNonFinite)
            {
                CheckFinite(fileName, entry.Name, data);
            }

            tensors[i] = new Tensor(entry.Name, entry.Shape, data, entry.DType);
        }

        IReadOnlyDictionary<string, string> metadataView =
            new ReadOnlyDictionary<string, string>(metadata ?? new SortedDictionary<string, string>(StringComparer.Ordinal));
        return new WeightFile(fileName, Array.AsReadOnly(tensors), metadataView);
    }

    private static SortedDictionary<string, string> ReadMetadata(string fileName, JsonValue value)
    {
        if (value.Kind != JsonKind.Object)
        {
            throw Fail(fileName, null, $"'{MetadataKey}' is {value.Describe()}; expected an object of string values");
        }

        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, JsonValue> member in value.Members)
        {
            if (member.Value.Kind != JsonKind.String)
            {
                throw Fail(fileName, null, $"'{MetadataKey}' value for key {Quote(member.Key)} is {member.Value.Describe()}; metadata values must be strings");
            }

            if (result.ContainsKey(member.Key))
            {
                throw Fail(fileName, null, $"duplicate key {Quote(member.Key)} in '{MetadataKey}'; each key may appear once");
            }

            result.Add(member.Key, member.Value.StringValue);
        }

        return result;
    }

    private static Entry ReadEntry(string fileName, string name, JsonValue value, int headerIndex)
    {
        if (name.Length == 0)
        {
            throw Fail(fileName, null, "a tensor has an empty name; tensor names must be non-empty");
        }

        if (value.Kind != JsonKind.Object)
        {
            throw Fail(fileName, name, $"entry is {value.Describe()}; expected an object with dtype, shape and data_offsets");
        }

        JsonValue? dtype = null;
        JsonValue? shape = null;
        JsonValue? offsets = null;
        foreach (KeyValuePair<string, JsonValue> field in value.Members)
        {
            switch (field.Key)
            {
                case "dtype":
                    dtype = dtype is null ? field.Value : throw DuplicateField(fileName, name, field.Key);
                    break;
                case "shape":
                    shape = shape is null ? field.Value : throw DuplicateField(fileName, name, field.Key);
                    break;
                case "data_offsets":
                    offsets = offsets is null ? field.Value : throw DuplicateField(fileName, name, field.Key);
                    break;
                default:
                    throw Fail(fileName, name, $"unexpected field {Quote(field.Key)}; a tensor entry has exactly dtype, shape and data_offsets");
            }
        }

        if (dtype is null || shape is null || offsets is null)
        {
            string missing = dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets";
            throw Fail(fileName, name, $"missing field '{missing}'; a tensor entry has exactly dtype, shape and data_offsets");
        }

        // dtype
        if (dtype.Kind != JsonKind.String)
        {
            throw Fail(fileName, name, $"dtype is {dtype.Describe()}; expected a string such as \"F32\"");
        }

        string dtypeName = dtype.StringValue;
        TensorDType parsedDType;
        int elementBytes;
        switch (dtypeName)
        {
            case "F32":
                parsedDType = TensorDType.F32;
                elementBytes = 4;
                break;
            case "F16":
                parsedDType = TensorDType.F16;
                elementBytes = 2;
                break;
            case "BF16":
                parsedDType = TensorDType.BF16;
                elementBytes = 2;
                break;
            default:
                throw s_knownDTypeBits.ContainsKey(dtypeName)
                    ? Fail(fileName, name, $"dtype {dtypeName} is not supported; convert to {SupportedDTypes}")
                    : Fail(fileName, name, $"unknown dtype {Quote(dtypeName)}; expected {SupportedDTypes}");
        }

        // shape
        if (shape.Kind != JsonKind.Array)
        {
            throw Fail(fileName, name, $"shape is {shape.Describe()}; expected an array of non-negative integers");
        }

        IReadOnlyList<JsonValue> dims = shape.Items;
        var shapeValues = new long[dims.Count];
        for (int i = 0; i < dims.Count; i++)
        {
            if (!dims[i].TryGetInt64(out long dim) || dim < 0 || dims[i].HasMinusSign)
            {
                throw Fail(fileName, name, $"shape entry {i} is {dims[i].Describe()}; shape entries must be non-negative integers");
            }

            shapeValues[i] = dim;
        }

        // shape × dtype size must not overflow (reference: usize checked_mul → ValidationOverflow).
        ulong elements = 1;
        bool overflow = false;
        foreach (long dim in shapeValues)
        {
            if (!TryMultiply(elements, (ulong)dim, out elements))
            {
                overflow = true;
                break;
            }
        }

        if (overflow || !TryMultiply(elements, (ulong)elementBytes, out ulong byteSize))
        {
            throw Fail(fileName, name, $"shape {ShapeText(shapeValues)} × {elementBytes} bytes per {dtypeName} element overflows 64 bits");
        }

        if (byteSize > long.MaxValue)
        {
            throw Fail(fileName, name, $"shape {ShapeText(shapeValues)} of dtype {dtypeName} needs {byteSize} bytes, more than any file can hold");
        }

        // data_offsets
        if (offsets.Kind != JsonKind.Array || offsets.Items.Count != 2)
        {
            throw Fail(fileName, name, $"data_offsets is {DescribeOffsets(offsets)}; expected [begin, end], two non-negative integers");
        }

        long begin = ReadOffset(fileName, name, offsets.Items[0], "begin");
        long end = ReadOffset(fileName, name, offsets.Items[1], "end");
        if (begin > end)
        {
            throw Fail(fileName, name, $"data_offsets [{begin}, {end}] end before they begin; expected begin <= end");
        }

        // Representable here: int dimensions and at most int.MaxValue elements (a float[]).
        var intShape = new int[shapeValues.Length];
        for (int i = 0; i < shapeValues.Length; i++)
        {
            if (shapeValues[i] > int.MaxValue)
            {
                throw Fail(fileName, name, $"shape entry {i} is {shapeValues[i]}; at most {int.MaxValue} is supported");
            }

            intShape[i] = (int)shapeValues[i];
        }

        if (elements > int.MaxValue)
        {
            throw Fail(fileName, name, $"shape {ShapeText(shapeValues)} has {elements} elements; at most {int.MaxValue} are supported");
        }

        return new Entry(name, headerIndex, parsedDType, dtypeName, intShape, (long)elements, (long)byteSize, begin, end);
    }

    private static long ReadOffset(string fileName, string name, JsonValue value, string which)
    {
        if (!value.TryGetInt64(out long offset) || offset < 0 || value.HasMinusSign)
        {
            throw Fail(fileName, name, $"data_offsets {which} is {value.Describe()}; expected a non-negative integer");
        }

        return offset;
    }

    private static string DescribeOffsets(JsonValue offsets) =>
        offsets.Kind == JsonKind.Array ? $"an array of {offsets.Items.Count} items" : offsets.Describe();

    private static int CompareByOffsets(Entry a, Entry b)
    {
        int c = a.Begin.CompareTo(b.Begin);
        if (c == 0)
        {
            c = a.End.CompareTo(b.End);
        }

        return c != 0 ? c : a.HeaderIndex.CompareTo(b.HeaderIndex);
    }

    private static float[] Decode(byte[] bytes, int start, int count, TensorDType dtype)
    {
        var data = new float[count];
        switch (dtype)
        {
            case TensorDType.F32:
                if (BitConverter.IsLittleEndian)
                {
                    Buffer.BlockCopy(bytes, start, data, 0, count * 4);
                }
                else
                {
                    for (int i = 0; i < count; i++)
                    {
                        data[i] = FloatConversion.BitsToSingle(ReadUInt32(bytes, start + 4 * i));
                    }
                }

                break;
            case TensorDType.F16:
                for (int i = 0; i < count; i++)
                {
                    data[i] = FloatConversion.HalfToSingle(ReadUInt16(bytes, start + 2 * i));
                }

                break;
            case TensorDType.BF16:
                for (int i = 0; i < count; i++)
                {
                    data[i] = FloatConversion.BFloat16ToSingle(ReadUInt16(bytes, start + 2 * i));
                }

                break;
        }

        return data;
    }

    private static void CheckFinite(string fileName, string name, float[] data)
    {
        for (int i = 0; i < data.Length; i++)
        {
            float v = data[i];
            if (float.IsNaN(v) || float.IsInfinity(v))
            {
                string what = float.IsNaN(v) ? "NaN" : v > 0 ? "+Infinity" : "-Infinity";
                throw Fail(fileName, name,
                    $"element {i} is {what}; weights must be finite (SafeTensorsReadOptions.AllowNonFinite accepts them)");
            }
        }
    }

    private static bool TryMultiply(ulong a, ulong b, out ulong product)
    {
        if (a != 0 && b > ulong.MaxValue / a)
        {
            product = 0;
            return false;
        }

        product = a * b;
        return true;
    }

    private static ushort ReadUInt16(byte[] b, int i) => (ushort)(b[i] | (b[i + 1] << 8));

    private static uint ReadUInt32(byte[] b, int i) => (uint)(b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24));

    private static ulong ReadUInt64(byte[] b, int i) => ReadUInt32(b, i) | ((ulong)ReadUInt32(b, i + 4) << 32);

    private static string ShapeText(IReadOnlyList<int> shape)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < shape.Count; i++)
        {
            sb.Append(i == 0 ? "" : ", ").Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }

        return sb.Append(']').ToString();
    }

    private static string ShapeText(long[] shape)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < shape.Length && i < 16; i++)
        {
            sb.Append(i == 0 ? "" : ", ").Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }

        if (shape.Length > 16)
        {
            sb.Append(", ... (").Append(shape.Length).Append(" dimensions)");
        }

        return sb.Append(']').ToString();
    }

    private static string Quote(string s) => Json.Quote(s.Length <= 80 ? s : s.Substring(0, 77) + "...");

    private static RnnFormatException DuplicateField(string fileName, string name, string field) =>
        Fail(fileName, name, $"duplicate field '{field}' in the tensor entry; each key may appear once");

    private static RnnFormatException Fail(string fileName, string? tensorName, string rule)
    {
        if (tensorName is not null && tensorName.Length > 200)
        {
            tensorName = tensorName.Substring(0, 197) + "...";
        }

        return new RnnFormatException(fileName, tensorName, rule);
    }

    private sealed class Entry
    {
        public Entry(string name, int headerIndex, TensorDType dtype, string dtypeName, int[] shape, long elementCount,
            long byteSize, long begin, long end)
        {
            Name = name;
            HeaderIndex = headerIndex;
            DType = dtype;
            DTypeName = dtypeName;
            Shape = shape;
            ElementCount = elementCount;
            ByteSize = byteSize;
            Begin = begin;
            End = end;
        }

        public string Name { get; }

        public int HeaderIndex { get; }

        public TensorDType DType { get; }

        public string DTypeName { get; }

        public int[] Shape { get; }

        public long ElementCount { get; }

        public long ByteSize { get; }

        public long Begin { get; }

        public long End { get; }
    }
}
