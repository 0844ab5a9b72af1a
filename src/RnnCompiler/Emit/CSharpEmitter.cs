using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Emit;

/// <summary>
/// Turns a <see cref="ModelSpec"/> into the C# source of a specialized, allocation-free <c>partial struct</c>
/// implementing <c>RnnEmbedded.Runtime.IRecurrentModel&lt;T&gt;</c>. Pure function of (spec, options): the same
/// input gives byte-identical output.
/// </summary>
/// <remarks>
/// Per layer and direction the emitter writes one static <c>Cell_*</c> method — one statement per equation —
/// that calls the runtime's SIMD kernels with compile-time-constant sizes:
/// gates = b + W_ih x (or one row of a precomputed (V, G·H) table for token input), gates += W_hh h, then the
/// pointwise cell update. Matrices are stored in the kernel's panel layout (docs/architecture.md).
/// </remarks>
public static class CSharpEmitter
{
    private const string Rt = "global::RnnEmbedded.Runtime";
    private const string K = "global::RnnEmbedded.Runtime.Kernels";
    private const string Span = "global::System.Span<float>";
    private const string RoSpan = "global::System.ReadOnlySpan<float>";

    /// <summary>Thrown (and turned into a diagnostic by the generator) when a model cannot be emitted.</summary>
    public sealed class EmitException : Exception
    {
        public EmitException(string code, string message)
            : base(message) => Code = code;

        /// <summary>A short reason code: "too-large", "bad-name", "unsupported".</summary>
        public string Code { get; }
    }

    public static string Emit(ModelSpec spec, EmitOptions options)
    {
        var plan = new Plan(spec, options);
        return plan.Write();
    }

    /// <summary>Returns (namespace, type name) or throws EmitException when the name is not a valid C# type name.</summary>
    public static (string? Namespace, string Name) SplitTypeName(string fullName)
    {
        if (string.IsNullOrWhiteSpace(fullName))
        {
            throw new EmitException("bad-name", "ClassName is empty; set ClassName=\"MyApp.MyModel\" on the RnnModel item.");
        }

        string[] parts = fullName.Split('.');
        foreach (string part in parts)
        {
            if (!IsIdentifier(part))
            {
                throw new EmitException("bad-name", $"ClassName '{fullName}' is not a valid C# type name: '{part}' is not an identifier.");
            }
        }

        string name = parts[parts.Length - 1];
        string? ns = parts.Length > 1 ? string.Join(".", parts, 0, parts.Length - 1) : null;
        return (ns, name);
    }

    private static bool IsIdentifier(string s)
    {
        if (s.Length == 0 || !(char.IsLetter(s[0]) || s[0] == '_'))
        {
            return false;
        }

        foreach (char ch in s)
        {
            if (!(char.IsLetterOrDigit(ch) || ch == '_'))
            {
                return false;
            }
        }

        return !s_keywords.Contains(s);
    }

    private static readonly HashSet<string> s_keywords = new(StringComparer.Ordinal)
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const",
        "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern",
        "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface",
        "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override",
        "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short",
        "sizeof", "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof",
        "uint", "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
    };

    internal static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);

    internal static string Str(string s)
    {
        var sb = new StringBuilder(s.Length + 2);
        sb.Append('"');
        foreach (char ch in s)
        {
            switch (ch)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (ch < 0x20 || ch > 0x7E)
                    {
                        sb.Append("\\u").Append(((int)ch).ToString("X4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(ch);
                    }

                    break;
            }
        }

        sb.Append('"');
        return sb.ToString();
    }

    /// <summary>Everything the writer needs, computed once from the spec.</summary>
    private sealed class Plan
    {
        private readonly ModelSpec _spec;
        private readonly EmitOptions _options;
        private readonly WeightBlob _blob = new();
        private readonly IndentedWriter _w = new();
        private readonly string? _namespace;
        private readonly string _name;
        private readonly bool _foldInput;
        private readonly string _widthCap;
        private readonly SortedSet<int> _bufferSizes = new();

        public Plan(ModelSpec spec, EmitOptions options)
        {
            _spec = spec;
            _options = options;
            (_namespace, _name) = SplitTypeName(options.TypeName);
            _widthCap = options.MaxVectorWidth switch
            {
                512 => "V512",
                256 => "V256",
                128 => "V128",
                0 => "Scalar",
                _ => throw new EmitException("bad-width", $"MaxVectorWidth {options.MaxVectorWidth} is not one of 512, 256, 128, 0."),
            };

            if (spec.Layers.Count == 0)
            {
                throw new EmitException("unsupported", "the model has no recurrent layers.");
            }

            if (spec.ImageProjection is not null && spec.Bidirectional)
            {
                throw new EmitException("unsupported", "a caption decoder decodes word by word, so it cannot have a bidirectional layer (it would need the whole caption in advance).");
            }

            _foldInput = ShouldFold(spec, options);
        }

        private static bool ShouldFold(ModelSpec spec, EmitOptions options)
        {
            LayerSpec l0 = spec.Layers[0];
            if (spec.InputKind == InputKind.OneHot)
            {
                return true; // W_ih x for one-hot x is a column of W_ih: store W_ihᵀ rows, always exact.
            }

            if (spec.InputKind != InputKind.Embedding || spec.ImageProjection is not null || options.EmbeddingFoldMaxGrowth <= 0)
            {
                return false;
            }

            long v = spec.InputSize;
            long e = spec.Embedding!.Cols;
            long gh = PanelPacking.PaddedRows(l0.GateCount * l0.HiddenSize) * (l0.Bidirectional ? 2L : 1L);
            long table = v * gh;
            long plain = v * e + gh * e;
            return table <= options.EmbeddingFoldMaxGrowth * plain;
        }

        private static int Pad(int rows) => PanelPacking.PaddedRows(rows);

        private string Buffer(int size)
        {
            _bufferSizes.Add(size);
            return "Floats" + Int(size);
        }

        public string Write()
        {
            BuildWeights();
            if (_blob.TotalFloats > WeightBlob.MaxFloats)
            {
                throw new EmitException(
                    "too-large",
                    $"the packed weights take {_blob.TotalFloats} floats ({_blob.TotalFloats * 4 / (1024 * 1024)} MB); embedded weights are limited to {WeightBlob.MaxFloats} floats ({WeightBlob.MaxFloats * 4 / (1024 * 1024)} MB) per assembly by the 2^24-byte user-string heap (CS8103). Put large models in their own assembly or reduce H.");
            }

            IndentedWriter w = _w;
            w.Line("// <auto-generated/>");
            w.Line("// Generated by RnnEmbedded.Generators from " + (_options.SourceName.Length > 0 ? _options.SourceName : "a weight file") + ". Do not edit.");
            w.Line("#nullable enable");
            w.Line("#pragma warning disable CS1591 // generated public API is documented in docs/getting-started.md");
            w.Line();
            if (_namespace is not null)
            {
                w.Line("namespace " + _namespace + ";");
                w.Line();
            }

            WriteSummary();
            w.Line("[global::System.CodeDom.Compiler.GeneratedCode(\"RnnEmbedded.Generators\", \"1.0.0\")]");
            w.Line("[global::System.Runtime.CompilerServices.SkipLocalsInit]");
            string iface = _spec.ImageProjection is not null ? "ICaptionModel" : "IRecurrentModel";
            w.Open($"partial struct {_name} : {Rt}.{iface}<{_name}>");

            WriteConstants();
            WriteState();
            WriteStep();
            WriteRun();
            WriteCells();
            WriteHead();
            WriteWeights();
            WriteBuffers();

            w.Close();
            return w.ToString();
        }

        // ---------------------------------------------------------------- weights

        private string N(int layer, bool reverse) => "L" + Int(layer) + (reverse ? "R" : "");

        private void BuildWeights()
        {
            if (_spec.Embedding is not null && !_foldInput)
            {
                _blob.Add("Embedding", _spec.Embedding.Data, $"embedding ({_spec.Embedding.Rows}, {_spec.Embedding.Cols}) row-major");
            }

            if (_spec.ImageProjection is { } img)
            {
                _blob.Add("Image_W", PanelPacking.Pack(img.W), $"image projection W ({img.W.Rows}, {img.W.Cols}) packed");
                _blob.Add("Image_b", PadVector(img.b, img.W.Rows), $"image projection b ({img.W.Rows}) padded");
            }

            for (int l = 0; l < _spec.Layers.Count; l++)
            {
                LayerSpec layer = _spec.Layers[l];
                AddDirection(l, layer, layer.Forward, reverse: false);
                if (layer.Backward is not null)
                {
                    AddDirection(l, layer, layer.Backward, reverse: true);
                }
            }

            if (_spec.Head is { } head)
            {
                _blob.Add("Head_W", PanelPacking.Pack(head.W), $"head W ({head.W.Rows}, {head.W.Cols}) packed");
                _blob.Add("Head_b", PadVector(head.b, head.W.Rows), $"head b ({head.W.Rows}) padded");
            }
        }

        private static float[] PadVector(float[]? v, int rows)
        {
            var r = new float[Pad(rows)];
            if (v is not null)
            {
                Array.Copy(v, r, v.Length);
            }

            return r;
        }

        /// <summary>
        /// The bias the input path adds: b_ih + b_hh for every row where the sum is exact math (all LSTM/RNN rows,
        /// GRU r and z rows, and GRU n rows in the reset-before form); GRU reset-after keeps b_hn with W_hh h.
        /// </summary>
        private static float[] InputBias(LayerSpec layer, DirectionWeights d)
        {
            int gh = layer.GateCount * layer.HiddenSize;
            var b = new float[Pad(gh)];
            int h = layer.HiddenSize;
            for (int r = 0; r < gh; r++)
            {
                float bi = d.b_ih?[r] ?? 0f;
                float bh = d.b_hh?[r] ?? 0f;
                bool keepHidden = layer.Cell == CellKind.Gru && layer.GruForm == GruForm.ResetAfter && r >= 2 * h;
                b[r] = keepHidden ? bi : bi + bh;
            }

            return b;
        }

        private void AddDirection(int l, LayerSpec layer, DirectionWeights d, bool reverse)
        {
            string n = N(l, reverse);
            int h = layer.HiddenSize;
            int gh = layer.GateCount * h;
            int ghp = Pad(gh);
            float[] bias = InputBias(layer, d);
            string dirText = reverse ? "reverse" : "forward";

            if (l == 0 && _foldInput)
            {
                // Table[v] = b + W_ih · e_v where e_v is the embedding row (or the one-hot vector).
                int v = _spec.InputSize;
                var table = new float[(long)v * ghp];
                int inSize = layer.InputSize;
                for (int t = 0; t < v; t++)
                {
                    for (int r = 0; r < gh; r++)
                    {
                        double acc = bias[r];
                        if (_spec.InputKind == InputKind.OneHot)
                        {
                            acc += d.W_ih.Data[(long)r * inSize + t];
                        }
                        else
                        {
                            float[] emb = _spec.Embedding!.Data;
                            for (int j = 0; j < inSize; j++)
                            {
                                acc += (double)d.W_ih.Data[(long)r * inSize + j] * emb[(long)t * inSize + j];
                            }
                        }

                        table[(long)t * ghp + r] = (float)acc;
                    }
                }

                _blob.Add(n + "_Table", table, $"layer {l} {dirText}: b + W_ih · input(token), ({v}, {ghp}) one row per token");
            }

            if (!(l == 0 && _foldInput) || VectorRouteBesideTable(l))
            {
                _blob.Add(n + "_Wih", PanelPacking.Pack(d.W_ih), $"layer {l} {dirText}: W_ih ({gh}, {layer.InputSize}) packed");
                _blob.Add(n + "_Bias", bias, $"layer {l} {dirText}: b_ih + b_hh where exact ({gh}) padded");
            }

            int s = layer.StateSize;
            if (layer.Cell == CellKind.Gru && layer.GruForm == GruForm.ResetBefore)
            {
                _blob.Add(n + "_Whh_rz", PanelPacking.Pack(Rows(d.W_hh, 0, 2 * h)), $"layer {l} {dirText}: W_hr, W_hz ({2 * h}, {s}) packed");
                _blob.Add(n + "_Whn", PanelPacking.Pack(Rows(d.W_hh, 2 * h, h)), $"layer {l} {dirText}: W_hn ({h}, {s}) packed");
            }
            else
            {
                _blob.Add(n + "_Whh", PanelPacking.Pack(d.W_hh), $"layer {l} {dirText}: W_hh ({gh}, {s}) packed");
            }

            if (layer.Cell == CellKind.Gru && layer.GruForm == GruForm.ResetAfter)
            {
                var bhn = new float[ghp];
                for (int r = 2 * h; r < 3 * h; r++)
                {
                    bhn[r] = d.b_hh?[r] ?? 0f;
                }

                _blob.Add(n + "_Bhh", bhn, $"layer {l} {dirText}: (0, 0, b_hn) ({gh}) padded");
            }

            if (d.Peepholes is { } p)
            {
                _blob.Add(n + "_Peep", p.Data, $"layer {l} {dirText}: peepholes p_i, p_f, p_o (3, {h})");
            }

            if (d.W_hr is { } whr)
            {
                _blob.Add(n + "_Whr", PanelPacking.Pack(whr), $"layer {l} {dirText}: W_hr ({whr.Rows}, {whr.Cols}) packed");
            }
        }

        /// <summary>
        /// A one-hot caption decoder's layer 0 reads a token (a table row) at every step but the first, where it reads
        /// the projected image, a vector: it needs W_ih and the bias beside the table, and a second cell overload.
        /// </summary>
        private bool VectorRouteBesideTable(int l) => l == 0 && _foldInput && _spec.ImageProjection is not null;

        private static Matrix Rows(Matrix m, int start, int count)
        {
            var data = new float[(long)count * m.Cols];
            Array.Copy(m.Data, (long)start * m.Cols, data, 0, data.LongLength);
            return new Matrix(count, m.Cols, data);
        }

        private void WriteWeights()
        {
            IndentedWriter w = _w;
            w.Line();
            w.Line("// ---- Weights: each float is two UTF-16 code units of a string literal (little-endian halves);");
            w.Line("// ---- MemoryMarshal.Cast reads them in place: no allocation, no copy, no static constructor.");
            foreach (WeightBlob.Entry e in _blob.Entries)
            {
                w.Line();
                w.Line("// " + e.Comment);
                StringBuilder sb = w.Begin();
                sb.Append("private static ").Append(RoSpan).Append(' ').Append(e.Name)
                  .Append(" => global::System.Runtime.InteropServices.MemoryMarshal.Cast<char, float>(");
                WeightBlob.AppendLiteral(sb, e.Data);
                sb.Append(");\n");
            }
        }

        // ---------------------------------------------------------------- public surface

        private void WriteSummary()
        {
            IndentedWriter w = _w;
            w.Line("/// <summary>");
            w.Line("/// " + Escape(Describe()));
            w.Line("/// </summary>");
        }

        private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

        private string Describe()
        {
            var sb = new StringBuilder();
            sb.Append(_spec.InputKind switch
            {
                InputKind.Embedding => $"Embedding ({_spec.InputSize}, {_spec.Embedding!.Cols})",
                InputKind.OneHot => $"One-hot ({_spec.InputSize})",
                _ => $"Dense input ({_spec.InputSize})",
            });
            foreach (LayerSpec l in _spec.Layers)
            {
                sb.Append(" → ").Append(l.Cell.ToString().ToUpperInvariant()).Append('(').Append(Int(l.HiddenSize));
                if (l.ProjectionSize > 0)
                {
                    sb.Append(", proj ").Append(Int(l.ProjectionSize));
                }

                if (l.Bidirectional)
                {
                    sb.Append(", bidirectional");
                }

                sb.Append(')');
            }

            if (_spec.Head is not null)
            {
                sb.Append(" → Dense (").Append(Int(_spec.Head.OutputSize)).Append(')');
            }

            sb.Append(". ").Append(_spec.ParameterCount.ToString(CultureInfo.InvariantCulture)).Append(" parameters.");
            return sb.ToString();
        }

        private void WriteConstants()
        {
            IndentedWriter w = _w;
            Vocabulary? vocab = _spec.Vocabulary;
            w.Line("/// <summary>Vocabulary size for token models; features per step for dense models.</summary>");
            w.Line($"public static int InputSize => {Int(_spec.InputSize)};");
            w.Line("/// <summary>Floats written per step.</summary>");
            w.Line($"public static int OutputSize => {Int(_spec.OutputSize)};");
            w.Line($"public static bool HasTokenInput => {(_spec.HasTokenInput ? "true" : "false")};");
            w.Line($"public static bool IsBidirectional => {(_spec.Bidirectional ? "true" : "false")};");
            w.Line($"public static {Rt}.ModelTask Task => {Rt}.ModelTask.{_spec.Task};");
            string vk = vocab?.Kind switch
            {
                VocabularyKind.Characters => "Characters",
                VocabularyKind.Words => "Words",
                _ => "None",
            };
            w.Line($"public static {Rt}.ModelVocabularyKind VocabularyKind => {Rt}.ModelVocabularyKind.{vk};");
            w.Line($"public static int StartToken => {Int(vocab?.StartToken ?? -1)};");
            w.Line($"public static int StopToken => {Int(vocab?.StopToken ?? -1)};");
            w.Line($"public static int UnknownToken => {Int(vocab?.UnknownToken ?? -1)};");
            if (_spec.ImageProjection is { } img)
            {
                w.Line($"public static int ImageFeatureSize => {Int(img.InputSize)};");
            }

            var text = new StringBuilder();
            var offsets = new StringBuilder();
            if (vocab is not null)
            {
                int off = 0;
                offsets.Append(Int(0));
                foreach (string token in vocab.Tokens)
                {
                    text.Append(token);
                    off += token.Length;
                    offsets.Append(", ").Append(Int(off));
                }
            }

            w.Line("/// <summary>All token texts concatenated; see VocabularyOffsets.</summary>");
            w.Line($"public static global::System.ReadOnlySpan<char> VocabularyText => {Str(text.ToString())};");
            w.Line("/// <summary>V + 1 offsets into VocabularyText (empty without a vocabulary).</summary>");
            w.Line(vocab is null
                ? "public static global::System.ReadOnlySpan<int> VocabularyOffsets => default;"
                : $"public static global::System.ReadOnlySpan<int> VocabularyOffsets => new int[] {{ {offsets} }}; // static data, no allocation");
            w.Line();
            w.Line($"private static readonly {K}.VectorWidth s_width = {K}.Simd.Resolve({K}.VectorWidth.{_widthCap});");
            w.Line();
            w.Line("/// <summary>The vector width this process uses (the build's cap, limited by the hardware).</summary>");
            w.Line($"public static {K}.VectorWidth VectorWidth => s_width;");
        }

        private void WriteState()
        {
            IndentedWriter w = _w;
            w.Line();
            w.Line("// ---- Recurrent state: the struct's only instance fields. default = zero state; copying snapshots it.");
            for (int l = 0; l < _spec.Layers.Count; l++)
            {
                LayerSpec layer = _spec.Layers[l];
                w.Line($"private {Buffer(layer.StateSize)} _h{Int(l)}; // ({layer.StateSize},) layer {l} h");
                if (layer.Cell == CellKind.Lstm)
                {
                    w.Line($"private {Buffer(layer.HiddenSize)} _c{Int(l)}; // ({layer.HiddenSize},) layer {l} c");
                }
            }

            w.Line();
            w.Line("/// <summary>Back to the zero state.</summary>");
            w.Line("public void Reset() => this = default;");
            w.Line();
            w.Line("/// <summary>Copies layer <paramref name=\"layer\"/>'s hidden state h (P values with a projection, else H) to <paramref name=\"destination\"/>.</summary>");
            w.Open($"public readonly void CopyHiddenState(int layer, {Span} destination)");
            w.Open("switch (layer)");
            for (int l = 0; l < _spec.Layers.Count; l++)
            {
                w.Line($"case {Int(l)}: (({RoSpan})_h{Int(l)}).CopyTo(destination); return;");
            }

            w.Line($"default: throw new global::System.ArgumentOutOfRangeException(nameof(layer), layer, \"layer must be in [0, {Int(_spec.Layers.Count)}).\");");
            w.Close();
            w.Close();
        }

        private void WriteStep()
        {
            IndentedWriter w = _w;
            bool bidi = _spec.Bidirectional;
            string notBidi = $"throw new global::System.InvalidOperationException(\"{_name} has a bidirectional layer: it needs the whole sequence, so call {_name}.Run.\")";

            w.Line();
            w.Line("/// <summary>One step on token <paramref name=\"token\"/>; writes OutputSize floats to <paramref name=\"output\"/>.</summary>");
            w.Open($"public void Step(int token, {Span} output)");
            if (!_spec.HasTokenInput)
            {
                w.Line($"throw new global::System.NotSupportedException(\"{_name} takes dense input: call Step(ReadOnlySpan<float>, Span<float>).\");");
            }
            else if (bidi)
            {
                w.Line(notBidi + ";");
            }
            else
            {
                w.Line($"if ((uint)token >= {Int(_spec.InputSize)}u) {Rt}.ModelGuard.ThrowToken(token, {Int(_spec.InputSize)});");
                w.Line($"if (output.Length < {Int(_spec.OutputSize)}) {Rt}.ModelGuard.ThrowOutput(nameof(output), output.Length, {Int(_spec.OutputSize)});");
                WriteStepBody(w, "token", token: true);
            }

            w.Close();

            w.Line();
            w.Line("/// <summary>One step on a dense input of InputSize floats; writes OutputSize floats.</summary>");
            w.Open($"public void Step({RoSpan} input, {Span} output)");
            if (_spec.HasTokenInput)
            {
                w.Line($"throw new global::System.NotSupportedException(\"{_name} takes token input: call Step(int, Span<float>).\");");
            }
            else if (bidi)
            {
                w.Line(notBidi + ";");
            }
            else
            {
                w.Line($"if (input.Length != {Int(_spec.InputSize)}) {Rt}.ModelGuard.ThrowInput(nameof(input), input.Length, {Int(_spec.InputSize)});");
                w.Line($"if (output.Length < {Int(_spec.OutputSize)}) {Rt}.ModelGuard.ThrowOutput(nameof(output), output.Length, {Int(_spec.OutputSize)});");
                WriteStepBody(w, "input", token: false);
            }

            w.Close();

            if (_spec.ImageProjection is { } img)
            {
                w.Line();
                w.Line("/// <summary>The caption decoder's first step: the image feature vector through the image projection.</summary>");
                w.Open($"public void StepImage({RoSpan} features, {Span} output)");
                w.Line($"if (features.Length != {Int(img.InputSize)}) {Rt}.ModelGuard.ThrowInput(nameof(features), features.Length, {Int(img.InputSize)});");
                w.Line($"if (output.Length < {Int(_spec.OutputSize)}) {Rt}.ModelGuard.ThrowOutput(nameof(output), output.Length, {Int(_spec.OutputSize)});");
                w.Line($"{Span} x = stackalloc float[{Int(Pad(img.OutputSize))}]; // ({img.OutputSize},) projected image = b + W x");
                w.Line("Image_b.CopyTo(x);");
                w.Line($"{K}.PackedGemv.MultiplyAdd(Image_W, features, x, s_width);");
                WriteStepBody(w, $"x.Slice(0, {Int(img.OutputSize)})", token: false);
                w.Close();
            }

        }

        /// <summary>Chains the cells over the instance state, then the head.</summary>
        private void WriteStepBody(IndentedWriter w, string input, bool token)
        {
            for (int l = 0; l < _spec.Layers.Count; l++)
            {
                LayerSpec layer = _spec.Layers[l];
                string x = l == 0 ? FirstInput(input, token) : $"_h{Int(l - 1)}";
                string c = layer.Cell == CellKind.Lstm ? $", _c{Int(l)}" : "";
                w.Line($"Cell_{N(l, false)}({x}, _h{Int(l)}{c});");
            }

            w.Line($"Head(_h{Int(_spec.Layers.Count - 1)}, output);");
        }

        /// <summary>The first layer's input: a dense expression as is; a token as itself (folded table) or its embedding row.</summary>
        private string FirstInput(string expression, bool token)
        {
            if (!token || _foldInput)
            {
                return expression;
            }

            int e = _spec.Embedding!.Cols;
            return $"Embedding.Slice({expression} * {Int(e)}, {Int(e)})";
        }

        private void WriteRun()
        {
            IndentedWriter w = _w;
            int o = _spec.OutputSize;
            w.Line();
            w.Line("/// <summary>Whole token sequence from the zero state; outputs[t * OutputSize + k].</summary>");
            w.Open($"public static void Run(global::System.ReadOnlySpan<int> tokens, {Span} outputs)");
            if (!_spec.HasTokenInput)
            {
                w.Line($"throw new global::System.NotSupportedException(\"{_name} takes dense input: call Run(ReadOnlySpan<float>, Span<float>).\");");
            }
            else
            {
                w.Line($"if (outputs.Length < tokens.Length * {Int(o)}) {Rt}.ModelGuard.ThrowOutput(nameof(outputs), outputs.Length, tokens.Length * {Int(o)});");
                w.Open("for (int t = 0; t < tokens.Length; t++)");
                w.Line($"if ((uint)tokens[t] >= {Int(_spec.InputSize)}u) {Rt}.ModelGuard.ThrowToken(tokens[t], {Int(_spec.InputSize)});");
                w.Close();
                WriteRunBody(w, token: true);
            }

            w.Close();

            w.Line();
            w.Line("/// <summary>Whole dense sequence (inputs[t * InputSize + j]) from the zero state; outputs[t * OutputSize + k].</summary>");
            w.Open($"public static void Run({RoSpan} inputs, {Span} outputs)");
            if (_spec.HasTokenInput)
            {
                w.Line($"throw new global::System.NotSupportedException(\"{_name} takes token input: call Run(ReadOnlySpan<int>, Span<float>).\");");
            }
            else
            {
                int n = _spec.InputSize;
                w.Line($"if (inputs.Length % {Int(n)} != 0) {Rt}.ModelGuard.ThrowInput(nameof(inputs), inputs.Length, {Int(n)});");
                w.Line($"if (outputs.Length < inputs.Length / {Int(n)} * {Int(o)}) {Rt}.ModelGuard.ThrowOutput(nameof(outputs), outputs.Length, inputs.Length / {Int(n)} * {Int(o)});");
                WriteRunBody(w, token: false);
            }

            w.Close();
        }

        private void WriteRunBody(IndentedWriter w, bool token)
        {
            int o = _spec.OutputSize;
            string count = token ? "tokens.Length" : $"inputs.Length / {Int(_spec.InputSize)}";
            string step = token ? "tokens[t]" : $"inputs.Slice(t * {Int(_spec.InputSize)}, {Int(_spec.InputSize)})";
            if (!_spec.Bidirectional)
            {
                w.Line($"var model = default({_name});");
                w.Line($"int steps = {count};");
                w.Open("for (int t = 0; t < steps; t++)");
                w.Line($"model.Step({step}, outputs.Slice(t * {Int(o)}, {Int(o)}));");
                w.Close();
                return;
            }

            // Layer by layer over the whole sequence; each layer's outputs (T, OutputSize_l) go to a pooled buffer.
            int maxWidth = 0;
            foreach (LayerSpec l in _spec.Layers)
            {
                maxWidth = Math.Max(maxWidth, l.OutputSize);
            }

            w.Line($"int steps = {count};");
            w.Line($"float[] bufA = global::System.Buffers.ArrayPool<float>.Shared.Rent(global::System.Math.Max(1, steps * {Int(maxWidth)}));");
            w.Line($"float[] bufB = global::System.Buffers.ArrayPool<float>.Shared.Rent(global::System.Math.Max(1, steps * {Int(maxWidth)}));");
            w.Open("try");
            w.Line($"{Span} prev = bufA;");
            w.Line($"{Span} cur = bufB;");
            for (int l = 0; l < _spec.Layers.Count; l++)
            {
                LayerSpec layer = _spec.Layers[l];
                int s = layer.StateSize;
                int outW = layer.OutputSize;
                int inW = l == 0 ? 0 : _spec.Layers[l - 1].OutputSize;
                w.Open("");
                foreach (bool reverse in layer.Bidirectional ? new[] { false, true } : new[] { false })
                {
                    w.Open("");
                    w.Line($"{Buffer(s)} h = default;");
                    if (layer.Cell == CellKind.Lstm)
                    {
                        w.Line($"{Buffer(layer.HiddenSize)} c = default;");
                    }

                    string loop = reverse ? "for (int t = steps - 1; t >= 0; t--)" : "for (int t = 0; t < steps; t++)";
                    w.Open(loop);
                    string x = l == 0 ? FirstInput(step, token) : $"prev.Slice(t * {Int(inW)}, {Int(inW)})";

                    string c = layer.Cell == CellKind.Lstm ? ", c" : "";
                    w.Line($"Cell_{N(l, reverse)}({x}, h{c});");
                    w.Line($"(({RoSpan})h).Slice(0, {Int(s)}).CopyTo(cur.Slice(t * {Int(outW)} + {Int(reverse ? s : 0)}, {Int(s)}));");
                    w.Close();
                    w.Close();
                }

                w.Line($"{Span} swap = prev; prev = cur; cur = swap;");
                w.Close();
            }

            int lastW = _spec.Layers[_spec.Layers.Count - 1].OutputSize;
            w.Open("for (int t = 0; t < steps; t++)");
            w.Line($"Head(prev.Slice(t * {Int(lastW)}, {Int(lastW)}), outputs.Slice(t * {Int(o)}, {Int(o)}));");
            w.Close();
            w.Close();
            w.Open("finally");
            w.Line("global::System.Buffers.ArrayPool<float>.Shared.Return(bufA);");
            w.Line("global::System.Buffers.ArrayPool<float>.Shared.Return(bufB);");
            w.Close();
        }

        // ---------------------------------------------------------------- cells

        private void WriteCells()
        {
            for (int l = 0; l < _spec.Layers.Count; l++)
            {
                LayerSpec layer = _spec.Layers[l];
                WriteCell(l, layer, reverse: false, folded: l == 0 && _foldInput);
                if (VectorRouteBesideTable(l))
                {
                    WriteCell(l, layer, reverse: false, folded: false);
                }

                if (layer.Bidirectional)
                {
                    WriteCell(l, layer, reverse: true, folded: l == 0 && _foldInput);
                }
            }
        }

        private void WriteCell(int l, LayerSpec layer, bool reverse, bool folded)
        {
            IndentedWriter w = _w;
            string n = N(l, reverse);
            int h = layer.HiddenSize;
            int s = layer.StateSize;
            int gh = layer.GateCount * h;
            int ghp = Pad(gh);
            string inParam = folded ? "int token" : $"{RoSpan} x";
            string cParam = layer.Cell == CellKind.Lstm ? $", {Span} c" : "";
            string gateNames = layer.Cell switch
            {
                CellKind.Lstm => layer.Cifg ? "i,g,o" : "i,f,g,o",
                CellKind.Gru => "r,z,n",
                _ => "a",
            };
            string width = "s_width";

            w.Line();
            w.Line($"// Layer {l}{(reverse ? " (reverse)" : "")}: {Describe(layer)}");
            w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]");
            w.Open($"private static void Cell_{n}({inParam}, {Span} h{cParam})");

            string g = layer.Cell == CellKind.Gru ? "gi" : "g";
            w.Line($"{Span} {g} = stackalloc float[{Int(ghp)}]; // ({gh},) {gateNames} pre-activations, padded to {ghp}");
            if (folded)
            {
                w.Line($"{n}_Table.Slice(token * {Int(ghp)}, {Int(ghp)}).CopyTo({g}); // b + W_ih x: one table row");
            }
            else
            {
                w.Line($"{n}_Bias.CopyTo({g}); // b_ih + b_hh where exact");
                w.Line($"{K}.PackedGemv.MultiplyAdd({n}_Wih, x, {g}, {width}); // += W_ih x");
            }

            string hs = $"h.Slice(0, {Int(s)})";
            switch (layer.Cell)
            {
                case CellKind.Rnn:
                    w.Line($"{K}.PackedGemv.MultiplyAdd({n}_Whh, {hs}, g, {width}); // += W_hh h");
                    w.Line($"{K}.Activations.{layer.Activation}(g.Slice(0, {Int(h)}), h.Slice(0, {Int(h)}), {width}); // h' = act(..)");
                    break;

                case CellKind.Lstm:
                    w.Line($"{K}.PackedGemv.MultiplyAdd({n}_Whh, {hs}, g, {width}); // += W_hh h");
                    string target = layer.ProjectionSize > 0 ? "m" : $"h.Slice(0, {Int(h)})";
                    if (layer.ProjectionSize > 0)
                    {
                        w.Line($"{Span} m = stackalloc float[{Int(h)}]; // ({h},) o ⊙ tanh(c'), before the projection");
                    }

                    string cs = $"c.Slice(0, {Int(h)})";
                    if (layer.HasPeepholes || layer.Cifg)
                    {
                        string peep = layer.HasPeepholes ? $"{n}_Peep" : $"{RoSpan}.Empty";
                        w.Line($"{K}.CellKernels.LstmPeephole(g.Slice(0, {Int(gh)}), {peep}, {cs}, {target}, {(layer.Cifg ? "true" : "false")}, {width}); // c' = f⊙c + i⊙g; h' = o⊙tanh(c')");
                    }
                    else
                    {
                        w.Line($"{K}.CellKernels.Lstm(g.Slice(0, {Int(gh)}), {cs}, {target}, {width}); // c' = f⊙c + i⊙g; h' = o⊙tanh(c')");
                    }

                    if (layer.ProjectionSize > 0)
                    {
                        int p = layer.ProjectionSize;
                        w.Line($"{Span} hp = stackalloc float[{Int(Pad(p))}]; // ({p},) h' = W_hr m");
                        w.Line($"{K}.PackedGemv.Multiply({n}_Whr, m, hp, {width});");
                        w.Line($"hp.Slice(0, {Int(p)}).CopyTo(h);");
                    }

                    break;

                case CellKind.Gru when layer.GruForm == GruForm.ResetAfter:
                    w.Line($"{Span} gh = stackalloc float[{Int(ghp)}]; // ({gh},) (0, 0, b_hn) + W_hh h");
                    w.Line($"{n}_Bhh.CopyTo(gh);");
                    w.Line($"{K}.PackedGemv.MultiplyAdd({n}_Whh, {hs}, gh, {width});");
                    w.Line($"{K}.CellKernels.GruResetAfter(gi.Slice(0, {Int(gh)}), gh.Slice(0, {Int(gh)}), h.Slice(0, {Int(h)}), {width}); // n = tanh(.. + r⊙(W_hn h + b_hn)); h' = (1−z)⊙n + z⊙h");
                    break;

                default: // GRU reset-before
                    int rzp = Pad(2 * h);
                    w.Line($"{Span} ghrz = stackalloc float[{Int(rzp)}]; // ({2 * h},) W_hr h, W_hz h");
                    w.Line($"{K}.PackedGemv.Multiply({n}_Whh_rz, {hs}, ghrz, {width});");
                    w.Line($"{Span} z = stackalloc float[{Int(h)}]; // ({h},) z");
                    w.Line($"{Span} rh = stackalloc float[{Int(h)}]; // ({h},) r ⊙ h");
                    w.Line($"{K}.CellKernels.GruResetBeforeGates(gi.Slice(0, {Int(2 * h)}), ghrz.Slice(0, {Int(2 * h)}), h.Slice(0, {Int(h)}), z, rh, {width});");
                    w.Line($"{Span} np = stackalloc float[{Int(Pad(h))}]; // ({h},) W_in x + b_in + b_hn + W_hn (r⊙h)");
                    w.Line($"gi.Slice({Int(2 * h)}, {Int(h)}).CopyTo(np);");
                    if (Pad(h) > h)
                    {
                        w.Line($"np.Slice({Int(h)}).Clear();");
                    }
                    w.Line($"{K}.PackedGemv.MultiplyAdd({n}_Whn, rh, np, {width});");
                    w.Line($"{K}.CellKernels.GruCombine(np.Slice(0, {Int(h)}), z, h.Slice(0, {Int(h)}), {width}); // h' = (1−z)⊙tanh(n) + z⊙h");
                    break;
            }

            w.Close();
        }

        private static string Describe(LayerSpec l)
        {
            string cell = l.Cell switch
            {
                CellKind.Rnn => $"RNN {l.Activation.ToString().ToLowerInvariant()}",
                CellKind.Lstm => "LSTM" + (l.Cifg ? " CIFG" : "") + (l.HasPeepholes ? " peepholes" : "") + (l.ProjectionSize > 0 ? $" proj {l.ProjectionSize}" : ""),
                _ => "GRU " + (l.GruForm == GruForm.ResetAfter ? "reset-after" : "reset-before"),
            };
            return $"{cell}, in {l.InputSize}, H {l.HiddenSize}{(l.HasBias ? "" : ", no bias")}";
        }

        private void WriteHead()
        {
            IndentedWriter w = _w;
            LayerSpec last = _spec.Layers[_spec.Layers.Count - 1];
            w.Line();
            w.Open($"private static void Head({RoSpan} x, {Span} output)");
            if (_spec.Head is { } head)
            {
                int o = head.OutputSize;
                w.Line($"{Span} y = stackalloc float[{Int(Pad(o))}]; // ({o},) logits = b + W x");
                w.Line("Head_b.CopyTo(y);");
                w.Line($"{K}.PackedGemv.MultiplyAdd(Head_W, x.Slice(0, {Int(head.InputSize)}), y, s_width);");
                w.Line($"y.Slice(0, {Int(o)}).CopyTo(output);");
            }
            else
            {
                w.Line($"x.Slice(0, {Int(last.OutputSize)}).CopyTo(output); // no head: the last layer's output");
            }

            w.Close();
        }

        private void WriteBuffers()
        {
            IndentedWriter w = _w;
            foreach (int size in _bufferSizes)
            {
                w.Line();
                w.Line($"[global::System.Runtime.CompilerServices.InlineArray({Int(size)})]");
                w.Open($"private struct Floats{Int(size)}");
                w.Line("private float _element0;");
                w.Close();
            }
        }
    }
}
