using System;
using System.Collections.Generic;
using System.Globalization;
using System.Reflection;
using System.Text;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Emit;

/// <summary>
/// The emitter's first pass: <see cref="ModelSpec"/> → <see cref="ModelPlan"/>. Every decision is made here
/// (routes, kernels, sizes, packed weights, members); <see cref="SourceWriter"/> only spells the plan out.
/// Throws <see cref="CSharpEmitter.EmitException"/> when the model cannot be emitted.
/// </summary>
public static partial class ModelPlanner
{
    /// <summary>
    /// An embedding is folded into layer 0 (a (V, G·H) table of b + W_ih · embedding(v), one row gather per
    /// step) when the table is at most this many times the size of embedding + W_ih: a char model folds, a
    /// large word vocabulary does not.
    /// </summary>
    public const double EmbeddingFoldMaxGrowth = 2.0;

    private static readonly string s_version = ReadVersion();

    /// <summary>The informational version of this assembly (the generator's, when compiled into it), without a +commit suffix.</summary>
    public static string AssemblyVersion => s_version;

    public static ModelPlan Plan(ModelSpec spec, EmitOptions options) => Plan(spec, options, nested: false);

    private static ModelPlan Plan(ModelSpec spec, EmitOptions options, bool nested)
    {
        (string? ns, string name) = CSharpEmitter.SplitTypeName(options.TypeName);
        string widthCap = options.MaxVectorWidth switch
        {
            512 => "V512",
            256 => "V256",
            128 => "V128",
            0 => "Scalar",
            _ => throw new CSharpEmitter.EmitException(
                "bad-width", $"MaxVectorWidth {options.MaxVectorWidth} is not one of 512, 256, 128, 0."),
        };

        if (spec.Layers.Count == 0)
        {
            throw new CSharpEmitter.EmitException("unsupported", "the model has no recurrent layers.");
        }

        if (spec.ImageProjection is not null && spec.RunOnly)
        {
            throw new CSharpEmitter.EmitException("unsupported", "a caption decoder decodes word by word, so it cannot have a bidirectional or reverse layer (it would need the whole caption in advance).");
        }

        if (spec.ImageProjection is not null && !spec.HasTokenInput)
        {
            throw new CSharpEmitter.EmitException("unsupported", "a caption decoder needs token input after the image, but the model takes dense input.");
        }

        TokenInputPlan? tokenInput = PlanTokenInput(spec);
        var weights = new List<WeightEntry>();
        if (tokenInput?.Route == InputRoute.EmbeddingRow)
        {
            Matrix e = spec.Embedding!;
            weights.Add(new WeightEntry("Embedding", $"embedding ({e.Rows}, {e.Cols}) row-major", e.Data));
        }

        ImagePlan? image = null;
        if (spec.ImageProjection is { } img)
        {
            image = new ImagePlan { FeatureSize = img.InputSize, ProjectedSize = img.OutputSize, PaddedSize = Pad(img.OutputSize) };
            AddPacked(weights, "Image_W", $"image projection W ({img.W.Rows}, {img.W.Cols}) packed", img.W, options.WeightType);
            weights.Add(new WeightEntry("Image_b", $"image projection b ({img.W.Rows},) padded", PadVector(img.b, img.W.Rows)));
        }

        IReadOnlyList<DenseLayerPlan> inputLayers = PlanDenseLayers(spec.InputLayers, "In", "input layer", weights);
        var cells = new List<CellPlan>();
        var layers = new List<LayerPlan>();
        for (int l = 0; l < spec.Layers.Count; l++)
        {
            LayerSpec layer = spec.Layers[l];
            var indices = new List<int> { cells.Count };
            cells.Add(PlanCell(spec, l, layer, layer.Forward, reverse: layer.Reverse, tokenInput, image is not null, weights, options.WeightType));
            if (layer.Backward is not null)
            {
                indices.Add(cells.Count);
                cells.Add(PlanCell(spec, l, layer, layer.Backward, reverse: true, tokenInput, image is not null, weights, options.WeightType));
            }

            layers.Add(new LayerPlan { InputWidth = l == 0 ? 0 : spec.Layers[l - 1].OutputSize, OutputWidth = layer.OutputSize, Cells = indices });
        }

        IReadOnlyList<DenseLayerPlan> headLayers = PlanDenseLayers(spec.HeadLayers, "HeadLayer", "head layer", weights);
        HeadPlan head = PlanHead(spec, weights, options.WeightType);

        // A seq2seq encoder's entries follow the decoder's in the same blob: one layout for the pack step and the
        // accessors (ModelPlan.BlobEntries); the nested plan places nothing itself.
        ModelPlan? encoderPlan = PlanEncoder(spec, options); // ModelPlanner.Seq2Seq.cs
        var blobEntries = new List<WeightEntry>(weights);
        if (encoderPlan is not null)
        {
            blobEntries.AddRange(encoderPlan.Weights);
        }

        WeightResourcePlan? resource = null;
        if (nested)
        {
            // A nested encoder's entries are placed, and its literals counted, by the enclosing plan.
        }
        else if (options.Storage == WeightStorage.Resource)
        {
            resource = WeightLayout.Assign(blobEntries, options.ResourceName ?? EmitOptions.DefaultResourceName(options.TypeName));
            if (resource.Length > WeightLayout.MaxBlobBytes)
            {
                throw new CSharpEmitter.EmitException(
                    "too-large",
                    $"the packed weights take {resource.Length / (1024 * 1024)} MB; one model's weight blob (a manifest resource) is limited to {WeightLayout.MaxBlobBytes / (1024 * 1024)} MB by the PE format's 32-bit resource sizes.");
            }
        }
        else if (TotalFloats(blobEntries) > WeightBlob.MaxFloats)
        {
            long total = TotalFloats(blobEntries);
            throw new CSharpEmitter.EmitException(
                "too-large",
                $"the packed weights take {total} floats ({total * 4 / (1024 * 1024)} MB); weights embedded as string literals are limited to {WeightBlob.MaxFloats} floats ({WeightBlob.MaxFloats * 4 / (1024 * 1024)} MB) per assembly by the 2^24-byte user-string heap (CS8103). Build through RnnEmbedded.targets (weights in a manifest resource, no such limit) or reduce H.");
        }

        bool bidirectional = spec.RunOnly; // bidirectional or reverse layers: Run only, no state
        var state = new List<LayerStatePlan>();
        var inlineSizes = new SortedSet<int>();
        int maxWidth = 0;
        foreach (LayerSpec layer in spec.Layers)
        {
            int c = layer.Cell == CellKind.Lstm ? layer.HiddenSize : 0;
            if (!bidirectional)
            {
                state.Add(new LayerStatePlan { HiddenSize = layer.StateSize, CellSize = c });
            }

            // Unidirectional: the state fields; bidirectional: Run's per-direction locals.
            inlineSizes.Add(layer.StateSize);
            if (c > 0)
            {
                inlineSizes.Add(c);
            }

            maxWidth = Math.Max(maxWidth, layer.OutputSize);
        }

        return new ModelPlan
        {
            Namespace = ns,
            TypeName = name,
            SourceName = options.SourceName,
            GeneratorVersion = options.GeneratorVersion ?? s_version,
            Shape = Shape(spec),
            ParameterCount = spec.ParameterCount,
            WidthCap = widthCap,
            InputSize = spec.InputSize,
            OutputSize = spec.OutputSize,
            Task = spec.Task.ToString(), // one ModelTask for compiler and runtime (src/Shared)
            Surface = PlanSurface(spec),
            Vocabulary = PlanVocabulary(spec.Vocabulary),
            Labels = PlanLabels(spec.Labels),
            TokenInput = tokenInput,
            Image = image,
            State = state,
            Cells = cells,
            Layers = layers,
            Head = head,
            InputLayers = inputLayers,
            HeadLayers = headLayers,
            OutputFunction = spec.Output,
            Weights = weights,
            Storage = options.Storage,
            Resource = resource,
            InlineArraySizes = new List<int>(inlineSizes),
            MaxLayerWidth = maxWidth,
            WeightType = options.WeightType,
            Encoder = encoderPlan,
            CarryCell = PlanCarryCell(spec),
            Nested = nested,
        };
    }

    // ---------------------------------------------------------------- surface

    /// <summary>The capability interfaces (docs/architecture.md) and members: only what the model can do.</summary>
    private static ModelSurface PlanSurface(ModelSpec spec)
    {
        bool token = spec.HasTokenInput;
        bool bidi = spec.RunOnly; // bidirectional or reverse layers: Run only
        bool caption = spec.ImageProjection is not null;
        bool vocabulary = spec.Vocabulary is not null;
        var interfaces = new List<string>();
        if (spec.Encoder is not null)
        {
            interfaces.Add("ISequenceToSequenceModel");
        }
        else if (caption)
        {
            interfaces.Add("ICaptionModel");
        }
        else if (!bidi)
        {
            interfaces.Add(token ? "ITokenModel" : "IDenseModel");
        }

        interfaces.Add(token ? "ITokenSequenceModel" : "IDenseSequenceModel");
        if (vocabulary)
        {
            interfaces.Add("IVocabularyModel");
        }

        if (spec.Labels is not null)
        {
            interfaces.Add("IClassifierModel");
        }

        return new ModelSurface
        {
            Interfaces = interfaces,
            TokenStep = token && !bidi,
            DenseStep = !token && !bidi,
            TokenRun = token,
            DenseRun = !token,
            VocabularyMembers = vocabulary,
            Caption = caption,
            State = !bidi,
        };
    }

    private static LabelsPlan? PlanLabels(IReadOnlyList<string>? labels)
    {
        if (labels is null)
        {
            return null;
        }

        var text = new StringBuilder();
        var offsets = new List<int> { 0 };
        foreach (string label in labels)
        {
            text.Append(label);
            offsets.Add(text.Length);
        }

        return new LabelsPlan { Text = text.ToString(), Offsets = offsets };
    }

    private static VocabularyPlan? PlanVocabulary(Vocabulary? vocab)
    {
        if (vocab is null)
        {
            return null;
        }

        var text = new StringBuilder();
        var offsets = new List<int> { 0 };
        foreach (string token in vocab.Tokens)
        {
            text.Append(token);
            offsets.Add(text.Length);
        }

        return new VocabularyPlan
        {
            // ModelVocabularyKind is one enum for the compiler and the runtime (src/Shared): its member name is the
            // runtime's member name by construction.
            Kind = vocab.Kind.ToString(),
            Text = text.ToString(),
            Offsets = offsets,
            StartToken = vocab.StartToken,
            StopToken = vocab.StopToken,
            UnknownToken = vocab.UnknownToken,
        };
    }

    // ---------------------------------------------------------------- input routes

    private static TokenInputPlan? PlanTokenInput(ModelSpec spec)
    {
        switch (spec.InputKind)
        {
            case InputKind.OneHot:
                // W_ih x for a one-hot x is a column of W_ih: store b + W_ih[:, v] as row v, always exact.
                return new TokenInputPlan { Route = InputRoute.OneHotColumn, EmbeddingSize = 0 };
            case InputKind.Embedding when ShouldFold(spec):
                return new TokenInputPlan { Route = InputRoute.FoldedTableRow, EmbeddingSize = 0 };
            case InputKind.Embedding:
                return new TokenInputPlan { Route = InputRoute.EmbeddingRow, EmbeddingSize = spec.Embedding!.Cols };
            default:
                return null;
        }
    }

    /// <summary>
    /// Folding needs every layer-0 input to be a token: a caption decoder's projected image is a vector, and
    /// keeping the embedding (E columns) is cheaper than keeping both a table and W_ih.
    /// </summary>
    private static bool ShouldFold(ModelSpec spec)
    {
        if (spec.ImageProjection is not null)
        {
            return false;
        }

        LayerSpec l0 = spec.Layers[0];
        long v = spec.InputSize;
        long e = spec.Embedding!.Cols;
        long gh = Pad(l0.GateCount * l0.HiddenSize) * (l0.Bidirectional ? 2L : 1L);
        long table = v * gh;
        long plain = v * e + gh * e;
        return table <= EmbeddingFoldMaxGrowth * plain;
    }

    // ---------------------------------------------------------------- cells

    private static CellPlan PlanCell(
        ModelSpec spec, int l, LayerSpec layer, DirectionWeights d, bool reverse, TokenInputPlan? tokenInput, bool image, List<WeightEntry> weights, WeightType weightType)
    {
        string prefix = "L" + Int(l) + (reverse ? "R" : "");
        int h = layer.HiddenSize;
        int s = layer.StateSize;
        int gh = layer.GateCount * h;
        int ghp = Pad(gh);
        float[] bias = InputBias(layer, d);
        string dir = reverse ? "reverse" : "forward";

        bool tokenRoute = l == 0 && tokenInput is { Route: InputRoute.FoldedTableRow or InputRoute.OneHotColumn };
        // Layer 0 of a one-hot caption decoder takes both: words as table rows, the projected image as a vector.
        bool vectorRoute = !tokenRoute || image;
        if (tokenRoute)
        {
            weights.Add(new WeightEntry(
                prefix + "_Table",
                $"layer {l} {dir}: b + W_ih · input(v), ({spec.InputSize}, {ghp}) one row per token",
                WeightElementType.Float32,
                (long)spec.InputSize * ghp,
                () => Table(spec, layer, d, bias)));
        }

        if (vectorRoute)
        {
            // Layer 0's W_ih stays float32 beside a token table (WeightQuantizer.Apply).
            AddPacked(weights, prefix + "_W_ih", $"layer {l} {dir}: W_ih ({gh}, {layer.InputSize}) packed", d.W_ih, tokenRoute ? WeightType.Float32 : weightType);
            weights.Add(new WeightEntry(prefix + "_b", $"layer {l} {dir}: b_ih + b_hh where exact ({gh},) padded", bias));
        }

        CellVariant variant = Variant(layer);
        if (variant == CellVariant.GruResetBefore)
        {
            AddPacked(weights, prefix + "_W_hrz", $"layer {l} {dir}: W_hr, W_hz ({2 * h}, {s}) packed", d.W_hh, weightType, 0, 2 * h);
            AddPacked(weights, prefix + "_W_hn", $"layer {l} {dir}: W_hn ({h}, {s}) packed", d.W_hh, weightType, 2 * h, h);
        }
        else
        {
            AddPacked(weights, prefix + "_W_hh", $"layer {l} {dir}: W_hh ({gh}, {s}) packed", d.W_hh, weightType);
        }

        if (variant == CellVariant.GruResetAfter)
        {
            var bhn = new float[ghp];
            for (int r = 2 * h; r < 3 * h; r++)
            {
                bhn[r] = d.b_hh?[r] ?? 0f;
            }

            weights.Add(new WeightEntry(prefix + "_b_hn", $"layer {l} {dir}: (0, 0, b_hn) ({gh},) padded", bhn));
        }

        if (d.Peepholes is { } p)
        {
            weights.Add(new WeightEntry(prefix + "_Peepholes", $"layer {l} {dir}: p_i, p_f, p_o (3, {h})", p.Data));
        }

        if (d.W_hr is { } whr)
        {
            AddPacked(weights, prefix + "_W_hr", $"layer {l} {dir}: W_hr ({whr.Rows}, {whr.Cols}) packed", whr, weightType);
        }

        return new CellPlan
        {
            Layer = l,
            Reverse = reverse,
            Method = "Layer" + Int(l) + (reverse ? "Reverse" : ""),
            Prefix = prefix,
            Description = Describe(layer, reverse),
            Variant = variant,
            Kernel = ClipKernel(layer, variant, prefix) ?? Kernel(variant, layer.Activation), // ModelPlanner.Clip.cs
            CombineKernel = ClipKernel(layer, CellVariant.GruResetBefore, prefix, combine: true) ?? "CellKernels.GruCombine",
            Clip = layer.Clip,
            HiddenSize = h,
            StateSize = s,
            ProjectionSize = layer.ProjectionSize,
            GateRows = gh,
            PaddedGateRows = ghp,
            GateNames = layer.Cell switch
            {
                CellKind.Lstm => layer.Cifg ? "i,g,o" : "i,f,g,o",
                CellKind.Gru => "r,z,n",
                _ => "a",
            },
            TokenInput = tokenRoute,
            VectorInput = vectorRoute,
            TokenRoute = tokenRoute ? tokenInput!.Route : InputRoute.Vector,
            InputSize = layer.InputSize,
            PaddedResetUpdateRows = variant == CellVariant.GruResetBefore ? Pad(2 * h) : 0,
            PaddedHiddenRows = variant == CellVariant.GruResetBefore ? Pad(h) : 0,
            PaddedProjectionRows = layer.ProjectionSize > 0 ? Pad(layer.ProjectionSize) : 0,
            ZeroStateSkipsRecurrent = image && ZeroStateSkipsRecurrent(layer, d, bias, weightType), // ModelPlanner.StartImage.cs
        };
    }

    internal static CellVariant Variant(LayerSpec layer) => layer.Cell switch
    {
        CellKind.Rnn => CellVariant.Rnn,
        CellKind.Gru => layer.GruForm == GruForm.ResetAfter ? CellVariant.GruResetAfter : CellVariant.GruResetBefore,
        _ => (layer.Cifg, layer.HasPeepholes) switch
        {
            (false, false) => CellVariant.Lstm,
            (true, false) => CellVariant.LstmCifg,
            (false, true) => CellVariant.LstmPeephole,
            _ => CellVariant.LstmCifgPeephole,
        },
    };

    private static string Kernel(CellVariant variant, ActivationKind activation) => variant switch
    {
        CellVariant.Rnn => activation switch
        {
            ActivationKind.Relu => "Activations.Relu",
            ActivationKind.Sigmoid => "Activations.Sigmoid",
            _ => "Activations.Tanh",
        },
        CellVariant.Lstm => "CellKernels.Lstm",
        CellVariant.LstmCifg => "CellKernels.LstmCifg",
        CellVariant.LstmPeephole => "CellKernels.LstmPeephole",
        CellVariant.LstmCifgPeephole => "CellKernels.LstmCifgPeephole",
        CellVariant.GruResetAfter => "CellKernels.GruResetAfter",
        _ => "CellKernels.GruResetBeforeGates",
    };

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

    /// <summary>Row v = b + W_ih · input(v), where input(v) is the embedding row or the one-hot vector.</summary>
    private static float[] Table(ModelSpec spec, LayerSpec layer, DirectionWeights d, float[] bias)
    {
        int v = spec.InputSize;
        int gh = layer.GateCount * layer.HiddenSize;
        int ghp = Pad(gh);
        int inSize = layer.InputSize;
        var table = new float[(long)v * ghp];
        for (int t = 0; t < v; t++)
        {
            for (int r = 0; r < gh; r++)
            {
                double acc = bias[r];
                if (spec.InputKind == InputKind.OneHot)
                {
                    acc += d.W_ih.Data[(long)r * inSize + t];
                }
                else
                {
                    float[] emb = spec.Embedding!.Data;
                    for (int j = 0; j < inSize; j++)
                    {
                        acc += (double)d.W_ih.Data[(long)r * inSize + j] * emb[(long)t * inSize + j];
                    }
                }

                table[(long)t * ghp + r] = (float)acc;
            }
        }

        return table;
    }

    private static HeadPlan PlanHead(ModelSpec spec, List<WeightEntry> weights, WeightType weightType)
    {
        LayerSpec last = spec.Layers[spec.Layers.Count - 1];
        if (spec.Head is not { } head)
        {
            return new HeadPlan { Present = false, InputSize = last.OutputSize, OutputSize = last.OutputSize, PaddedOutputSize = 0 };
        }

        AddPacked(weights, "Head_W", $"head W ({head.W.Rows}, {head.W.Cols}) packed", head.W, weightType);
        weights.Add(new WeightEntry("Head_b", $"head b ({head.W.Rows},) padded", PadVector(head.b, head.W.Rows)));
        return new HeadPlan
        {
            Present = true,
            InputSize = head.InputSize,
            OutputSize = head.OutputSize,
            PaddedOutputSize = Pad(head.OutputSize),
            ActivationKernel = ActivationKernel(head.Activation),
        };
    }

    // ---------------------------------------------------------------- text the plan carries

    /// <summary><c>Embedding (63, 64) → LSTM(256) → Dense (63)</c>.</summary>
    private static string Shape(ModelSpec spec)
    {
        var sb = new StringBuilder();
        if (spec.Encoder is { } encoder)
        {
            sb.Append("Encoder ").Append(Shape(encoder)).Append(" | Decoder ");
        }

        if (spec.ImageProjection is { } img)
        {
            sb.Append("Image (").Append(Int(img.InputSize)).Append(") → Dense (").Append(Int(img.OutputSize)).Append(") | ");
        }

        sb.Append(spec.InputKind switch
        {
            InputKind.Embedding => $"Embedding ({spec.InputSize}, {spec.Embedding!.Cols})",
            InputKind.OneHot => $"One-hot ({spec.InputSize})",
            _ => $"Dense input ({spec.InputSize})",
        });
        AppendDenseShapes(sb, spec.InputLayers);
        foreach (LayerSpec l in spec.Layers)
        {
            sb.Append(" → ").Append(CellNames.DisplayName(l.Cell)).Append('(').Append(Int(l.HiddenSize));
            if (l.ProjectionSize > 0)
            {
                sb.Append(", proj ").Append(Int(l.ProjectionSize));
            }

            if (l.Bidirectional)
            {
                sb.Append(", bidirectional");
            }

            if (l.Reverse)
            {
                sb.Append(", reverse");
            }

            sb.Append(')');
        }

        AppendDenseShapes(sb, spec.HeadStack);
        AppendOutputShape(sb, spec.Output);
        return sb.ToString();
    }

    private static string Describe(LayerSpec l, bool reverse)
    {
        string cell = CellNames.DisplayName(l.Cell) + " " + CellNames.Variant(l);
        return $"{cell}{(reverse ? " reverse" : "")}, in {l.InputSize}, H {l.HiddenSize}{(l.HasBias ? "" : ", no bias")}";
    }

    // ---------------------------------------------------------------- helpers

    private static int Pad(int rows) => PanelPacking.PaddedRows(rows);

    private static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static long TotalFloats(List<WeightEntry> weights)
    {
        long n = 0;
        foreach (WeightEntry e in weights)
        {
            n += e.ByteLength / 4;
        }

        return n;
    }

    /// <summary>A panel-packed matrix (rows [start, start + count) of <paramref name="m"/>), packed only when asked for.</summary>
    private static WeightEntry Packed(string name, string comment, Matrix m, int start = 0, int count = -1)
    {
        int rows = count < 0 ? m.Rows : count;
        return new WeightEntry(
            name, comment, WeightElementType.Float32, PanelPacking.PackedLength(rows, m.Cols),
            () => PanelPacking.Pack(start == 0 && rows == m.Rows ? m : Rows(m, start, rows)));
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

    private static Matrix Rows(Matrix m, int start, int count)
    {
        var data = new float[(long)count * m.Cols];
        Array.Copy(m.Data, (long)start * m.Cols, data, 0, data.LongLength);
        return new Matrix(count, m.Cols, data);
    }

    private static string ReadVersion()
    {
        string? v = typeof(ModelPlanner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(ModelPlanner).Assembly.GetName().Version?.ToString();
        if (string.IsNullOrEmpty(v))
        {
            return "0.0.0";
        }

        int plus = v!.IndexOf('+');
        return plus < 0 ? v : v.Substring(0, plus);
    }
}
