using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Formats.Onnx;

/// <summary>
/// Maps an ONNX graph onto the model spec: [Gather on an embedding | dense input] → LSTM/GRU/RNN nodes (stacked,
/// bidirectional, with or without bias) → optional head MLP (MatMul + Add or Gemm, then Relu/Tanh/Sigmoid, any number), an
/// optional output function (Softmax, LogSoftmax, Sigmoid) and, for dense input, input layers before the recurrent
/// layers (OnnxImporter.Layers.cs), with the glue
/// torch.onnx.export writes (Shape/Gather/Unsqueeze/Concat/Expand shape arithmetic for zero initial states,
/// Transpose/Squeeze/Unsqueeze/Reshape on activations) evaluated symbolically. The result is a weight file with our
/// canonical names and metadata (what <see cref="ModelWriter"/> writes), so <see cref="ModelBuilder.Build"/> checks
/// it like any other and <c>rnn convert</c> writes it as is. Anything outside that subset is an
/// <see cref="RnnFormatException"/> naming the node or tensor and the rule (docs/model-format.md, "ONNX import").
/// </summary>
public static partial class OnnxImporter
{
    /// <summary>Constants folded while evaluating shape arithmetic may hold at most this many elements.</summary>
    public const int MaxFoldedElements = 1 << 16;

    /// <summary>Elements the import may decode, fold and copy per byte of the file (see <see cref="Import(OnnxModel, string, ExternalDataReader?, long)"/>).</summary>
    public const int ElementsPerByte = 2;

    /// <summary>Lowest and highest default-domain opset accepted.</summary>
    public const int MinOpset = 7;

    public const int MaxOpset = 21;

    /// <summary>Reads external tensor data: (tensor, location, offset, length) → the bytes. Null: external data is an error.</summary>
    public delegate byte[] ExternalDataReader(OnnxTensor tensor, string location, long offset, long length);

    /// <summary>Parses <paramref name="bytes"/> and imports the model.</summary>
    public static WeightFile Import(byte[] bytes, string fileName, ExternalDataReader? external = null) =>
        Import(OnnxReader.Read(bytes, fileName), fileName, external, bytes.Length);

    /// <summary>Imports a parsed model as a weight file with canonical names.</summary>
    /// <param name="model">The parsed model.</param>
    /// <param name="fileName">The name used in error messages.</param>
    /// <param name="external">Reads external tensor data; null rejects it.</param>
    /// <param name="sourceLength">The file's length: the elements the import may decode, fold and copy are bounded by
    /// <see cref="ElementsPerByte"/> per byte of it plus <see cref="MaxFoldedElements"/> (external data adds its own length).</param>
    public static WeightFile Import(OnnxModel model, string fileName, ExternalDataReader? external = null, long sourceLength = 0)
    {
        if (model is null)
        {
            throw new ArgumentNullException(nameof(model));
        }

        return new Importer(model, fileName, external, ElementsPerByte * sourceLength + MaxFoldedElements).Run();
    }

    /// <summary>True when the bytes look like an ONNX ModelProto rather than safetensors (first byte: field 1 varint, ir_version).</summary>
    public static bool LooksLikeOnnx(byte[] bytes) => bytes is { Length: > 1 } && bytes[0] == 0x08;

    private enum AxisKind
    {
        Unknown,
        Time,
        Batch,
        Direction,
        Feature,
        One,
    }

    private sealed class Axis
    {
        public Axis(AxisKind kind, long size, int id = 0)
        {
            Kind = kind;
            Size = size;
            Id = id;
        }

        public AxisKind Kind { get; }

        /// <summary>Static size, or −1 when dynamic.</summary>
        public long Size { get; }

        /// <summary>For Unknown axes: the variable bound by the first recurrent node.</summary>
        public int Id { get; }
    }

    private abstract class Value
    {
    }

    /// <summary>A constant tensor (initializer, Constant, or folded shape arithmetic). Uniform ones may have symbolic dims.</summary>
    private sealed class ConstValue : Value
    {
        public required string Name { get; init; }

        public required long[] Shape { get; init; }

        public float[]? Floats { get; init; }

        public long[]? Ints { get; init; }

        /// <summary>Set when every element has this value (then the data may be absent and dims symbolic).</summary>
        public double? Uniform { get; init; }

        public bool IsFloat => Floats is not null || (Ints is null && Uniform is not null && IsFloatUniform);

        public bool IsFloatUniform { get; init; }
    }

    /// <summary>A sequence activation: axes with meaning, at a pipeline stage.</summary>
    private sealed class ActValue : Value
    {
        public required Axis[] Axes { get; init; }

        public required int Stage { get; init; }

        public bool IsTokens { get; init; }
    }

    /// <summary>A recurrent node's final state (Y_h / Y_c): may be a graph output, consumed by nothing else.</summary>
    private sealed class StateValue : Value
    {
        public required string Name { get; init; }
    }

    /// <summary>A shape whose values depend on a dynamic axis: only usable to build zero initial states.</summary>
    private const long DynamicDim = long.MinValue;

    private sealed class Layer
    {
        public required OnnxNode Node { get; init; }

        public required CellKind Cell { get; init; }

        public required int Hidden { get; init; }

        public required int Input { get; init; }

        public required bool Bidirectional { get; init; }

        /// <summary>direction = reverse: the one direction reads the sequence from the end (named '_reverse').</summary>
        public bool Reverse { get; init; }

        public GruForm GruForm { get; init; }

        public ActivationKind Activation { get; init; }

        public bool Cifg { get; init; }

        public bool HasBias { get; init; }

        public bool HasPeepholes { get; init; }

        /// <summary>The node's <c>clip</c> (gate pre-activation bound), or null.</summary>
        public float? Clip { get; init; }

        public required List<Tensor> Tensors { get; init; }
    }

    private sealed partial class Importer
    {
        private readonly OnnxModel _model;
        private readonly string _file;
        private readonly ExternalDataReader? _external;
        private readonly Dictionary<string, Value> _values = new(StringComparer.Ordinal);
        private readonly Dictionary<string, OnnxTensor> _initializers = new(StringComparer.Ordinal);
        private readonly Dictionary<int, AxisKind> _bindings = new();
        private readonly List<Layer> _layers = new();
        private Tensor? _embedding;
        private bool _denseInput;
        private int _stage;
        private long _opset;

        private long _budget;

        public Importer(OnnxModel model, string file, ExternalDataReader? external, long budget)
        {
            _model = model;
            _file = file;
            _external = external;
            _budget = budget;
        }

        /// <summary>
        /// Charges <paramref name="elements"/> decoded, folded or copied elements against the budget, so that a small
        /// hostile file cannot buy a large allocation (a weight shared by a thousand layers, a Concat chain).
        /// </summary>
        private void Spend(string where, long elements)
        {
            _budget -= elements;
            if (_budget < 0)
            {
                throw Error(null, $"{where}: the graph decodes, folds and copies more elements than a file of its size can hold ({ElementsPerByte} per byte + {MaxFoldedElements}); weights must be stored in the file, once per layer");
            }
        }

        public WeightFile Run()
        {
            CheckModel();
            OnnxGraph graph = _model.Graph;
            foreach (OnnxTensor t in graph.Initializers)
            {
                if (t.Name.Length == 0)
                {
                    throw Error(null, $"initializer #{graph.Initializers.IndexOf(t)} has no name");
                }

                if (_initializers.ContainsKey(t.Name))
                {
                    throw Error(t.Name, "two initializers have this name; names must be unique");
                }

                _initializers.Add(t.Name, t);
            }

            BindGraphInput(graph);
            foreach (OnnxNode node in graph.Nodes)
            {
                Evaluate(node);
            }

            return Finish(graph);
        }

        // ------------------------------------------------------------ model and inputs

        private void CheckModel()
        {
            if (_model.HasFunctions)
            {
                throw Error(null, "the model defines local functions; only graphs of standard operators are supported");
            }

            if (_model.Graph.HasSparseInitializers)
            {
                throw Error(null, "the graph has sparse initializers; only dense initializers are supported");
            }

            foreach (KeyValuePair<string, long> opset in _model.Opsets)
            {
                if (opset.Key.Length == 0)
                {
                    _opset = opset.Value;
                }
            }

            if (_opset < MinOpset || _opset > MaxOpset)
            {
                throw Error(null, _opset == 0
                    ? "the model imports no default-domain (ai.onnx) opset"
                    : $"default-domain opset {_opset} is outside the supported {MinOpset}..{MaxOpset}");
            }
        }

        private void BindGraphInput(OnnxGraph graph)
        {
            OnnxValueInfo? input = null;
            foreach (OnnxValueInfo v in graph.Inputs)
            {
                if (_initializers.ContainsKey(v.Name))
                {
                    continue; // IR < 4 lists initializers among the inputs
                }

                if (input is not null)
                {
                    throw Error(v.Name, $"a second graph input (besides '{input.Name}'); the model must take one input, the token ids or the dense features");
                }

                input = v;
            }

            if (input is null)
            {
                throw Error(null, "the graph has no input (besides initializers)");
            }

            if (!input.IsTensor || input.Dims is null)
            {
                throw Error(input.Name, "the graph input must be a tensor with a known rank");
            }

            bool tokens = input.ElementType is OnnxDataType.Int64 or OnnxDataType.Int32;
            if (!tokens && input.ElementType != OnnxDataType.Float)
            {
                throw Error(input.Name, $"the graph input's element type is {input.ElementType}; expected INT64/INT32 token ids or FLOAT features");
            }

            List<long?> dims = input.Dims;
            long Size(int i) => dims[i] ?? -1;
            Axis[] axes;
            if (tokens && dims.Count == 1)
            {
                axes = new[] { new Axis(AxisKind.Time, Size(0)) };
            }
            else if (tokens && dims.Count == 2)
            {
                axes = new[] { new Axis(AxisKind.Unknown, Size(0), 1), new Axis(AxisKind.Unknown, Size(1), 2) };
            }
            else if (!tokens && dims.Count is 2 or 3)
            {
                if (dims[dims.Count - 1] is not > 0)
                {
                    throw Error(input.Name, $"the feature axis (the last) must have a static size, found '{input.DimParams[dims.Count - 1] ?? "?"}': {DynamicRule}");
                }

                axes = dims.Count == 2
                    ? new[] { new Axis(AxisKind.Time, Size(0)), new Axis(AxisKind.Feature, Size(1)) }
                    : new[] { new Axis(AxisKind.Unknown, Size(0), 1), new Axis(AxisKind.Unknown, Size(1), 2), new Axis(AxisKind.Feature, Size(2)) };
                _denseInput = true;
            }
            else
            {
                throw Error(input.Name, $"the graph input has rank {dims.Count}; token ids are (T) or (T, B) / (B, T), dense features (T, F) or (T, B, F) / (B, T, F)");
            }

            _values[input.Name] = new ActValue { Axes = axes, Stage = 0, IsTokens = tokens };
        }

        private const string DynamicRule = "only the sequence and batch axes may be dynamic";

        // ------------------------------------------------------------ node evaluation

        private void Evaluate(OnnxNode node)
        {
            if (node.Domain.Length != 0 && node.Domain != "ai.onnx")
            {
                throw NodeError(node, $"domain '{node.Domain}' is not supported; only standard (ai.onnx) operators are");
            }

            foreach (OnnxAttribute a in node.Attributes)
            {
                if (a.HasUnsupportedValue)
                {
                    throw NodeError(node, $"attribute '{a.Name}' holds a subgraph, tensor list, sparse tensor or type; control flow and such attributes are not supported");
                }
            }

            foreach (string output in node.Outputs)
            {
                if (output.Length != 0 && (_values.ContainsKey(output) || _initializers.ContainsKey(output)))
                {
                    throw NodeError(node, $"output '{output}' is produced twice; a graph assigns each name once");
                }
            }

            if (node.OpType is "Identity" or "Transpose" or "Squeeze" or "Unsqueeze" or "Reshape" or "Concat" or "Slice" or "Gather" or "Cast"
                && node.Inputs.Any(i => i.Length != 0 && _values.TryGetValue(i, out Value? v) && v is StateValue))
            {
                // Glue on final states (h_n, c_n of a stack: torch concatenates the layers'): they stay states.
                for (int i = 0; i < node.Outputs.Count; i++)
                {
                    Set(node, i, new StateValue { Name = node.Outputs[i] });
                }

                return;
            }

            switch (node.OpType)
            {
                case "Constant":
                    Set(node, 0, ConstantOf(node));
                    break;
                case "Identity":
                case "Dropout":
                    Set(node, 0, Input(node, 0));
                    break;
                case "Shape":
                    Set(node, 0, ShapeOf(node));
                    break;
                case "Gather":
                    Gather(node);
                    break;
                case "Unsqueeze":
                    Unsqueeze(node);
                    break;
                case "Squeeze":
                    Squeeze(node);
                    break;
                case "Concat":
                    Concat(node);
                    break;
                case "Cast":
                    Cast(node);
                    break;
                case "Slice":
                    Slice(node);
                    break;
                case "Expand":
                    Expand(node);
                    break;
                case "ConstantOfShape":
                    ConstantOfShape(node);
                    break;
                case "Transpose":
                    Transpose(node);
                    break;
                case "Reshape":
                    Reshape(node);
                    break;
                case "LSTM":
                case "GRU":
                case "RNN":
                    Recurrent(node);
                    break;
                case "MatMul":
                    MatMul(node);
                    break;
                case "Add":
                    Add(node);
                    break;
                case "Gemm":
                    Gemm(node);
                    break;
                case "Relu":
                case "Tanh":
                case "Sigmoid":
                    Activation(node); // OnnxImporter.Layers.cs
                    break;
                case "Softmax":
                case "LogSoftmax":
                    SoftmaxOutput(node);
                    break;
                default:
                    throw NodeError(node, $"operator {node.OpType} is not supported; supported: LSTM, GRU, RNN, Gather (embedding), MatMul/Add/Gemm (dense layers), Relu/Tanh/Sigmoid (their activations), Softmax/LogSoftmax (the output function) and the glue torch.onnx.export writes (Constant, Identity, Dropout, Shape, Gather, Unsqueeze, Squeeze, Concat, Cast, Slice, Expand, ConstantOfShape, Transpose, Reshape)");
            }
        }

        private void Set(OnnxNode node, int index, Value value)
        {
            if (index < node.Outputs.Count && node.Outputs[index].Length != 0)
            {
                _values[node.Outputs[index]] = value;
            }
        }

        private bool HasInput(OnnxNode node, int index) => index < node.Inputs.Count && node.Inputs[index].Length != 0;

        private Value Input(OnnxNode node, int index)
        {
            if (!HasInput(node, index))
            {
                throw NodeError(node, $"input {index} is missing");
            }

            string name = node.Inputs[index];
            if (_values.TryGetValue(name, out Value? v))
            {
                return v;
            }

            if (_initializers.TryGetValue(name, out OnnxTensor? t))
            {
                Value c = FromTensor(t);
                _values[name] = c;
                return c;
            }

            throw NodeError(node, $"input '{name}' is produced by no earlier node, initializer or graph input (nodes must be in topological order)");
        }

        private ConstValue Const(OnnxNode node, int index, string role)
        {
            Value v = Input(node, index);
            return v as ConstValue ?? throw NodeError(node, $"input {index} ('{node.Inputs[index]}', {role}) must be a constant (an initializer or computed from constants and static shapes), but it depends on the model input");
        }

        private ActValue Act(OnnxNode node, int index)
        {
            Value v = Input(node, index);
            if (v is StateValue s)
            {
                throw NodeError(node, $"input '{s.Name}' is a recurrent node's final state (Y_h/Y_c); feeding it to other nodes is not supported");
            }

            return v as ActValue ?? throw NodeError(node, $"input {index} ('{node.Inputs[index]}') must be the model's activations");
        }

        private ConstValue FromTensor(OnnxTensor t)
        {
            long count = t.ElementCount;
            if (count < 0)
            {
                throw Error(t.Name, $"shape {t.ShapeText} has a negative dim or more than 2^31 elements");
            }

            Spend($"tensor '{t.Name}'", count);
            if (t.DataType is OnnxDataType.Int64 or OnnxDataType.Int32)
            {
                return new ConstValue { Name = t.Name, Shape = t.Dims, Ints = OnnxReader.DecodeIntegers(t, _file) };
            }

            byte[]? external = null;
            if (t.IsExternal)
            {
                external = ReadExternal(t, count);
                _budget += 3 * count; // the external file pays for its own elements (decoded once, copied when reordered)
            }

            float[] values = OnnxReader.DecodeFloats(t, _file, external);
            for (int i = 0; i < values.Length; i++)
            {
                if (float.IsNaN(values[i]) || float.IsInfinity(values[i]))
                {
                    // As SafeTensorsReader by default: a converted model must read back (fuzz/RnnFuzz found this).
                    throw Error(t.Name, $"element {i} is {values[i].ToString(CultureInfo.InvariantCulture)}; weights must be finite");
                }
            }

            return new ConstValue { Name = t.Name, Shape = t.Dims, Floats = values };
        }

        private byte[] ReadExternal(OnnxTensor t, long count)
        {
            if (_external is null)
            {
                throw Error(t.Name, "the data is stored in an external file; external data is never read at build time. Convert the model first (rnn convert model.onnx --out model.safetensors) or save it with the weights inside (onnx.save(..., save_as_external_data=False))");
            }

            if (!t.ExternalData.TryGetValue("location", out string? location) || location.Length == 0)
            {
                throw Error(t.Name, "external data without a 'location' entry");
            }

            long offset = ExternalNumber(t, "offset", 0);
            int size = t.DataType switch { OnnxDataType.Float => 4, OnnxDataType.Double => 8, _ => 2 };
            long length = ExternalNumber(t, "length", count * size);
            if (length != count * size)
            {
                throw Error(t.Name, $"external data length {length} does not equal the {count * size} bytes shape {t.ShapeText} of {t.DataType} needs");
            }

            return _external(t, location, offset, length);
        }

        private long ExternalNumber(OnnxTensor t, string key, long fallback)
        {
            if (!t.ExternalData.TryGetValue(key, out string? text))
            {
                return fallback;
            }

            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
            {
                throw Error(t.Name, $"external data '{key}' is '{text}', not a non-negative integer");
            }

            return value;
        }

        private ConstValue ConstantOf(OnnxNode node)
        {
            OnnxAttribute? value = node.Attribute("value");
            if (value?.T is { } t)
            {
                if (t.Name.Length == 0)
                {
                    t.Name = node.Outputs.Count > 0 ? node.Outputs[0] : node.Name;
                }

                return FromTensor(t);
            }

            if (node.Attribute("value_int") is { } vi)
            {
                return new ConstValue { Name = Out(node), Shape = Array.Empty<long>(), Ints = new[] { vi.I } };
            }

            if (node.Attribute("value_ints") is { } vis)
            {
                return new ConstValue { Name = Out(node), Shape = new long[] { vis.Ints.Count }, Ints = vis.Ints.ToArray() };
            }

            if (node.Attribute("value_float") is { } vf)
            {
                return new ConstValue { Name = Out(node), Shape = Array.Empty<long>(), Floats = new[] { vf.F } };
            }

            if (node.Attribute("value_floats") is { } vfs)
            {
                return new ConstValue { Name = Out(node), Shape = new long[] { vfs.Floats.Count }, Floats = vfs.Floats.ToArray() };
            }

            throw NodeError(node, "a Constant needs a 'value', 'value_int(s)' or 'value_float(s)' attribute (sparse and string constants are not supported)");
        }

        private static string Out(OnnxNode node) => node.Outputs.Count > 0 ? node.Outputs[0] : node.Name;

        // ------------------------------------------------------------ shape arithmetic on constants

        private ConstValue ShapeOf(OnnxNode node)
        {
            if (node.Attribute("start") is not null || node.Attribute("end") is not null)
            {
                throw NodeError(node, "Shape's 'start'/'end' attributes are not supported");
            }

            Value v = Input(node, 0);
            long[] dims = v switch
            {
                ActValue a => a.Axes.Select(x => x.Size < 0 ? DynamicDim : x.Size).ToArray(),
                ConstValue c => c.Shape,
                _ => throw NodeError(node, "Shape of a recurrent node's final state is not supported"),
            };
            return new ConstValue { Name = Out(node), Shape = new long[] { dims.Length }, Ints = dims };
        }

        private long[] IntsOf(OnnxNode node, ConstValue c, string role)
        {
            if (c.Ints is { } ints)
            {
                return ints;
            }

            if (c.Uniform is { } u && !c.IsFloatUniform && c.Shape.All(d => d >= 0))
            {
                long n = Count(node, c.Shape);
                Spend(node.Describe(), n);
                return Enumerable.Repeat((long)u, (int)n).ToArray();
            }

            throw NodeError(node, $"{role} '{c.Name}' must be an integer constant");
        }

        private long Count(OnnxNode node, long[] shape)
        {
            long n = 1;
            foreach (long d in shape)
            {
                if (d < 0)
                {
                    throw NodeError(node, $"a constant's shape [{string.Join(", ", shape.Select(DimText))}] has a dynamic or negative dim: {DynamicRule}, and only where a zero initial state is built from them");
                }

                n *= d;
                if (n > MaxFoldedElements)
                {
                    throw NodeError(node, $"folding constants of shape [{string.Join(", ", shape)}] would exceed {MaxFoldedElements} elements");
                }
            }

            return n;
        }

        private static string DimText(long d) => d == DynamicDim ? "dynamic" : d.ToString(CultureInfo.InvariantCulture);

        private float[] FloatsOf(OnnxNode node, ConstValue c)
        {
            if (c.Floats is { } f)
            {
                return f;
            }

            long n = Count(node, c.Shape);
            Spend(node.Describe(), n);
            if (c.Ints is { } ints)
            {
                return ints.Select(i => (float)i).ToArray();
            }

            return Enumerable.Repeat((float)(c.Uniform ?? 0), (int)n).ToArray();
        }

        private List<long> Axes(OnnxNode node, int inputIndex, string name)
        {
            if (node.Attribute(name) is { } attr)
            {
                return attr.Ints.ToList();
            }

            if (HasInput(node, inputIndex))
            {
                return IntsOf(node, Const(node, inputIndex, name), name).ToList();
            }

            return new List<long>();
        }

        private static int Normalize(OnnxNode node, long axis, int rank, Importer self)
        {
            long a = axis < 0 ? axis + rank : axis;
            if (a < 0 || a >= rank)
            {
                throw self.NodeError(node, $"axis {axis} is out of range for rank {rank}");
            }

            return (int)a;
        }

        private void Gather(OnnxNode node)
        {
            Value data = Input(node, 0);
            Value indices = Input(node, 1);
            long axisAttr = node.Attribute("axis")?.I ?? 0;
            if (data is ConstValue c && indices is ActValue tokens && tokens.IsTokens)
            {
                // The embedding lookup.
                if (axisAttr != 0 || c.Shape.Length != 2 || c.Floats is null)
                {
                    throw NodeError(node, $"an embedding lookup must gather rows (axis 0) of a 2-D float matrix; '{c.Name}' has shape [{string.Join(", ", c.Shape)}] and axis is {axisAttr}");
                }

                if (_embedding is not null || tokens.Stage != 0)
                {
                    throw NodeError(node, "a second embedding lookup; the model has one embedding");
                }

                _embedding = new Tensor(ModelWriter.EmbeddingModule + ".weight", new[] { (int)c.Shape[0], (int)c.Shape[1] }, c.Floats);
                var axes = tokens.Axes.Concat(new[] { new Axis(AxisKind.Feature, c.Shape[1]) }).ToArray();
                _stage = 1;
                Set(node, 0, new ActValue { Axes = axes, Stage = _stage });
                return;
            }

            if (data is ConstValue shape && indices is ConstValue index)
            {
                long[] values = IntsOf(node, shape, "data");
                long[] idx = IntsOf(node, index, "indices");
                if (shape.Shape.Length != 1 || axisAttr != 0)
                {
                    throw NodeError(node, "Gather on constants is supported for 1-D integer shapes only");
                }

                Spend(node.Describe(), idx.Length);
                var result = new long[idx.Length];
                for (int i = 0; i < idx.Length; i++)
                {
                    result[i] = values[Normalize(node, idx[i], values.Length, this)];
                }

                Set(node, 0, new ConstValue { Name = Out(node), Shape = index.Shape, Ints = result });
                return;
            }

            throw NodeError(node, "Gather is supported as the embedding lookup (a float matrix indexed by the token ids) and on constant shapes; selecting steps or features of the activations is not");
        }

        private void Unsqueeze(OnnxNode node)
        {
            Value v = Input(node, 0);
            List<long> axes = Axes(node, 1, "axes");
            if (axes.Count == 0)
            {
                throw NodeError(node, "Unsqueeze needs axes");
            }

            int rank = Rank(node, v) + axes.Count;
            var positions = new SortedSet<int>(axes.Select(a => Normalize(node, a, rank, this)));
            if (positions.Count != axes.Count)
            {
                throw NodeError(node, "Unsqueeze repeats an axis");
            }

            switch (v)
            {
                case ConstValue c:
                    var shape = new List<long>(c.Shape);
                    foreach (int p in positions)
                    {
                        shape.Insert(p, 1);
                    }

                    Set(node, 0, Reshaped(c, shape.ToArray(), Out(node)));
                    break;
                case ActValue a:
                    var list = new List<Axis>(a.Axes);
                    foreach (int p in positions)
                    {
                        list.Insert(p, new Axis(AxisKind.One, 1));
                    }

                    Set(node, 0, new ActValue { Axes = list.ToArray(), Stage = a.Stage, IsTokens = a.IsTokens });
                    break;
                case StateValue s:
                    Set(node, 0, s);
                    break;
            }
        }

        private int Rank(OnnxNode node, Value v) => v switch
        {
            ConstValue c => c.Shape.Length,
            ActValue a => a.Axes.Length,
            _ => throw NodeError(node, "a recurrent node's final state (Y_h/Y_c) is only allowed as a graph output"),
        };

        private static ConstValue Reshaped(ConstValue c, long[] shape, string name) => new()
        {
            Name = name,
            Shape = shape,
            Floats = c.Floats,
            Ints = c.Ints,
            Uniform = c.Uniform,
            IsFloatUniform = c.IsFloatUniform,
        };

        private void Squeeze(OnnxNode node)
        {
            Value v = Input(node, 0);
            if (v is StateValue s)
            {
                Set(node, 0, s);
                return;
            }

            int rank = Rank(node, v);
            List<long> axesList = Axes(node, 1, "axes");
            HashSet<int> remove = new(axesList.Select(a => Normalize(node, a, rank, this)));
            if (v is ConstValue c)
            {
                if (remove.Count == 0)
                {
                    remove = new HashSet<int>(Enumerable.Range(0, rank).Where(i => c.Shape[i] == 1));
                }

                foreach (int i in remove)
                {
                    if (c.Shape[i] != 1)
                    {
                        throw NodeError(node, $"Squeeze of axis {i} of size {DimText(c.Shape[i])}");
                    }
                }

                Set(node, 0, Reshaped(c, c.Shape.Where((_, i) => !remove.Contains(i)).ToArray(), Out(node)));
                return;
            }

            var a = (ActValue)v;
            if (remove.Count == 0)
            {
                remove = new HashSet<int>(Enumerable.Range(0, rank).Where(i => IsUnit(a.Axes[i])));
            }

            foreach (int i in remove)
            {
                if (!IsUnit(a.Axes[i]))
                {
                    throw NodeError(node, $"Squeeze removes axis {i}, the {Describe(a.Axes[i])} axis; only size-1 axes (batch, one direction, inserted ones) can be removed");
                }
            }

            Set(node, 0, new ActValue { Axes = a.Axes.Where((_, i) => !remove.Contains(i)).ToArray(), Stage = a.Stage, IsTokens = a.IsTokens });
        }

        private bool IsUnit(Axis axis) => Kind(axis) switch
        {
            AxisKind.One => true,
            AxisKind.Batch => axis.Size is 1 or -1,
            AxisKind.Direction => axis.Size == 1,
            _ => false,
        };

        private AxisKind Kind(Axis axis) =>
            axis.Kind == AxisKind.Unknown && _bindings.TryGetValue(axis.Id, out AxisKind bound) ? bound : axis.Kind;

        private string Describe(Axis axis) => Kind(axis) switch
        {
            AxisKind.Time => "sequence",
            AxisKind.Batch => "batch",
            AxisKind.Direction => $"direction (size {axis.Size})",
            AxisKind.Feature => $"feature (size {axis.Size})",
            AxisKind.One => "inserted size-1",
            _ => $"sequence-or-batch (size {DimText(axis.Size < 0 ? DynamicDim : axis.Size)})",
        };

        private void Concat(OnnxNode node)
        {
            var parts = new List<ConstValue>();
            for (int i = 0; i < node.Inputs.Count; i++)
            {
                if (Input(node, i) is not ConstValue c)
                {
                    throw NodeError(node, $"Concat of activations (input '{node.Inputs[i]}') is not supported; it is supported on constant shapes");
                }

                parts.Add(c);
            }

            if (parts.Count == 0 || parts.Any(p => p.Shape.Length != 1))
            {
                throw NodeError(node, "Concat is supported on 1-D integer constants (shapes) only");
            }

            var values = new List<long>();
            foreach (ConstValue p in parts)
            {
                long[] part = IntsOf(node, p, "input");
                Spend(node.Describe(), part.Length);
                values.AddRange(part);
            }

            Set(node, 0, new ConstValue { Name = Out(node), Shape = new long[] { values.Count }, Ints = values.ToArray() });
        }

        private void Cast(OnnxNode node)
        {
            Value v = Input(node, 0);
            long to = node.Attribute("to")?.I ?? 0;
            if (v is ConstValue c)
            {
                bool toFloat = to is (long)OnnxDataType.Float or (long)OnnxDataType.Double or (long)OnnxDataType.Float16;
                bool toInt = to is (long)OnnxDataType.Int64 or (long)OnnxDataType.Int32;
                if (!toFloat && !toInt)
                {
                    throw NodeError(node, $"Cast to element type {to} is not supported (float or integer constants only)");
                }

                if (c.Ints is null && c.Floats is null)
                {
                    Set(node, 0, new ConstValue { Name = Out(node), Shape = c.Shape, Uniform = c.Uniform, IsFloatUniform = toFloat });
                }
                else if (toFloat)
                {
                    Set(node, 0, new ConstValue { Name = Out(node), Shape = c.Shape, Floats = FloatsOf(node, c) });
                }
                else
                {
                    Set(node, 0, new ConstValue { Name = Out(node), Shape = c.Shape, Ints = c.Ints ?? c.Floats!.Select(f => (long)f).ToArray() });
                }

                return;
            }

            throw NodeError(node, "Cast of the activations is not supported");
        }

        private void Slice(OnnxNode node)
        {
            if (Input(node, 0) is not ConstValue c)
            {
                throw NodeError(node, "Slice of the activations is not supported (selecting steps or features would change what each step outputs); it is supported on constants");
            }

            List<long> starts = Axes(node, 1, "starts");
            List<long> ends = Axes(node, 2, "ends");
            List<long> axes = Axes(node, 3, "axes");
            List<long> steps = Axes(node, 4, "steps");
            int rank = c.Shape.Length;
            if (axes.Count == 0)
            {
                axes = Enumerable.Range(0, starts.Count).Select(i => (long)i).ToList();
            }

            if (starts.Count != ends.Count || starts.Count != axes.Count || (steps.Count > 0 && steps.Count != starts.Count) || steps.Any(x => x != 1))
            {
                throw NodeError(node, "Slice needs as many starts, ends and axes, and step 1");
            }

            long[] shape = (long[])c.Shape.Clone();
            long begin = 0;
            long finish = 0;
            for (int i = 0; i < axes.Count; i++)
            {
                int axis = Normalize(node, axes[i], rank, this);
                long n = shape[axis];
                if (n == DynamicDim)
                {
                    continue; // a dynamic dim stays dynamic
                }

                long Clamp(long x) => Math.Max(0, Math.Min(n, x < 0 ? x + n : x));
                begin = Clamp(starts[i]);
                finish = Math.Max(begin, Clamp(ends[i]));
                shape[axis] = finish - begin;
            }

            if (c.Floats is null && c.Ints is null)
            {
                Set(node, 0, new ConstValue { Name = Out(node), Shape = shape, Uniform = c.Uniform, IsFloatUniform = c.IsFloatUniform });
                return;
            }

            if (rank != 1)
            {
                throw NodeError(node, "Slice of constant data is supported for 1-D shapes and for constants whose elements are all equal");
            }

            long[] values = IntsOf(node, c, "data");
            Spend(node.Describe(), finish - begin);
            Set(node, 0, new ConstValue { Name = Out(node), Shape = shape, Ints = values.Skip((int)begin).Take((int)(finish - begin)).ToArray() });
        }

        private void Expand(OnnxNode node)
        {
            if (Input(node, 0) is not ConstValue c)
            {
                throw NodeError(node, "Expand of the activations is not supported (it is supported to build zero initial states)");
            }

            long[] shape = IntsOf(node, Const(node, 1, "shape"), "shape");
            double? uniform = UniformOf(node, c);
            if (uniform is null)
            {
                throw NodeError(node, $"Expand is supported on constants whose elements are all equal (zero initial states); '{c.Name}' is not");
            }

            Set(node, 0, new ConstValue { Name = Out(node), Shape = shape, Uniform = uniform, IsFloatUniform = c.Floats is not null || c.IsFloatUniform });
        }

        private double? UniformOf(OnnxNode node, ConstValue c)
        {
            if (c.Floats is null && c.Ints is null)
            {
                return c.Uniform;
            }

            if (c.Floats is { } f)
            {
                return f.Length > 0 && f.All(x => x.Equals(f[0])) ? f[0] : null;
            }

            long[] ints = c.Ints!;
            _ = node;
            return ints.Length > 0 && ints.All(x => x == ints[0]) ? ints[0] : null;
        }

        private void ConstantOfShape(OnnxNode node)
        {
            long[] shape = IntsOf(node, Const(node, 0, "shape"), "shape");
            double value = 0;
            bool isFloat = true;
            if (node.Attribute("value")?.T is { } t)
            {
                if (t.ElementCount != 1)
                {
                    throw NodeError(node, "ConstantOfShape's value must hold one element");
                }

                if (t.DataType is OnnxDataType.Int64 or OnnxDataType.Int32)
                {
                    value = OnnxReader.DecodeIntegers(t, _file)[0];
                    isFloat = false;
                }
                else
                {
                    value = OnnxReader.DecodeFloats(t, _file)[0];
                }
            }

            Set(node, 0, new ConstValue { Name = Out(node), Shape = shape, Uniform = value, IsFloatUniform = isFloat });
        }

        // ------------------------------------------------------------ glue on activations

        private void Transpose(OnnxNode node)
        {
            Value v = Input(node, 0);
            int rank = Rank(node, v);
            long[] perm = node.Attribute("perm")?.Ints.ToArray() ?? Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
            if (perm.Length != rank || perm.Distinct().Count() != rank || perm.Any(p => p < 0 || p >= rank))
            {
                throw NodeError(node, $"perm [{string.Join(", ", perm)}] is not a permutation of 0..{rank - 1}");
            }

            switch (v)
            {
                case ActValue a:
                    Set(node, 0, new ActValue { Axes = perm.Select(p => a.Axes[p]).ToArray(), Stage = a.Stage, IsTokens = a.IsTokens });
                    break;
                case ConstValue c when c.Floats is null && c.Ints is null:
                    Set(node, 0, Reshaped(c, perm.Select(p => c.Shape[p]).ToArray(), Out(node)));
                    break;
                case ConstValue c:
                    Set(node, 0, TransposeConst(node, c, perm));
                    break;
            }
        }

        private ConstValue TransposeConst(OnnxNode node, ConstValue c, long[] perm)
        {
            if (c.Shape.Length != 2)
            {
                throw NodeError(node, "Transpose of constants is supported for matrices only");
            }

            if (perm[0] == 0)
            {
                return Reshaped(c, c.Shape, Out(node));
            }

            float[] f = FloatsOf(node, c);
            Spend(node.Describe(), f.Length);
            int rows = (int)c.Shape[0];
            int cols = (int)c.Shape[1];
            var result = new float[f.Length];
            for (int r = 0; r < rows; r++)
            {
                for (int k = 0; k < cols; k++)
                {
                    result[k * rows + r] = f[r * cols + k];
                }
            }

            return new ConstValue { Name = Out(node), Shape = new long[] { cols, rows }, Floats = result };
        }

        private void Reshape(OnnxNode node)
        {
            Value v = Input(node, 0);
            long[] target = IntsOf(node, Const(node, 1, "shape"), "shape");
            bool allowZero = (node.Attribute("allowzero")?.I ?? 0) != 0;
            if (v is StateValue s)
            {
                Set(node, 0, s);
                return;
            }

            if (v is ConstValue c)
            {
                long n = Count(node, c.Shape);
                long[] shape = ResolveShape(node, c.Shape, target, allowZero, n);
                Set(node, 0, Reshaped(c, shape, Out(node)));
                return;
            }

            var a = (ActValue)v;

            // Concrete stand-ins: a dynamic sequence axis gets a size no other axis has, a dynamic batch axis size 1.
            const long DynamicTime = 1_000_003;
            long[] sizes = a.Axes.Select(x => x.Size >= 0 ? x.Size : Kind(x) == AxisKind.Batch ? 1 : DynamicTime).ToArray();
            long total = 1;
            foreach (long size in sizes)
            {
                total = Multiply(node, total, Math.Max(size, 1));
            }

            long[] result = ResolveShape(node, sizes, target, allowZero, total);
            var output = new List<Axis>();
            int p = 0;
            foreach (long d in result)
            {
                var group = new List<Axis>();
                long product = 1;
                if (d == 1 && (p >= sizes.Length || sizes[p] != 1))
                {
                    output.Add(new Axis(AxisKind.One, 1));
                    continue;
                }

                while (p < sizes.Length && (product < d || group.Count == 0))
                {
                    product = Multiply(node, product, sizes[p]);
                    group.Add(a.Axes[p]);
                    p++;
                }

                if (product != d)
                {
                    throw NodeError(node, $"Reshape to [{string.Join(", ", target)}] splits an axis of the activations; only merging the direction axis into the features (and adding or removing size-1 axes) is supported");
                }

                output.Add(Merge(node, group, target));
            }

            while (p < sizes.Length && sizes[p] == 1 && IsUnit(a.Axes[p]))
            {
                p++;
            }

            if (p != sizes.Length)
            {
                throw NodeError(node, $"Reshape to [{string.Join(", ", target)}] does not keep every axis of the activations");
            }

            Set(node, 0, new ActValue { Axes = output.ToArray(), Stage = a.Stage, IsTokens = a.IsTokens });
        }

        /// <summary>a × b for shape arithmetic; an error (not an overflow) when the product passes 2^40.</summary>
        private long Multiply(OnnxNode node, long a, long b)
        {
            if (a < 0 || b < 0 || (b != 0 && a > (1L << 40) / b))
            {
                throw NodeError(node, $"a shape's element count ({a} × {b}) is negative or larger than 2^40");
            }

            return a * b;
        }

        private Axis Merge(OnnxNode node, List<Axis> group, long[] target)
        {
            var real = group.Where(x => !IsUnit(x)).ToList();
            if (real.Count == 0)
            {
                return group[group.Count - 1];
            }

            if (real.Count == 1)
            {
                return real[0];
            }

            if (real.Count == 2 && Kind(real[0]) == AxisKind.Direction && Kind(real[1]) == AxisKind.Feature)
            {
                // (directions, H) → 2H, forward first: what PyTorch's bidirectional output is.
                return new Axis(AxisKind.Feature, real[0].Size * real[1].Size);
            }

            throw NodeError(node, $"Reshape to [{string.Join(", ", target)}] merges the {string.Join(" and ", real.Select(Describe))} axes; only the direction axis followed by the feature axis may be merged");
        }

        private long[] ResolveShape(OnnxNode node, long[] input, long[] target, bool allowZero, long total)
        {
            var result = new long[target.Length];
            int inferred = -1;
            long known = 1;
            for (int i = 0; i < target.Length; i++)
            {
                long d = target[i];
                if (d == 0 && !allowZero)
                {
                    if (i >= input.Length)
                    {
                        throw NodeError(node, $"Reshape's shape copies dim {i} (0) but the input has rank {input.Length}");
                    }

                    d = input[i];
                }

                if (d == -1)
                {
                    if (inferred >= 0)
                    {
                        throw NodeError(node, "Reshape's shape has more than one -1");
                    }

                    inferred = i;
                    continue;
                }

                if (d < 0)
                {
                    throw NodeError(node, $"Reshape's shape has dim {DimText(d)}: {DynamicRule}");
                }

                result[i] = d;
                known = Multiply(node, known, Math.Max(d, 1));
            }

            if (inferred >= 0)
            {
                if (known == 0 || total % known != 0)
                {
                    throw NodeError(node, $"Reshape's shape [{string.Join(", ", target)}] does not divide the input's {total} elements");
                }

                result[inferred] = total / known;
            }
            else if (known != total)
            {
                throw NodeError(node, $"Reshape's shape [{string.Join(", ", target)}] holds {known} elements, the input {total}");
            }

            return result;
        }

        // ------------------------------------------------------------ the recurrent layers

        private void Recurrent(OnnxNode node)
        {
            CellKind cell = node.OpType switch { "LSTM" => CellKind.Lstm, "GRU" => CellKind.Gru, _ => CellKind.Rnn };
            ActValue x = Act(node, 0);
            if (x.IsTokens)
            {
                throw NodeError(node, "reads the token ids directly; token models need an embedding lookup (Gather) first");
            }

            if (HasHeadLayers || _outputNode is not null)
            {
                throw NodeError(node, "a recurrent layer after a dense head layer or the output function is not supported: the recurrent layers form one stack between the input layers and the head");
            }

            if (x.Stage != _stage)
            {
                throw NodeError(node, $"input '{node.Inputs[0]}' is not the output of the previous layer: the layers must form one chain");
            }

            foreach (OnnxAttribute a in node.Attributes)
            {
                if (a.Name is not ("direction" or "hidden_size" or "layout" or "linear_before_reset" or "input_forget" or "clip" or "activations" or "activation_alpha" or "activation_beta"))
                {
                    throw NodeError(node, $"unknown attribute '{a.Name}'");
                }
            }

            string direction = node.Attribute("direction")?.StringValue ?? "forward";
            if (direction is not ("forward" or "reverse" or "bidirectional"))
            {
                throw NodeError(node, $"direction '{direction}' is not one of forward, reverse, bidirectional");
            }

            bool bidirectional = direction == "bidirectional";
            bool reverse = direction == "reverse"; // one direction, from the last step to the first: '_reverse' tensors alone
            int dirs = bidirectional ? 2 : 1;
            long layout = node.Attribute("layout")?.I ?? 0;
            if (layout is not (0 or 1))
            {
                throw NodeError(node, $"layout {layout} is not 0 (sequence first) or 1 (batch first)");
            }

            if (layout == 1 && _opset < 14)
            {
                throw NodeError(node, $"attribute 'layout' exists from opset 14, but the model imports opset {_opset}");
            }

            if (node.Attribute("activation_alpha") is not null || node.Attribute("activation_beta") is not null)
            {
                throw NodeError(node, "attributes 'activation_alpha'/'activation_beta' are not supported (they parameterize activations other than the defaults)");
            }

            ActivationKind activation = CheckActivations(node, cell, dirs);
            float? clipBound = node.Attribute("clip") is { } clip ? ClipBound(node, clip.F) : null; // OnnxImporter.Clip.cs

            bool cifg = false;
            if (node.Attribute("input_forget") is { } inputForget)
            {
                if (cell != CellKind.Lstm || inputForget.I is not (0 or 1))
                {
                    throw NodeError(node, $"attribute 'input_forget' = {inputForget.I}: only LSTM has it, and it is 0 or 1");
                }

                cifg = inputForget.I == 1;
            }

            GruForm form = GruForm.ResetBefore;
            if (node.Attribute("linear_before_reset") is { } lbr)
            {
                if (cell != CellKind.Gru || lbr.I is not (0 or 1))
                {
                    throw NodeError(node, $"attribute 'linear_before_reset' = {lbr.I}: only GRU has it, and it is 0 or 1");
                }

                form = lbr.I == 1 ? GruForm.ResetAfter : GruForm.ResetBefore;
            }

            // X: (T, B, In) with layout 0, (B, T, In) with layout 1.
            if (x.Axes.Length != 3 || Kind(x.Axes[2]) != AxisKind.Feature)
            {
                throw NodeError(node, $"input '{node.Inputs[0]}' must be 3-D ({(layout == 0 ? "sequence, batch" : "batch, sequence")}, features), found axes [{string.Join(", ", x.Axes.Select(Describe))}]");
            }

            Bind(node, x.Axes[layout == 0 ? 0 : 1], AxisKind.Time);
            Bind(node, x.Axes[layout == 0 ? 1 : 0], AxisKind.Batch);
            int input = (int)x.Axes[2].Size;

            int gates = cell switch { CellKind.Lstm => 4, CellKind.Gru => 3, _ => 1 };
            ConstValue w = Const(node, 1, "W");
            ConstValue r = Const(node, 2, "R");
            if (r.Shape.Length != 3 || r.Shape[0] != dirs || r.Shape[2] <= 0 || r.Shape[1] != gates * r.Shape[2])
            {
                throw Error(r.Name, $"R of {node.Describe()} has shape [{string.Join(", ", r.Shape)}], expected [{dirs}, {gates}·H, H] (num_directions {dirs})");
            }

            int hidden = (int)r.Shape[2];
            if (node.Attribute("hidden_size") is { } hs && hs.I != hidden)
            {
                throw NodeError(node, $"attribute 'hidden_size' = {hs.I} but R's shape [{string.Join(", ", r.Shape)}] says H = {hidden}");
            }

            if (w.Shape.Length != 3 || w.Shape[0] != dirs || w.Shape[1] != gates * hidden || w.Shape[2] != input)
            {
                throw Error(w.Name, $"W of {node.Describe()} has shape [{string.Join(", ", w.Shape)}], expected [{dirs}, {gates * hidden}, {input}] (the input has {input} features)");
            }

            ConstValue? b = HasInput(node, 3) ? Const(node, 3, "B") : null;
            if (b is not null && (b.Shape.Length != 2 || b.Shape[0] != dirs || b.Shape[1] != 2 * gates * hidden))
            {
                throw Error(b.Name, $"B of {node.Describe()} has shape [{string.Join(", ", b.Shape)}], expected [{dirs}, {2 * gates * hidden}] (Wb then Rb)");
            }

            if (HasInput(node, 4))
            {
                throw Error(node.Inputs[4], $"sequence_lens of {node.Describe()} is not supported: every sequence runs to its end, one step per input");
            }

            for (int i = 5; i <= 6 && i < node.Inputs.Count; i++)
            {
                if (HasInput(node, i) && !(cell != CellKind.Lstm && i == 6))
                {
                    CheckZeroState(node, i, i == 5 ? "initial_h" : "initial_c");
                }
            }

            ConstValue? p = null;
            if (HasInput(node, 7))
            {
                if (cell != CellKind.Lstm)
                {
                    throw NodeError(node, "has more inputs than its operator defines");
                }

                p = Const(node, 7, "P");
                if (p.Shape.Length != 2 || p.Shape[0] != dirs || p.Shape[1] != 3 * hidden)
                {
                    throw Error(p.Name, $"P of {node.Describe()} has shape [{string.Join(", ", p.Shape)}], expected [{dirs}, {3 * hidden}] (p_i, p_o, p_f)");
                }
            }
            else if (cell != CellKind.Lstm && node.Inputs.Count > (cell == CellKind.Gru ? 6 : 6))
            {
                throw NodeError(node, "has more inputs than its operator defines");
            }

            int k = _layers.Count;
            Spend(node.Describe(), (long)dirs * (gates * hidden * ((long)input + hidden + 2) + 3 * hidden));
            float[] wData = FloatsOf(node, w);
            float[] rData = FloatsOf(node, r);
            float[]? bData = b is null ? null : FloatsOf(node, b);
            float[]? pData = p is null ? null : FloatsOf(node, p);
            var tensors = new List<Tensor>();
            for (int d = 0; d < dirs; d++)
            {
                string suffix = "_l" + k.ToString(CultureInfo.InvariantCulture) + (d == 1 || reverse ? "_reverse" : "");
                string Name(string parameter) => ModelWriter.RecurrentModule + "." + parameter + suffix;
                int[] order = GateOrder(cell, cifg);
                int rows = order.Length * hidden;
                tensors.Add(new Tensor(Name("weight_ih"), new[] { rows, input }, Blocks(wData, d, gates * hidden * input, order, hidden * input)));
                tensors.Add(new Tensor(Name("weight_hh"), new[] { rows, hidden }, Blocks(rData, d, gates * hidden * hidden, order, hidden * hidden)));
                if (bData is not null)
                {
                    tensors.Add(new Tensor(Name("bias_ih"), new[] { rows }, Blocks(bData, d * 2, gates * hidden, order, hidden)));
                    tensors.Add(new Tensor(Name("bias_hh"), new[] { rows }, Blocks(bData, d * 2 + 1, gates * hidden, order, hidden)));
                }

                if (pData is not null)
                {
                    // ONNX P = [p_i, p_o, p_f]; ours (3, H) rows p_i, p_f, p_o (a CIFG cell has no forget gate: p_f = 0).
                    var peep = new float[3 * hidden];
                    Array.Copy(pData, d * 3 * hidden, peep, 0, hidden);
                    if (!cifg)
                    {
                        Array.Copy(pData, d * 3 * hidden + 2 * hidden, peep, hidden, hidden);
                    }

                    Array.Copy(pData, d * 3 * hidden + hidden, peep, 2 * hidden, hidden);
                    tensors.Add(new Tensor(Name("peephole"), new[] { 3, hidden }, peep));
                }
            }

            var layer = new Layer
            {
                Node = node,
                Cell = cell,
                Hidden = hidden,
                Input = input,
                Bidirectional = bidirectional,
                Reverse = reverse,
                GruForm = form,
                Activation = activation,
                Cifg = cifg,
                HasBias = b is not null,
                HasPeepholes = p is not null,
                Clip = clipBound,
                Tensors = tensors,
            };
            CheckUniform(layer);
            _layers.Add(layer);
            _stage++;

            Axis time = x.Axes[layout == 0 ? 0 : 1];
            Axis batch = x.Axes[layout == 0 ? 1 : 0];
            var dirAxis = new Axis(AxisKind.Direction, dirs);
            var feature = new Axis(AxisKind.Feature, hidden);
            Axis[] y = layout == 0 ? new[] { time, dirAxis, batch, feature } : new[] { batch, time, dirAxis, feature };
            Set(node, 0, new ActValue { Axes = y, Stage = _stage });
            for (int i = 1; i < node.Outputs.Count; i++)
            {
                Set(node, i, new StateValue { Name = node.Outputs[i] });
            }
        }

        /// <summary>ONNX gate block for each of our gate blocks: LSTM ONNX i,o,f,c → ours i,f,g,o (CIFG i,g,o); GRU z,r,h → r,z,n.</summary>
        private static int[] GateOrder(CellKind cell, bool cifg) => cell switch
        {
            CellKind.Lstm when cifg => new[] { 0, 3, 1 },
            CellKind.Lstm => new[] { 0, 2, 3, 1 },
            CellKind.Gru => new[] { 1, 0, 2 },
            _ => new[] { 0 },
        };

        private static float[] Blocks(float[] source, int slab, int slabSize, int[] order, int blockSize)
        {
            var result = new float[order.Length * blockSize];
            for (int g = 0; g < order.Length; g++)
            {
                Array.Copy(source, (long)slab * slabSize + (long)order[g] * blockSize, result, (long)g * blockSize, blockSize);
            }

            return result;
        }

        private ActivationKind CheckActivations(OnnxNode node, CellKind cell, int dirs)
        {
            string[] defaults = cell switch
            {
                CellKind.Lstm => new[] { "Sigmoid", "Tanh", "Tanh" },
                CellKind.Gru => new[] { "Sigmoid", "Tanh" },
                _ => new[] { "Tanh" },
            };
            OnnxAttribute? attr = node.Attribute("activations");
            if (attr is null)
            {
                return ActivationKind.Tanh;
            }

            var names = attr.Strings.Select(s => System.Text.Encoding.UTF8.GetString(s)).ToList();
            if (names.Count != defaults.Length * dirs)
            {
                throw NodeError(node, $"attribute 'activations' lists {names.Count} functions; {node.OpType} with {dirs} direction(s) takes {defaults.Length * dirs}");
            }

            if (cell == CellKind.Rnn)
            {
                ActivationKind? kind = null;
                foreach (string name in names)
                {
                    ActivationKind k = name.ToLowerInvariant() switch
                    {
                        "tanh" => ActivationKind.Tanh,
                        "relu" => ActivationKind.Relu,
                        "sigmoid" => ActivationKind.Sigmoid,
                        _ => throw NodeError(node, $"activation '{name}' is not supported; an RNN cell takes Tanh, Relu or Sigmoid"),
                    };
                    if (kind is not null && kind != k)
                    {
                        throw NodeError(node, "the two directions use different activations; one nonlinearity per model is supported");
                    }

                    kind = k;
                }

                return kind!.Value;
            }

            for (int i = 0; i < names.Count; i++)
            {
                if (!string.Equals(names[i], defaults[i % defaults.Length], StringComparison.OrdinalIgnoreCase))
                {
                    throw NodeError(node, $"attribute 'activations' [{string.Join(", ", names)}] differs from the defaults [{string.Join(", ", defaults)}] at position {i}; only the default activations are supported for {node.OpType}");
                }
            }

            return ActivationKind.Tanh;
        }

        private void CheckUniform(Layer layer)
        {
            if (_layers.Count == 0)
            {
                return;
            }

            Layer first = _layers[0];
            string? what = layer.Cell != first.Cell ? "cell kind"
                : layer.Bidirectional != first.Bidirectional || layer.Reverse != first.Reverse ? "direction"
                : layer.GruForm != first.GruForm && layer.Cell == CellKind.Gru ? "linear_before_reset"
                : layer.Activation != first.Activation ? "activation"
                : layer.Cifg != first.Cifg ? "input_forget"
                : layer.HasBias != first.HasBias ? "bias (B present in one layer, absent in another)"
                : layer.HasPeepholes != first.HasPeepholes ? "peepholes (P)"
                : null;
            if (what is not null)
            {
                throw NodeError(layer.Node, $"differs from the first recurrent layer ({first.Node.Describe()}) in its {what}; all layers of the stack must agree");
            }
        }

        private void Bind(OnnxNode node, Axis axis, AxisKind kind)
        {
            AxisKind current = Kind(axis);
            if (current == AxisKind.One && kind == AxisKind.Batch)
            {
                return; // an unbatched sequence, unsqueezed to batch 1 (torch.onnx.export of a 1-D input)
            }

            if (current == AxisKind.Unknown)
            {
                _bindings[axis.Id] = kind;
                current = kind;
            }

            if (current != kind)
            {
                throw NodeError(node, $"reads its {(kind == AxisKind.Time ? "sequence" : "batch")} axis from the {Describe(axis)} axis of '{node.Inputs[0]}'; check 'layout' and the Transposes before it");
            }

            if (kind == AxisKind.Batch && axis.Size > 1)
            {
                // Batch N is N independent streams; the compiled model runs one. Accepted: the weights do not depend on it.
            }
        }

        private void CheckZeroState(OnnxNode node, int index, string role)
        {
            Value v = Input(node, index);
            string name = node.Inputs[index];
            if (v is not ConstValue c)
            {
                throw Error(name, $"{role} of {node.Describe()} is fed from the model's input or activations; only zero initial states are supported (the compiled model starts from zero and keeps its own state)");
            }

            double? uniform = UniformOf(node, c);
            if (uniform != 0)
            {
                throw Error(name, $"{role} of {node.Describe()} is not all zeros; only zero initial states are supported (the compiled model starts from zero)");
            }
        }

        // ------------------------------------------------------------ the result

        private WeightFile Finish(OnnxGraph graph)
        {
            if (_layers.Count == 0)
            {
                throw Error(null, "the graph has no LSTM, GRU or RNN node");
            }

            if (graph.Outputs.Count == 0)
            {
                throw Error(null, "the graph has no output");
            }

            ActValue? output = null;
            foreach (OnnxValueInfo o in graph.Outputs)
            {
                if (!_values.TryGetValue(o.Name, out Value? v))
                {
                    throw Error(o.Name, "the graph output is produced by no node");
                }

                if (v is StateValue)
                {
                    continue; // final states (h_n, c_n) returned beside the output: the compiled model keeps its own
                }

                if (v is not ActValue a || output is not null)
                {
                    throw Error(o.Name, "the graph must have one output computed from the model input (final states may be returned beside it)");
                }

                output = a;
                if (a.Stage != _stage)
                {
                    throw Error(o.Name, "the graph output is not the last layer's output: layers whose result is not returned would be dropped");
                }

                // A bare bidirectional node's Y keeps (directions, H) apart: per step that is the forward then the backward
                // state, which is the concatenation the model outputs.
                var real = a.Axes.Where(x => !IsUnit(x)).ToList();
                if (real.Count == 3 && Kind(real[1]) == AxisKind.Direction && Kind(real[2]) == AxisKind.Feature)
                {
                    real.RemoveAt(1);
                }

                if (real.Count != 2 || Kind(real[0]) is not (AxisKind.Time or AxisKind.Unknown) || Kind(real[1]) != AxisKind.Feature)
                {
                    throw Error(o.Name, $"the graph output has axes [{string.Join(", ", a.Axes.Select(Describe))}]; expected the sequence axis, optional size-1 axes and the features last");
                }
            }

            if (output is null)
            {
                throw Error(graph.Outputs[0].Name, "no graph output is computed from the model input");
            }

            var tensors = new List<Tensor>();
            if (_embedding is not null)
            {
                tensors.Add(_embedding);
            }

            var stacks = new SortedDictionary<string, string>(StringComparer.Ordinal);
            AddInputLayers(tensors, stacks);
            foreach (Layer layer in _layers)
            {
                tensors.AddRange(layer.Tensors);
            }

            AddHead(tensors, stacks);
            Layer first = _layers[0];
            var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                [MetadataKeys.Format] = MetadataKeys.CurrentFormat,
                [MetadataKeys.Input] = _embedding is not null ? "embedding" : "dense",
                ["onnx.opset"] = _opset.ToString(CultureInfo.InvariantCulture),
            };
            if (_model.ProducerName.Length > 0)
            {
                metadata["onnx.producer"] = (_model.ProducerName + " " + _model.ProducerVersion).Trim();
            }

            if (_embedding is not null)
            {
                metadata[MetadataKeys.Embedding] = ModelWriter.EmbeddingModule;
            }

            foreach (KeyValuePair<string, string> entry in stacks)
            {
                metadata[entry.Key] = entry.Value;
            }

            switch (first.Cell)
            {
                case CellKind.Gru:
                    metadata[MetadataKeys.GruForm] = first.GruForm == GruForm.ResetAfter ? "reset_after" : "reset_before";
                    break;
                case CellKind.Rnn:
                    metadata[MetadataKeys.Nonlinearity] = MetadataKeys.ToText(first.Activation);
                    break;
                case CellKind.Lstm when first.Cifg:
                    metadata[MetadataKeys.LstmCifg] = "true";
                    break;
            }

            if (_denseInput && _embedding is not null)
            {
                throw Error(null, "dense input and an embedding at once");
            }

            if (ClipMetadata() is string clipText)
            {
                metadata[MetadataKeys.Clip] = clipText;
            }

            return new WeightFile(_file, tensors, metadata);
        }

        private RnnFormatException Error(string? tensor, string rule) => new(_file, tensor, rule);

        private RnnFormatException NodeError(OnnxNode node, string rule) => new(_file, null, node.Describe() + ": " + rule);
    }
}
