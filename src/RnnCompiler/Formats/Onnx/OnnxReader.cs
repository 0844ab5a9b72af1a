using System;
using System.Collections.Generic;

namespace RnnEmbedded.Compiler.Formats.Onnx;

/// <summary>
/// Reads the ONNX messages the importer needs (ModelProto → GraphProto → NodeProto → AttributeProto → TensorProto,
/// plus ValueInfoProto → TypeProto → TensorShapeProto) with a hand-written, bounded protobuf reader: nesting is
/// fixed by this code (no recursion; subgraphs in attributes are skipped, never parsed), every length is checked
/// against the bytes that remain, list sizes are capped, and tensor data stays in the file's buffer until
/// <see cref="DecodeFloats"/> checks its size against the dims. Errors are <see cref="RnnFormatException"/>
/// naming the file and the message or tensor at fault. Why not Google.Protobuf: docs/model-format.md.
/// </summary>
public static class OnnxReader
{
    /// <summary>At most this many nodes, initializers, inputs or outputs in the graph.</summary>
    public const int MaxGraphItems = 100_000;

    /// <summary>At most this many attributes per node, inputs/outputs per node, and values per list attribute.</summary>
    public const int MaxNodeItems = 4_096;

    /// <summary>Tensor rank limit.</summary>
    public const int MaxRank = 8;

    /// <summary>Longest name or string accepted.</summary>
    public const int MaxStringLength = 4_096;

    /// <summary>Parses <paramref name="bytes"/> as an ONNX ModelProto.</summary>
    /// <exception cref="RnnFormatException">The bytes are not a well-formed ONNX model within the limits above.</exception>
    public static OnnxModel Read(byte[] bytes, string fileName)
    {
        if (bytes is null)
        {
            throw new ArgumentNullException(nameof(bytes));
        }

        try
        {
            return ReadModel(new ProtoReader(bytes, 0, bytes.Length, "ModelProto"));
        }
        catch (InvalidProtoException e)
        {
            throw new RnnFormatException(fileName, null, "not a well-formed ONNX file: " + e.Message);
        }
    }

    /// <summary>The tensor's values as float32 (FLOAT, FLOAT16, BFLOAT16 or DOUBLE), checked against its dims.</summary>
    /// <exception cref="RnnFormatException">The data is external, of another type, or its size does not match the dims.</exception>
    public static float[] DecodeFloats(OnnxTensor tensor, string fileName, byte[]? externalBytes = null)
    {
        long count = CheckedCount(tensor, fileName);
        int size = tensor.DataType switch
        {
            OnnxDataType.Float => 4,
            OnnxDataType.Float16 or OnnxDataType.BFloat16 => 2,
            OnnxDataType.Double => 8,
            _ => throw new RnnFormatException(fileName, tensor.Name, $"element type {tensor.DataType} is not a floating-point type (FLOAT, FLOAT16, BFLOAT16 or DOUBLE expected)"),
        };
        ArraySegment<byte>? raw = tensor.IsExternal ? externalBytes is null ? null : new ArraySegment<byte>(externalBytes) : tensor.Raw;
        if (tensor.IsExternal && externalBytes is null)
        {
            throw new RnnFormatException(fileName, tensor.Name, "the data is stored in an external file, which is not read here");
        }

        if (raw is { } r)
        {
            if (r.Count != count * size)
            {
                throw new RnnFormatException(fileName, tensor.Name, $"raw data has {r.Count} bytes but shape {tensor.ShapeText} of {tensor.DataType} needs {count * size}");
            }

            var values = new float[count];
            byte[] a = r.Array!;
            int o = r.Offset;
            for (int i = 0; i < values.Length; i++)
            {
                int p = o + i * size;
                values[i] = size switch
                {
                    4 => FloatConversion.BitsToSingle((uint)(a[p] | a[p + 1] << 8 | a[p + 2] << 16 | a[p + 3] << 24)),
                    8 => (float)BitConverter.Int64BitsToDouble((long)((ulong)(uint)(a[p] | a[p + 1] << 8 | a[p + 2] << 16 | a[p + 3] << 24)
                        | (ulong)(uint)(a[p + 4] | a[p + 5] << 8 | a[p + 6] << 16 | a[p + 7] << 24) << 32)),
                    _ => tensor.DataType == OnnxDataType.Float16
                        ? FloatConversion.HalfToSingle((ushort)(a[p] | a[p + 1] << 8))
                        : FloatConversion.BFloat16ToSingle((ushort)(a[p] | a[p + 1] << 8)),
                };
            }

            return values;
        }

        switch (tensor.DataType)
        {
            case OnnxDataType.Float:
                CheckTyped(tensor, fileName, tensor.FloatData.Count, count, "float_data");
                return tensor.FloatData.ToArray();
            case OnnxDataType.Double:
                CheckTyped(tensor, fileName, tensor.DoubleData.Count, count, "double_data");
                return tensor.DoubleData.ConvertAll(d => (float)d).ToArray();
            default:
                // FLOAT16 / BFLOAT16 keep their bits in int32_data.
                CheckTyped(tensor, fileName, tensor.Int32Data.Count, count, "int32_data");
                return tensor.Int32Data.ConvertAll(v => tensor.DataType == OnnxDataType.Float16
                    ? FloatConversion.HalfToSingle((ushort)v) : FloatConversion.BFloat16ToSingle((ushort)v)).ToArray();
        }
    }

    /// <summary>The tensor's values as int64 (INT64 or INT32), checked against its dims.</summary>
    public static long[] DecodeIntegers(OnnxTensor tensor, string fileName)
    {
        long count = CheckedCount(tensor, fileName);
        if (tensor.IsExternal)
        {
            throw new RnnFormatException(fileName, tensor.Name, "an integer tensor stored in an external file is not supported");
        }

        int size = tensor.DataType switch
        {
            OnnxDataType.Int64 => 8,
            OnnxDataType.Int32 => 4,
            _ => throw new RnnFormatException(fileName, tensor.Name, $"element type {tensor.DataType} is not an integer type (INT64 or INT32 expected)"),
        };
        if (tensor.Raw is { } r)
        {
            if (r.Count != count * size)
            {
                throw new RnnFormatException(fileName, tensor.Name, $"raw data has {r.Count} bytes but shape {tensor.ShapeText} of {tensor.DataType} needs {count * size}");
            }

            var values = new long[count];
            byte[] a = r.Array!;
            for (int i = 0; i < values.Length; i++)
            {
                int p = r.Offset + i * size;
                ulong lo = (uint)(a[p] | a[p + 1] << 8 | a[p + 2] << 16 | a[p + 3] << 24);
                values[i] = size == 4 ? (int)lo : (long)(lo | (ulong)(uint)(a[p + 4] | a[p + 5] << 8 | a[p + 6] << 16 | a[p + 7] << 24) << 32);
            }

            return values;
        }

        if (size == 8)
        {
            CheckTyped(tensor, fileName, tensor.Int64Data.Count, count, "int64_data");
            return tensor.Int64Data.ToArray();
        }

        CheckTyped(tensor, fileName, tensor.Int32Data.Count, count, "int32_data");
        return tensor.Int32Data.ConvertAll(v => (long)v).ToArray();
    }

    private static long CheckedCount(OnnxTensor tensor, string fileName)
    {
        if (tensor.UnsupportedField is { } field)
        {
            throw new RnnFormatException(fileName, tensor.Name, $"the tensor uses {field}, which is not supported");
        }

        long count = tensor.ElementCount;
        if (count < 0)
        {
            throw new RnnFormatException(fileName, tensor.Name, $"shape {tensor.ShapeText} has a negative dim or more than 2^31 elements");
        }

        return count;
    }

    private static void CheckTyped(OnnxTensor tensor, string fileName, int have, long count, string field)
    {
        if (have != count)
        {
            throw new RnnFormatException(fileName, tensor.Name, $"{field} has {have} values but shape {tensor.ShapeText} needs {count}");
        }
    }

    // ------------------------------------------------------------------ messages (fixed nesting, no recursion)

    private static OnnxModel ReadModel(ProtoReader r)
    {
        var model = new OnnxModel();
        bool sawGraph = false;
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1:
                    r.Expect(field, wire, ProtoReader.WireVarint);
                    model.IrVersion = r.ReadInt64();
                    break;
                case 2:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    model.ProducerName = r.ReadString(MaxStringLength, "producer_name");
                    break;
                case 3:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    model.ProducerVersion = r.ReadString(MaxStringLength, "producer_version");
                    break;
                case 7:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    if (sawGraph)
                    {
                        throw r.Fail("the model has two graph fields");
                    }

                    sawGraph = true;
                    model.Graph = ReadGraph(r.ReadMessage("GraphProto"));
                    break;
                case 8:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    ReadOpset(r.ReadMessage("OperatorSetIdProto"), model);
                    break;
                case 25:
                    model.HasFunctions = true;
                    r.Skip(wire);
                    break;
                default:
                    r.Skip(wire);
                    break;
            }
        }

        if (!sawGraph)
        {
            throw r.Fail("the model has no graph (field 7)");
        }

        return model;
    }

    private static void ReadOpset(ProtoReader r, OnnxModel model)
    {
        string domain = "";
        long version = 0;
        while (r.Next(out int field, out int wire))
        {
            if (field == 1 && wire == ProtoReader.WireLengthDelimited)
            {
                domain = r.ReadString(MaxStringLength, "opset domain");
            }
            else if (field == 2 && wire == ProtoReader.WireVarint)
            {
                version = r.ReadInt64();
            }
            else
            {
                r.Skip(wire);
            }
        }

        if (model.Opsets.Count >= MaxNodeItems)
        {
            throw r.Fail($"more than {MaxNodeItems} opset imports");
        }

        model.Opsets[domain == "ai.onnx" ? "" : domain] = version;
    }

    private static OnnxGraph ReadGraph(ProtoReader r)
    {
        var graph = new OnnxGraph();
        int items = 0;
        while (r.Next(out int field, out int wire))
        {
            if (field is 1 or 5 or 11 or 12 && ++items > MaxGraphItems)
            {
                throw r.Fail($"the graph has more than {MaxGraphItems} nodes, initializers, inputs and outputs");
            }

            switch (field)
            {
                case 1:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    graph.Nodes.Add(ReadNode(r.ReadMessage($"NodeProto #{graph.Nodes.Count}")));
                    break;
                case 2:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    graph.Name = r.ReadString(MaxStringLength, "graph name");
                    break;
                case 5:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    graph.Initializers.Add(ReadTensor(r.ReadMessage($"initializer #{graph.Initializers.Count}")));
                    break;
                case 11:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    graph.Inputs.Add(ReadValueInfo(r.ReadMessage($"graph input #{graph.Inputs.Count}")));
                    break;
                case 12:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    graph.Outputs.Add(ReadValueInfo(r.ReadMessage($"graph output #{graph.Outputs.Count}")));
                    break;
                case 15:
                    graph.HasSparseInitializers = true;
                    r.Skip(wire);
                    break;
                default:
                    r.Skip(wire); // value_info, doc_string, quantization_annotation: not needed
                    break;
            }
        }

        return graph;
    }

    private static OnnxNode ReadNode(ProtoReader r)
    {
        var node = new OnnxNode();
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1:
                case 2:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    List<string> list = field == 1 ? node.Inputs : node.Outputs;
                    if (list.Count >= MaxNodeItems)
                    {
                        throw r.Fail($"a node has more than {MaxNodeItems} {(field == 1 ? "inputs" : "outputs")}");
                    }

                    list.Add(r.ReadString(MaxStringLength, field == 1 ? "node input name" : "node output name"));
                    break;
                case 3:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    node.Name = r.ReadString(MaxStringLength, "node name");
                    break;
                case 4:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    node.OpType = r.ReadString(MaxStringLength, "op_type");
                    break;
                case 5:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    if (node.Attributes.Count >= MaxNodeItems)
                    {
                        throw r.Fail($"a node has more than {MaxNodeItems} attributes");
                    }

                    node.Attributes.Add(ReadAttribute(r.ReadMessage("AttributeProto")));
                    break;
                case 7:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    node.Domain = r.ReadString(MaxStringLength, "node domain");
                    break;
                default:
                    r.Skip(wire);
                    break;
            }
        }

        return node;
    }

    private static OnnxAttribute ReadAttribute(ProtoReader r)
    {
        var a = new OnnxAttribute();
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    a.Name = r.ReadString(MaxStringLength, "attribute name");
                    break;
                case 20:
                    r.Expect(field, wire, ProtoReader.WireVarint);
                    a.Type = (OnnxAttributeType)r.ReadInt32Checked("attribute type");
                    break;
                case 2:
                    r.Expect(field, wire, ProtoReader.WireFixed32);
                    a.F = r.ReadFloat();
                    break;
                case 3:
                    r.Expect(field, wire, ProtoReader.WireVarint);
                    a.I = r.ReadInt64();
                    break;
                case 4:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    a.S = r.ReadBytes(MaxStringLength, $"attribute '{a.Name}' string");
                    break;
                case 5:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    a.T = ReadTensor(r.ReadMessage($"tensor of attribute '{a.Name}'"));
                    break;
                case 7:
                    ReadRepeatedFloats(ref r, wire, a.Floats, $"attribute '{a.Name}' floats");
                    break;
                case 8:
                    ReadRepeatedVarints(ref r, wire, a.Ints, $"attribute '{a.Name}' ints");
                    break;
                case 9:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    if (a.Strings.Count >= MaxNodeItems)
                    {
                        throw r.Fail($"attribute '{a.Name}' has more than {MaxNodeItems} strings");
                    }

                    a.Strings.Add(r.ReadBytes(MaxStringLength, $"attribute '{a.Name}' string"));
                    break;
                case 6:
                case 10:
                case 11:
                case 14:
                case 15:
                case 22:
                case 23:
                    a.HasUnsupportedValue = true;
                    r.Skip(wire); // subgraphs, tensor lists, sparse tensors, types: never parsed
                    break;
                default:
                    r.Skip(wire);
                    break;
            }
        }

        return a;
    }

    private static OnnxTensor ReadTensor(ProtoReader r)
    {
        var t = new OnnxTensor();
        var dims = new List<long>();
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1:
                    ReadRepeatedVarints(ref r, wire, dims, "tensor dims");
                    if (dims.Count > MaxRank)
                    {
                        throw r.Fail($"tensor rank {dims.Count} exceeds {MaxRank}");
                    }

                    break;
                case 2:
                    r.Expect(field, wire, ProtoReader.WireVarint);
                    t.DataType = (OnnxDataType)r.ReadInt32Checked("data_type");
                    break;
                case 3:
                    t.UnsupportedField = "segment";
                    r.Skip(wire);
                    break;
                case 4:
                    ReadRepeatedFloats(ref r, wire, t.FloatData, "float_data");
                    break;
                case 5:
                    var ints = new List<long>();
                    ReadRepeatedVarints(ref r, wire, ints, "int32_data");
                    foreach (long v in ints)
                    {
                        t.Int32Data.Add(unchecked((int)v));
                    }

                    break;
                case 6:
                    t.UnsupportedField = "string_data";
                    r.Skip(wire);
                    break;
                case 7:
                    ReadRepeatedVarints(ref r, wire, t.Int64Data, "int64_data");
                    break;
                case 8:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    t.Name = r.ReadString(MaxStringLength, "tensor name");
                    break;
                case 9:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    t.Raw = r.ReadSegment();
                    break;
                case 10:
                    ReadRepeatedDoubles(ref r, wire, t.DoubleData, "double_data");
                    break;
                case 11:
                    t.UnsupportedField = "uint64_data";
                    r.Skip(wire);
                    break;
                case 13:
                    r.Expect(field, wire, ProtoReader.WireLengthDelimited);
                    ReadEntry(r.ReadMessage("external_data entry"), t.ExternalData);
                    break;
                case 14:
                    r.Expect(field, wire, ProtoReader.WireVarint);
                    t.IsExternal = r.ReadInt64() == 1;
                    break;
                default:
                    r.Skip(wire);
                    break;
            }
        }

        t.Dims = dims.ToArray();
        return t;
    }

    private static void ReadEntry(ProtoReader r, Dictionary<string, string> entries)
    {
        string key = "";
        string value = "";
        while (r.Next(out int field, out int wire))
        {
            if (field == 1 && wire == ProtoReader.WireLengthDelimited)
            {
                key = r.ReadString(MaxStringLength, "external_data key");
            }
            else if (field == 2 && wire == ProtoReader.WireLengthDelimited)
            {
                value = r.ReadString(MaxStringLength, "external_data value");
            }
            else
            {
                r.Skip(wire);
            }
        }

        if (entries.Count >= 16)
        {
            throw r.Fail("more than 16 external_data entries");
        }

        entries[key] = value;
    }

    private static OnnxValueInfo ReadValueInfo(ProtoReader r)
    {
        var info = new OnnxValueInfo();
        while (r.Next(out int field, out int wire))
        {
            if (field == 1 && wire == ProtoReader.WireLengthDelimited)
            {
                info.Name = r.ReadString(MaxStringLength, "value name");
            }
            else if (field == 2 && wire == ProtoReader.WireLengthDelimited)
            {
                ProtoReader type = r.ReadMessage("TypeProto");
                while (type.Next(out int tf, out int tw))
                {
                    if (tf == 1 && tw == ProtoReader.WireLengthDelimited)
                    {
                        info.IsTensor = true;
                        ReadTensorType(type.ReadMessage("TypeProto.Tensor"), info);
                    }
                    else
                    {
                        type.Skip(tw);
                    }
                }
            }
            else
            {
                r.Skip(wire);
            }
        }

        return info;
    }

    private static void ReadTensorType(ProtoReader r, OnnxValueInfo info)
    {
        while (r.Next(out int field, out int wire))
        {
            if (field == 1 && wire == ProtoReader.WireVarint)
            {
                info.ElementType = (OnnxDataType)r.ReadInt32Checked("elem_type");
            }
            else if (field == 2 && wire == ProtoReader.WireLengthDelimited)
            {
                info.Dims = new List<long?>();
                ProtoReader shape = r.ReadMessage("TensorShapeProto");
                while (shape.Next(out int sf, out int sw))
                {
                    if (sf != 1 || sw != ProtoReader.WireLengthDelimited)
                    {
                        shape.Skip(sw);
                        continue;
                    }

                    if (info.Dims.Count >= MaxRank)
                    {
                        throw shape.Fail($"a value's rank exceeds {MaxRank}");
                    }

                    long? value = null;
                    string? param = null;
                    ProtoReader dim = shape.ReadMessage("Dimension");
                    while (dim.Next(out int df, out int dw))
                    {
                        if (df == 1 && dw == ProtoReader.WireVarint)
                        {
                            value = dim.ReadInt64();
                        }
                        else if (df == 2 && dw == ProtoReader.WireLengthDelimited)
                        {
                            param = dim.ReadString(MaxStringLength, "dim_param");
                        }
                        else
                        {
                            dim.Skip(dw);
                        }
                    }

                    info.Dims.Add(value);
                    info.DimParams.Add(param);
                }
            }
            else
            {
                r.Skip(wire);
            }
        }
    }

    // ------------------------------------------------------------------ repeated scalars (packed or not)

    private static void ReadRepeatedVarints(ref ProtoReader r, int wire, List<long> into, string what)
    {
        if (wire == ProtoReader.WireVarint)
        {
            into.Add(r.ReadInt64());
            return;
        }

        r.Expect(0, wire, ProtoReader.WireLengthDelimited);
        ProtoReader packed = r.ReadMessage(what);
        while (!packed.AtEnd)
        {
            into.Add(packed.ReadInt64());
        }
    }

    private static void ReadRepeatedFloats(ref ProtoReader r, int wire, List<float> into, string what)
    {
        if (wire == ProtoReader.WireFixed32)
        {
            into.Add(r.ReadFloat());
            return;
        }

        r.Expect(0, wire, ProtoReader.WireLengthDelimited);
        ProtoReader packed = r.ReadMessage(what);
        if (packed.Remaining % 4 != 0)
        {
            throw r.Fail($"{what}: packed length {packed.Remaining} is not a multiple of 4");
        }

        into.Capacity = Math.Max(into.Capacity, into.Count + packed.Remaining / 4);
        while (!packed.AtEnd)
        {
            into.Add(packed.ReadFloat());
        }
    }

    private static void ReadRepeatedDoubles(ref ProtoReader r, int wire, List<double> into, string what)
    {
        if (wire == ProtoReader.WireFixed64)
        {
            into.Add(BitConverter.Int64BitsToDouble((long)r.ReadFixed64()));
            return;
        }

        r.Expect(0, wire, ProtoReader.WireLengthDelimited);
        ProtoReader packed = r.ReadMessage(what);
        if (packed.Remaining % 8 != 0)
        {
            throw r.Fail($"{what}: packed length {packed.Remaining} is not a multiple of 8");
        }

        while (!packed.AtEnd)
        {
            into.Add(BitConverter.Int64BitsToDouble((long)packed.ReadFixed64()));
        }
    }
}
