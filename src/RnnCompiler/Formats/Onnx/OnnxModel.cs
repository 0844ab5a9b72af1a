using System;
using System.Collections.Generic;

namespace RnnEmbedded.Compiler.Formats.Onnx;

/// <summary>ONNX element types the importer knows by name (TensorProto.DataType).</summary>
public enum OnnxDataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
}

/// <summary>The parts of an ONNX ModelProto the importer reads. Everything else is skipped unread.</summary>
public sealed class OnnxModel
{
    public long IrVersion { get; internal set; }

    /// <summary>Operator set versions by domain ("" is the default ai.onnx domain).</summary>
    public Dictionary<string, long> Opsets { get; } = new(StringComparer.Ordinal);

    public string ProducerName { get; internal set; } = "";

    public string ProducerVersion { get; internal set; } = "";

    public OnnxGraph Graph { get; internal set; } = new();

    /// <summary>True when the model declares local functions (not supported: reported by the importer).</summary>
    public bool HasFunctions { get; internal set; }
}

/// <summary>A GraphProto: nodes in file order, initializers, inputs and outputs.</summary>
public sealed class OnnxGraph
{
    public string Name { get; internal set; } = "";

    public List<OnnxNode> Nodes { get; } = new();

    public List<OnnxTensor> Initializers { get; } = new();

    public List<OnnxValueInfo> Inputs { get; } = new();

    public List<OnnxValueInfo> Outputs { get; } = new();

    /// <summary>True when the graph has sparse initializers (not supported: reported by the importer).</summary>
    public bool HasSparseInitializers { get; internal set; }
}

/// <summary>A NodeProto.</summary>
public sealed class OnnxNode
{
    public string Name { get; internal set; } = "";

    public string OpType { get; internal set; } = "";

    public string Domain { get; internal set; } = "";

    public List<string> Inputs { get; } = new();

    public List<string> Outputs { get; } = new();

    public List<OnnxAttribute> Attributes { get; } = new();

    /// <summary>"node 'name' (LSTM)", or "LSTM node producing 'y'" when the node has no name.</summary>
    public string Describe() =>
        Name.Length > 0 ? $"node '{Name}' ({OpType})"
        : Outputs.Count > 0 ? $"{OpType} node producing '{Outputs[0]}'" : $"{OpType} node";

    public OnnxAttribute? Attribute(string name)
    {
        foreach (OnnxAttribute a in Attributes)
        {
            if (string.Equals(a.Name, name, StringComparison.Ordinal))
            {
                return a;
            }
        }

        return null;
    }
}

/// <summary>AttributeProto.AttributeType.</summary>
public enum OnnxAttributeType
{
    Undefined = 0,
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Graph = 5,
    Floats = 6,
    Ints = 7,
    Strings = 8,
    Tensors = 9,
    Graphs = 10,
    SparseTensor = 11,
    SparseTensors = 12,
    TypeProto = 13,
    TypeProtos = 14,
}

/// <summary>An AttributeProto. Graph-valued attributes are recorded by type only (their graphs are never parsed).</summary>
public sealed class OnnxAttribute
{
    public string Name { get; internal set; } = "";

    public OnnxAttributeType Type { get; internal set; }

    public float F { get; internal set; }

    public long I { get; internal set; }

    public byte[] S { get; internal set; } = Array.Empty<byte>();

    public OnnxTensor? T { get; internal set; }

    public List<float> Floats { get; } = new();

    public List<long> Ints { get; } = new();

    public List<byte[]> Strings { get; } = new();

    /// <summary>True when the attribute holds a subgraph, a sparse tensor, a type or a list of tensors (never supported here).</summary>
    public bool HasUnsupportedValue { get; internal set; }

    /// <summary>The string value decoded as UTF-8 (invalid bytes become U+FFFD).</summary>
    public string StringValue => System.Text.Encoding.UTF8.GetString(S);
}

/// <summary>A TensorProto. The data stays in the file's buffer until <see cref="OnnxReader"/> decodes it.</summary>
public sealed class OnnxTensor
{
    public string Name { get; internal set; } = "";

    public OnnxDataType DataType { get; internal set; }

    public long[] Dims { get; internal set; } = Array.Empty<long>();

    /// <summary>raw_data, or null.</summary>
    public ArraySegment<byte>? Raw { get; internal set; }

    public List<float> FloatData { get; } = new();

    public List<long> Int64Data { get; } = new();

    public List<int> Int32Data { get; } = new();

    public List<double> DoubleData { get; } = new();

    /// <summary>data_location == EXTERNAL: the data lives in another file, named in <see cref="ExternalData"/>.</summary>
    public bool IsExternal { get; internal set; }

    /// <summary>external_data entries (location, offset, length, checksum).</summary>
    public Dictionary<string, string> ExternalData { get; } = new(StringComparer.Ordinal);

    /// <summary>True when the tensor has fields this importer does not read (segment, string/uint64 data).</summary>
    public string? UnsupportedField { get; internal set; }

    /// <summary>Product of the dims, or −1 when it overflows 2^31.</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Dims)
            {
                if (d < 0 || (d > 0 && n > int.MaxValue / d))
                {
                    return -1;
                }

                n *= d;
            }

            return n;
        }
    }

    public string ShapeText => "[" + string.Join(", ", Dims) + "]";
}

/// <summary>A graph input or output: name, element type, and dims (null dim = symbolic or unknown).</summary>
public sealed class OnnxValueInfo
{
    public string Name { get; internal set; } = "";

    /// <summary>False when the type is not a tensor (sequence, map, optional, ...).</summary>
    public bool IsTensor { get; internal set; }

    public OnnxDataType ElementType { get; internal set; }

    /// <summary>Null when the shape is absent (unknown rank).</summary>
    public List<long?>? Dims { get; internal set; }

    /// <summary>Symbolic dims by position ("seq", "batch"), for messages.</summary>
    public List<string?> DimParams { get; } = new();
}
