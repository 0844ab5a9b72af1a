using System;
using System.Collections.Generic;
using System.Linq;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Emit;

/// <summary>
/// Every decision about one generated struct, made once by <see cref="ModelPlanner"/> from a <see cref="ModelSpec"/>:
/// the type's members and interfaces, the route each input takes into the first layer, the kernel each cell
/// calls, every buffer size and every weight array with its packed data. <see cref="SourceWriter"/> turns a plan
/// into text without deciding anything (docs/architecture.md, "The emitter").
/// </summary>
public sealed partial class ModelPlan
{
    public required string? Namespace { get; init; }

    /// <summary>The struct's simple name.</summary>
    public required string TypeName { get; init; }

    /// <summary>The weight file's name for the header comment (empty when unknown).</summary>
    public required string SourceName { get; init; }

    /// <summary>The version written into <c>[GeneratedCode]</c>.</summary>
    public required string GeneratorVersion { get; init; }

    /// <summary>One line: <c>Embedding (63, 64) → LSTM(256) → Dense (63)</c>.</summary>
    public required string Shape { get; init; }

    public required long ParameterCount { get; init; }

    /// <summary>The vector-width cap as a <c>VectorWidth</c> member name: V512, V256, V128 or Scalar.</summary>
    public required string WidthCap { get; init; }

    /// <summary>Vocabulary size V for token models, features per step for dense models.</summary>
    public required int InputSize { get; init; }

    public required int OutputSize { get; init; }

    /// <summary>The <c>ModelTask</c> member name.</summary>
    public required string Task { get; init; }

    public required ModelSurface Surface { get; init; }

    /// <summary>Null when the model has no vocabulary.</summary>
    public required VocabularyPlan? Vocabulary { get; init; }

    /// <summary>Classifiers: the label names (<c>IClassifierModel</c>); null otherwise.</summary>
    public LabelsPlan? Labels { get; init; }

    /// <summary>How <c>Step(int)</c> reaches layer 0; null for dense models.</summary>
    public required TokenInputPlan? TokenInput { get; init; }

    /// <summary>Caption decoders: the image projection in front of layer 0's vector route.</summary>
    public required ImagePlan? Image { get; init; }

    /// <summary>Per layer, the instance state (empty for bidirectional or reverse models, which have no state).</summary>
    public required IReadOnlyList<LayerStatePlan> State { get; init; }

    /// <summary>One cell per layer and direction, in order (forward before reverse; a reverse-only layer has one, Reverse).</summary>
    public required IReadOnlyList<CellPlan> Cells { get; init; }

    /// <summary>Per layer: its output width and the cells that write it (Run without state only).</summary>
    public required IReadOnlyList<LayerPlan> Layers { get; init; }

    public required HeadPlan Head { get; init; }

    /// <summary>Every weight array, in the order written (and placed in the blob).</summary>
    public required IReadOnlyList<WeightEntry> Weights { get; init; }

    /// <summary>
    /// Every entry of the weight blob in blob order: <see cref="Weights"/>, then the nested encoder's (seq2seq). The
    /// layout (<see cref="WeightLayout.Assign"/>), its fingerprint and the pack step (<see cref="WeightLayout.Write"/>)
    /// all walk this list, so the encoder's accessors read the same resource as the decoder's.
    /// </summary>
    public IEnumerable<WeightEntry> BlobEntries => Encoder is null ? Weights : Weights.Concat(Encoder.Weights);

    /// <summary>Where the weights live: a manifest resource (the build's route) or string literals.</summary>
    public WeightStorage Storage { get; init; }

    /// <summary>The weight blob (<see cref="WeightStorage.Resource"/> plans only; else null).</summary>
    public WeightResourcePlan? Resource { get; init; }

    /// <summary>Sizes of the <c>[InlineArray]</c> float buffers the struct declares, ascending.</summary>
    public required IReadOnlyList<int> InlineArraySizes { get; init; }

    /// <summary>The widest layer output, for the two sequence buffers of a bidirectional Run.</summary>
    public required int MaxLayerWidth { get; init; }

    /// <summary>How the streamed matrices are stored (each <see cref="WeightEntry.ElementType"/> says it per array).</summary>
    public WeightType WeightType { get; init; }

    /// <summary>
    /// Seq2seq models: the encoder stack, written inside this struct as the nested struct <c>SourceEncoder</c> (whose
    /// vocabulary is the source vocabulary); null for every other model.
    /// </summary>
    public ModelPlan? Encoder { get; init; }

    /// <summary>Seq2seq models, per layer: whether <c>Encode</c> carries the encoder's c over (else only h).</summary>
    public IReadOnlyList<bool> CarryCell { get; init; } = System.Array.Empty<bool>();

    /// <summary>The struct is nested in another (a seq2seq encoder): no file header, internal state and buffers.</summary>
    public bool Nested { get; init; }
}

/// <summary>Which public members and interfaces the struct has.</summary>
public sealed class ModelSurface
{
    /// <summary>The base list, e.g. <c>IRecurrentModel&lt;T&gt;</c> names without the type argument.</summary>
    public required IReadOnlyList<string> Interfaces { get; init; }

    /// <summary><c>void Step(int token, Span&lt;float&gt; output)</c>.</summary>
    public required bool TokenStep { get; init; }

    /// <summary><c>void Step(ReadOnlySpan&lt;float&gt; input, Span&lt;float&gt; output)</c>.</summary>
    public required bool DenseStep { get; init; }

    /// <summary><c>static void Run(ReadOnlySpan&lt;int&gt; tokens, Span&lt;float&gt; outputs)</c>.</summary>
    public required bool TokenRun { get; init; }

    /// <summary><c>static void Run(ReadOnlySpan&lt;float&gt; inputs, Span&lt;float&gt; outputs)</c>.</summary>
    public required bool DenseRun { get; init; }

    /// <summary>VocabularyKind, VocabularyText, VocabularyOffsets and the special token ids.</summary>
    public required bool VocabularyMembers { get; init; }

    /// <summary><c>ImageFeatureSize</c> and <c>StepImage</c>.</summary>
    public required bool Caption { get; init; }

    /// <summary>
    /// Instance state, <c>CopyHiddenState</c>, and a <c>Run</c> that steps a local copy (unidirectional models);
    /// without state (bidirectional or reverse layers), <c>Run</c> goes layer by layer over the whole sequence.
    /// </summary>
    public required bool State { get; init; }
}

/// <summary>A classifier's label names, concatenated, with C + 1 offsets.</summary>
public sealed class LabelsPlan
{
    public required string Text { get; init; }

    public required IReadOnlyList<int> Offsets { get; init; }
}

public sealed class VocabularyPlan
{
    /// <summary>The <c>ModelVocabularyKind</c> member name.</summary>
    public required string Kind { get; init; }

    public required string Text { get; init; }

    /// <summary>V + 1 offsets into <see cref="Text"/>.</summary>
    public required IReadOnlyList<int> Offsets { get; init; }

    public required int StartToken { get; init; }

    public required int StopToken { get; init; }

    public required int UnknownToken { get; init; }
}

/// <summary>How a token reaches layer 0.</summary>
public enum InputRoute
{
    /// <summary>A row of the folded table b + W_ih · embedding(v): one gather, no matrix product.</summary>
    FoldedTableRow,

    /// <summary>A row of the table b + W_ih[:, v]: W_ih times a one-hot vector is one column.</summary>
    OneHotColumn,

    /// <summary>The embedding row, then b + W_ih x like any vector.</summary>
    EmbeddingRow,

    /// <summary>A dense vector: b + W_ih x.</summary>
    Vector,
}

public sealed class TokenInputPlan
{
    /// <summary>FoldedTableRow, OneHotColumn or EmbeddingRow.</summary>
    public required InputRoute Route { get; init; }

    /// <summary>E, the embedding width (EmbeddingRow only; else 0).</summary>
    public required int EmbeddingSize { get; init; }
}

public sealed class ImagePlan
{
    /// <summary>F, the feature vector length.</summary>
    public required int FeatureSize { get; init; }

    /// <summary>The projected width (layer 0's input size).</summary>
    public required int ProjectedSize { get; init; }

    /// <summary>The projection's output buffer, padded for the kernel.</summary>
    public required int PaddedSize { get; init; }
}

public sealed class LayerStatePlan
{
    /// <summary>Size of h (P with a projection, else H).</summary>
    public required int HiddenSize { get; init; }

    /// <summary>Size of c (H) for LSTM layers; 0 when the cell has no c.</summary>
    public required int CellSize { get; init; }
}

public sealed class LayerPlan
{
    /// <summary>Input width (the previous layer's output; 0 for layer 0, which takes the model's input).</summary>
    public required int InputWidth { get; init; }

    public required int OutputWidth { get; init; }

    /// <summary>Indices into <see cref="ModelPlan.Cells"/>: the forward cell, then the reverse one if any.</summary>
    public required IReadOnlyList<int> Cells { get; init; }
}

/// <summary>Which pointwise kernel a cell calls; the name is the <c>CellKernels</c> (or Activations) method.</summary>
public enum CellVariant
{
    Rnn,
    Lstm,
    LstmCifg,
    LstmPeephole,
    LstmCifgPeephole,
    GruResetAfter,
    GruResetBefore,
}

/// <summary>One layer in one direction: a static method that advances h (and c) by one step.</summary>
public sealed partial class CellPlan
{
    public required int Layer { get; init; }

    public required bool Reverse { get; init; }

    /// <summary>The method name, e.g. <c>Layer0</c> or <c>Layer1Reverse</c>.</summary>
    public required string Method { get; init; }

    /// <summary>Weight name prefix, e.g. <c>L0</c> or <c>L1R</c>.</summary>
    public required string Prefix { get; init; }

    /// <summary>One line for the comment above the method.</summary>
    public required string Description { get; init; }

    public required CellVariant Variant { get; init; }

    /// <summary>The kernel the pointwise step calls, e.g. <c>CellKernels.LstmCifg</c> or <c>Activations.Tanh</c>.</summary>
    public required string Kernel { get; init; }

    /// <summary>GRU reset-before: the kernel of the second half, <c>CellKernels.GruCombine</c> (or its clipped form).</summary>
    public string CombineKernel { get; init; } = "CellKernels.GruCombine";

    /// <summary>The layer's gate pre-activation clip (<c>LayerSpec.Clip</c>), or null; the kernels above then clip.</summary>
    public float? Clip { get; init; }

    /// <summary>H.</summary>
    public required int HiddenSize { get; init; }

    /// <summary>Size of h (P with a projection, else H).</summary>
    public required int StateSize { get; init; }

    /// <summary>P, or 0 without a projection.</summary>
    public required int ProjectionSize { get; init; }

    /// <summary>G·H: rows of W_ih.</summary>
    public required int GateRows { get; init; }

    /// <summary>G·H padded for the kernel: the length of the gate buffer.</summary>
    public required int PaddedGateRows { get; init; }

    /// <summary>Gate names in buffer order, e.g. "i,f,g,o".</summary>
    public required string GateNames { get; init; }

    /// <summary>The cell takes a token id (a table row); the table is <c>{Prefix}_Table</c>.</summary>
    public required bool TokenInput { get; init; }

    /// <summary>The cell takes a vector x (W_ih packed plus bias).</summary>
    public required bool VectorInput { get; init; }

    /// <summary>The token route (FoldedTableRow or OneHotColumn) when <see cref="TokenInput"/>.</summary>
    public required InputRoute TokenRoute { get; init; }

    /// <summary>Width of x on the vector route.</summary>
    public required int InputSize { get; init; }

    /// <summary>GRU reset-before only: 2H padded, the buffer for W_hr h, W_hz h.</summary>
    public required int PaddedResetUpdateRows { get; init; }

    /// <summary>GRU reset-before only: H padded, the buffer for the candidate's preactivation.</summary>
    public required int PaddedHiddenRows { get; init; }

    /// <summary>LSTM projection only: P padded, the buffer for W_hr m.</summary>
    public required int PaddedProjectionRows { get; init; }
}

public sealed partial class HeadPlan
{
    /// <summary>False: the output is the last layer's output as is.</summary>
    public required bool Present { get; init; }

    public required int InputSize { get; init; }

    public required int OutputSize { get; init; }

    public required int PaddedOutputSize { get; init; }
}

/// <summary>
/// One embedded weight array ("weight entry"): its property name, a comment with its shape, its element type,
/// element count and, once <see cref="WeightLayout"/> has placed it, its byte offset in the model's weight blob.
/// The packed data is produced on demand (<see cref="Produce"/>), so a plan made for the generator, which only
/// writes accessors, never packs or holds the weights (docs/generator.md, "Weights: manifest resources").
/// </summary>
public sealed class WeightEntry
{
    private readonly Func<Array> _produce;
    private Array? _data;

    /// <summary>A float32 entry over data already in hand.</summary>
    public WeightEntry(string name, string comment, float[] data)
        : this(name, comment, WeightElementType.Float32, data.LongLength, () => data)
    {
    }

    /// <summary>
    /// An entry whose data <paramref name="produce"/> makes when asked: an array of the element type's CLR type
    /// (<see cref="WeightElementTypes.ClrType"/>) with <paramref name="count"/> elements.
    /// </summary>
    public WeightEntry(string name, string comment, WeightElementType elementType, long count, Func<Array> produce)
    {
        Name = name;
        Comment = comment;
        ElementType = elementType;
        Count = count;
        _produce = produce;
    }

    public string Name { get; }

    public string Comment { get; }

    public WeightElementType ElementType { get; }

    /// <summary>Elements (not bytes).</summary>
    public long Count { get; }

    /// <summary>Int8 entries only: the name of the float32 entry holding one scale per padded row.</summary>
    public string? ScalesName { get; init; }

    /// <summary><see cref="Count"/> × the element size.</summary>
    public long ByteLength => Count * WeightElementTypes.Size(ElementType);

    /// <summary>The offset in the weight blob (a multiple of <see cref="WeightLayout.Alignment"/>); set by <see cref="WeightLayout"/>.</summary>
    public long ByteOffset { get; internal set; }

    /// <summary>The packed floats (float32 entries), produced once and kept; <see cref="Produce"/> does not keep them.</summary>
    public float[] Data => (float[])(_data ??= Checked(_produce()));

    /// <summary>The packed data as a fresh array of the element type's CLR type (kept only if <see cref="Data"/> was read).</summary>
    public Array Produce() => _data ?? Checked(_produce());

    private Array Checked(Array data)
    {
        if (data.GetType().GetElementType() != WeightElementTypes.ClrType(ElementType) || data.LongLength != Count)
        {
            throw new InvalidOperationException($"weight {Name}: produced {data.GetType().Name}[{data.LongLength}], planned {ElementType}[{Count}]");
        }

        return data;
    }
}

/// <summary>How a weight entry's elements are stored (docs/model-format.md, "Weight types").</summary>
public enum WeightElementType
{
    Float32,

    /// <summary>bfloat16 bit patterns (ushort).</summary>
    BFloat16,

    /// <summary>int8 values (sbyte), with a float32 row-scale entry named by <see cref="WeightEntry.ScalesName"/>.</summary>
    Int8,

    /// <summary>
    /// int8 values (sbyte) in the dot layout of <c>Int8DotPacking</c> (int8-dynamic weights), with a float32 row-scale
    /// entry named by <see cref="WeightEntry.ScalesName"/>.
    /// </summary>
    Int8Dot,
}

/// <summary>Sizes and names per <see cref="WeightElementType"/>: the one place a new element type is described.</summary>
public static class WeightElementTypes
{
    public static int Size(WeightElementType type) => type switch
    {
        WeightElementType.Float32 => 4,
        WeightElementType.BFloat16 => 2,
        WeightElementType.Int8 or WeightElementType.Int8Dot => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>The C# keyword of the element type, as generated code spells it (<c>ReadOnlySpan&lt;float&gt;</c>).</summary>
    public static string CSharpName(WeightElementType type) => type switch
    {
        WeightElementType.Float32 => "float",
        WeightElementType.BFloat16 => "ushort",
        WeightElementType.Int8 or WeightElementType.Int8Dot => "sbyte",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    public static Type ClrType(WeightElementType type) => type switch
    {
        WeightElementType.Float32 => typeof(float),
        WeightElementType.BFloat16 => typeof(ushort),
        WeightElementType.Int8 or WeightElementType.Int8Dot => typeof(sbyte),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };
}

/// <summary>Where a plan's weights live in the assembly.</summary>
public enum WeightStorage
{
    /// <summary>
    /// A manifest resource (the weight blob) read in place at run time: no size ceiling short of the PE format's;
    /// what the MSBuild targets use (docs/generator.md, "Weights: manifest resources").
    /// </summary>
    Resource,

    /// <summary>
    /// String literals of <c>\u</c> escapes in the source: self-contained (one .cs file, as <c>rnn compile</c> writes),
    /// but all literals of an assembly share a 2^24-byte heap (docs/generator.md, "Weights: string literals").
    /// </summary>
    Literals,
}

/// <summary>The weight blob a <see cref="WeightStorage.Resource"/> plan reads: its resource name, length and layout fingerprint.</summary>
public sealed class WeightResourcePlan
{
    /// <summary>The manifest resource's logical name.</summary>
    public required string Name { get; init; }

    /// <summary>Bytes, header included.</summary>
    public required long Length { get; init; }

    /// <summary>A hash of every entry's name, type, offset and count: the blob's header must carry the same.</summary>
    public required ulong Fingerprint { get; init; }
}
