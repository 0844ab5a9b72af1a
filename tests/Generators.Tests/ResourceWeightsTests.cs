extern alias gen;

using System.Diagnostics;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Runtime;
using RnnEmbedded.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RnnEmbedded.Tests;

/// <summary>
/// The resource route (docs/generator.md, "Weights: manifest resources"): the build step packs a blob and a
/// header-only carrier, the generator writes accessors into the blob, the compiled model reads it in place. Models
/// far past the string-literal route's 16 MB compile, run without allocating and match the reference engine.
/// </summary>
[Collection(nameof(NoParallelGc))] // big allocations here; GC-counting tests must not run beside them
public class ResourceWeightsTests
{
    private readonly ITestOutputHelper _output;

    public ResourceWeightsTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<int> Widths() => new() { 512, 256, 128, 0 };

    [Theory]
    [MemberData(nameof(Widths))]
    public void ResourceRoute_MatchesLiteralRouteAndReference(int width)
    {
        ModelSpec spec = TestModels.Lstm(vocab: 40, e: 16, h: 33, layers: 2, seed: 5);
        byte[] file = TestModels.ToBytes(spec);
        (ModelItem packed, ResourceDescription blob, _) = ModelItem.Packed("Res.M", file, width.ToString());
        var literal = new ModelItem("Lit.M", file, MaxVectorWidth: width.ToString());
        Type res = CompileOne(packed, blob, "Res" + width).GetType("Res.M")!;
        Type lit = CompileOne(literal, null, "Lit" + width).GetType("Lit.M")!;

        int[] tokens = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 35 };
        float[][] expected = ReferenceEngine.Run(spec, tokens);
        float[][] fromResource = Steps(res, tokens);
        float[][] fromLiterals = Steps(lit, tokens);
        for (int t = 0; t < tokens.Length; t++)
        {
            Assert.Equal(fromLiterals[t], fromResource[t]); // same packed floats, same kernels: bit-identical
            AssertClose(expected[t], fromResource[t], $"step {t}");
        }
    }

    /// <summary>
    /// bfloat16 and int8 on the resource route: the pack step quantizes (WeightPack with the item's weight type), the
    /// generator lays out the same entries from the header alone (the fingerprint check passes), and the model reads
    /// the ushort/sbyte spans and int8 row scales from the blob. It matches the literal route bit for bit and the
    /// reference engine on the same quantized weights (<see cref="WeightQuantizer.Apply"/>).
    /// </summary>
    [Theory]
    [InlineData("bfloat16", WeightType.BFloat16, 512)]
    [InlineData("int8", WeightType.Int8, 512)]
    [InlineData("int8", WeightType.Int8, 0)]
    [InlineData("int8-dynamic", WeightType.Int8Dynamic, 512)]
    [InlineData("int8-dynamic", WeightType.Int8Dynamic, 0)]
    public void ResourceRoute_QuantizedWeights_MatchLiteralRouteAndQuantizedReference(string name, WeightType type, int width)
    {
        ModelSpec spec = TestModels.Lstm(vocab: 40, e: 16, h: 33, layers: 2, seed: 11);
        byte[] file = TestModels.ToBytes(spec);
        (ModelItem packed, ResourceDescription blob, _) = ModelItem.Packed("ResQ.M", file, width.ToString(), name);
        var literal = new ModelItem("LitQ.M", file, MaxVectorWidth: width.ToString(), WeightType: name);
        Assembly resAssembly = CompileOne(packed, blob, $"ResQ_{name}_{width}");
        Type res = resAssembly.GetType("ResQ.M")!;
        Type lit = CompileOne(literal, null, $"LitQ_{name}_{width}").GetType("LitQ.M")!;

        int[] tokens = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 35, 0, 39 };
        float[][] expected = ReferenceEngine.Run(WeightQuantizer.Apply(spec, type), tokens);
        float[][] fp32 = ReferenceEngine.Run(spec, tokens);
        float[][] fromResource = Steps(res, tokens);
        float[][] fromLiterals = Steps(lit, tokens);
        bool differsFromFloat32 = false;
        for (int t = 0; t < tokens.Length; t++)
        {
            Assert.Equal(fromLiterals[t], fromResource[t]); // same quantized values, same kernels: bit-identical
            AssertClose(expected[t], fromResource[t], $"{name} W{width} step {t}");
            differsFromFloat32 |= !fp32[t].AsSpan().SequenceEqual(fromResource[t]);
        }

        Assert.True(differsFromFloat32, $"{name}: the model computed float32 results; the quantized weights were not used");
        string generated = string.Join("\n", GeneratorHarness.Run(GeneratorHarness.CreateDriver(new[] { packed })).Output.SyntaxTrees.Select(t => t.ToString()));
        Assert.Contains(type is WeightType.Int8 or WeightType.Int8Dynamic ? "EmbeddedWeights.Span<sbyte>(s_weights" : "EmbeddedWeights.Span<ushort>(s_weights", generated);
        if (type == WeightType.Int8Dynamic)
        {
            Assert.Contains("PackedInt8DotMatrix", generated, StringComparison.Ordinal);
        }
    }

    public static TheoryData<ModelCase, int> Seq2SeqCases()
    {
        var data = new TheoryData<ModelCase, int>();
        var cases = new[]
        {
            new ModelCase(CaseCell.GruResetAfter, InputKind.Embedding, RnnEmbedded.Compiler.Model.ModelTask.Seq2Seq, Layers: 2, Bidirectional: false, Projection: false, Bias: true, Head: true, Vocabulary: true, PerLayer: true, Seed: 7_101),
            new ModelCase(CaseCell.LstmPeepholes, InputKind.OneHot, RnnEmbedded.Compiler.Model.ModelTask.Seq2Seq, Layers: 2, Bidirectional: false, Projection: true, Bias: true, Head: true, Vocabulary: true, PerLayer: true, Seed: 7_102),

            // Quantized: the pack step quantizes the encoder's entries too and the accessors read them as ushort/sbyte.
            new ModelCase(CaseCell.Lstm, InputKind.Embedding, RnnEmbedded.Compiler.Model.ModelTask.Seq2Seq, Layers: 2, Bidirectional: false, Projection: false, Bias: true, Head: true, Vocabulary: true, PerLayer: true, Seed: 7_103, Weights: WeightType.Int8),
            new ModelCase(CaseCell.GruResetBefore, InputKind.OneHot, RnnEmbedded.Compiler.Model.ModelTask.Seq2Seq, Layers: 1, Bidirectional: false, Projection: false, Bias: true, Head: true, Vocabulary: true, PerLayer: false, Seed: 7_104, Weights: WeightType.BFloat16),
        };
        foreach (ModelCase c in cases)
        {
            data.Add(c, 512);
            data.Add(c, 0);
        }

        return data;
    }

    /// <summary>
    /// A seq2seq model's nested encoder reads the same blob as its decoder: the pack step writes the encoder's
    /// entries after the decoder's and the generator's accessors point there (ModelPlan.BlobEntries). A blob
    /// without them would leave the encoder all zeros, which the literal route and the reference both catch.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seq2SeqCases))]
    public void Seq2Seq_ResourceRoute_MatchesLiteralRouteAndReference(ModelCase c, int width)
    {
        Assert.Null(c.ExpectedRejection());
        ModelSpec spec = c.BuildSpec();
        Assert.NotNull(spec.Encoder);
        byte[] file = TestModels.ToBytes(spec);
        string suffix = c.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture) + "W" + width;
        string weightType = WeightTypes.Name(c.Weights);
        (ModelItem packed, ResourceDescription blob, _) = ModelItem.Packed("ResS2S.M" + suffix, file, width.ToString(), weightType);
        var literal = new ModelItem("LitS2S.M" + suffix, file, MaxVectorWidth: width.ToString(), WeightType: weightType);
        Type res = CompileOne(packed, blob, "ResS2S" + suffix).GetType("ResS2S.M" + suffix)!;
        Type lit = CompileOne(literal, null, "LitS2S" + suffix).GetType("LitS2S.M" + suffix)!;

        int[] source = c.DrawSource(spec);
        int[] tokens = Enumerable.Range(0, 6).Select(k => (k * 7 + 1) % spec.InputSize).ToArray();
        float[][] expected = Seq2SeqReference.Run(WeightQuantizer.Apply(spec, c.Weights), source, tokens);
        float[][] fromResource = ModelRunner.EncodeStep(res, source, tokens);
        float[][] fromLiterals = ModelRunner.EncodeStep(lit, source, tokens);
        Assert.Equal(expected.Length, fromResource.Length);
        for (int t = 0; t < tokens.Length; t++)
        {
            Assert.Equal(fromLiterals[t], fromResource[t]); // same packed floats, same kernels: bit-identical
            AssertClose(expected[t], fromResource[t], $"step {t}");
        }
    }

    [Fact]
    public void BlobHeader_CompilerAndRuntimeAgree()
    {
        Assert.Equal(WeightLayout.Magic, RnnEmbedded.Runtime.CompilerServices.EmbeddedWeights.Magic);
        Assert.Equal(WeightLayout.HeaderSize, RnnEmbedded.Runtime.CompilerServices.EmbeddedWeights.HeaderSize);
        Assert.Equal("RNNWGT01", System.Text.Encoding.ASCII.GetString(BitConverter.GetBytes(WeightLayout.Magic)));
    }

    [Fact]
    public void Carrier_IsRejectedWhenItsLayoutDiffersFromThePlan()
    {
        byte[] file = TestModels.ToBytes(TestModels.Lstm(vocab: 20, e: 8, h: 17, seed: 7));
        (ModelItem item, _, _) = ModelItem.Packed("Stale.M", file);
        string[] lines = item.CarrierText.Split('\n');
        lines[3] = lines[3].Split(' ')[0] + " 0123456789abcdef"; // another fingerprint: a blob from another layout
        ModelItem stale = item with { PackedCarrier = string.Join("\n", lines) };
        (_, _, var diagnostics) = GeneratorHarness.Run(GeneratorHarness.CreateDriver(new[] { stale }));
        Diagnostic d = Assert.Single(diagnostics);
        Assert.Equal("RNN0006", d.Id);
        Assert.Contains("another layout", d.GetMessage());
    }

    /// <summary>
    /// A small blob is 64-byte aligned by default (copied once unless the image already has it aligned); the
    /// RnnEmbedded.AlignWeights switch set to false reads it in place. The 78 MB word model below checks the other
    /// default: above EmbeddedWeights.AlignDefaultLimit the blob is read in place.
    /// </summary>
    [Fact]
    public unsafe void SmallWeights_AreAlignedByDefault_OrReadInPlaceWhenTheAppAsks()
    {
        byte[] file = TestModels.ToBytes(TestModels.Lstm(vocab: 20, e: 8, h: 17, seed: 7));
        (ModelItem a, ResourceDescription blobA, _) = ModelItem.Packed("InPlace.M", file);
        (ModelItem b, ResourceDescription blobB, _) = ModelItem.Packed("Aligned.M", file);
        Assembly inPlace = CompileOne(a, blobA, "InPlace");
        Assembly aligned = CompileOne(b, blobB, "Aligned");

        AppContext.SetSwitch(RnnEmbedded.Runtime.CompilerServices.EmbeddedWeights.AlignSwitch, false);
        try
        {
            nint address = WeightsAddress(inPlace.GetType("InPlace.M")!);
            using var stream = (UnmanagedMemoryStream)inPlace.GetManifestResourceStream("InPlace.M.rnnweights")!;
            Assert.Equal((nint)stream.PositionPointer, address); // the image's own bytes: no copy
        }
        finally
        {
            ClearAlignSwitch();
        }

        Assert.Equal(0, WeightsAddress(aligned.GetType("Aligned.M")!) % 64); // the default for a small blob
        Assert.Equal(Steps(inPlace.GetType("InPlace.M")!, new[] { 1, 2, 3 }), Steps(aligned.GetType("Aligned.M")!, new[] { 1, 2, 3 }));
    }

    // AppContext has no API to remove a switch; the runtime reads an unset switch from AppContext.GetData, so clearing
    // the data (where SetSwitch stores it as well) is not enough: the switch table is private. Tests that set the switch
    // therefore run in this class only (xunit runs a class's tests one at a time) and put the unset state back through
    // reflection on AppContext's switch table.
    private static void ClearAlignSwitch()
    {
        var field = typeof(AppContext).GetField("s_switches", BindingFlags.NonPublic | BindingFlags.Static);
        if (field?.GetValue(null) is System.Collections.IDictionary switches)
        {
            lock (switches)
            {
                switches.Remove(RnnEmbedded.Runtime.CompilerServices.EmbeddedWeights.AlignSwitch);
            }
        }
        else
        {
            AppContext.SetSwitch(RnnEmbedded.Runtime.CompilerServices.EmbeddedWeights.AlignSwitch, true); // the small-blob default
        }
    }

    private static nint WeightsAddress(Type model) =>
        (nint)model.GetField("s_weights", BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!;

    /// <summary>Issue 11, item 7: a 50,000-word model (E=128, H=256, ≈ 19.6 M parameters, 78 MB packed).</summary>
    [Fact]
    public void WordModel50k_CompilesRunsWithoutAllocatingAndMatchesReference()
    {
        ModelSpec spec = WordModel(vocab: 50_000, e: 128, h: 256, seed: 11);
        Assert.InRange(spec.ParameterCount, 19_000_000, 20_000_000);
        byte[] file = TestModels.ToBytes(spec);
        (ModelItem item, ResourceDescription blob, _) = ModelItem.Packed("Big.WordModel", file);
        file = Array.Empty<byte>();
        Type type = CompileOne(item, blob, "BigWord").GetType("Big.WordModel")!;
        if (!AppContext.TryGetSwitch(RnnEmbedded.Runtime.CompilerServices.EmbeddedWeights.AlignSwitch, out _))
        {
            // Above EmbeddedWeights.AlignDefaultLimit the default is no copy: the image's own bytes.
            using var stream = (UnmanagedMemoryStream)type.Assembly.GetManifestResourceStream("Big.WordModel.rnnweights")!;
            Assert.True(stream.Length > RnnEmbedded.Runtime.CompilerServices.EmbeddedWeights.AlignDefaultLimit, $"{stream.Length} bytes");
            unsafe
            {
                Assert.Equal((nint)stream.PositionPointer, WeightsAddress(type));
            }
        }

        int[] tokens = { 0, 49_999, 123, 31_415, 7 };
        float[][] expected = ReferenceEngine.Run(spec, tokens);
        float[][] actual = Steps(type, tokens);
        for (int t = 0; t < tokens.Length; t++)
        {
            AssertClose(expected[t], actual[t], $"step {t}");
        }

        MethodInfo measure = typeof(ResourceWeightsTests).GetMethod(nameof(Measure), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        var (bytes, gcs) = ((long, int))measure.Invoke(null, new object[] { 200 })!;
        Assert.Equal(0L, bytes);
        Assert.Equal(0, gcs);
    }

    /// <summary>Issue 11, item 7: several models whose weights together pass the literal route's 2^24-byte heap.</summary>
    [Fact]
    public void SeveralModelsBeyond16MB_CompileIntoOneAssemblyAndMatchReference()
    {
        var specs = new[]
        {
            TestModels.Lstm(vocab: 4000, e: 32, h: 256, seed: 21),
            TestModels.Lstm(vocab: 4000, e: 32, h: 256, seed: 22),
            TestModels.Lstm(vocab: 4000, e: 48, h: 256, seed: 23),
        };
        var items = new List<ModelItem>();
        var blobs = new List<ResourceDescription>();
        long total = 0;
        for (int k = 0; k < specs.Length; k++)
        {
            (ModelItem item, ResourceDescription blob, long length) = ModelItem.Packed("Many.M" + k, TestModels.ToBytes(specs[k]));
            items.Add(item);
            blobs.Add(blob);
            total += length;
        }

        Assert.True(total > 16L * 1024 * 1024, $"the blobs take {total} bytes; the test needs more than 16 MB");
        Assembly assembly = Compile(items, blobs, "Many");
        for (int k = 0; k < specs.Length; k++)
        {
            int[] tokens = { 1, 2, 3 };
            float[][] expected = ReferenceEngine.Run(specs[k], tokens);
            float[][] actual = Steps(assembly.GetType("Many.M" + k)!, tokens);
            for (int t = 0; t < tokens.Length; t++)
            {
                AssertClose(expected[t], actual[t], $"model {k} step {t}");
            }
        }
    }

    /// <summary>
    /// Issue 11, item 2: with a 40 MB weight file (10 M parameters) the generator holds a carrier of a few KB, and a
    /// run after an unrelated edit is all cached. Time is printed (docs/generator.md), not asserted.
    /// </summary>
    [Fact]
    public void GeneratorRun_AfterUnrelatedEdit_IsCachedAndAllocatesLittle()
    {
        ModelSpec spec = TestModels.Lstm(vocab: 25_000, e: 128, h: 256, seed: 31);
        byte[] file = TestModels.ToBytes(spec);
        Assert.InRange(file.Length, 39_000_000, 41_000_000);
        (ModelItem item, _, _) = ModelItem.Packed("Ide.Model", file);
        Assert.True(item.CarrierText.Length < 16 * 1024, $"carrier is {item.CarrierText.Length} chars");

        GeneratorDriver driver = GeneratorHarness.CreateDriver(new[] { item });
        CSharpCompilation compilation = InMemoryCompiler.CreateCompilation("Ide", "class A { void F() { } }");
        driver = driver.RunGenerators(compilation);
        GeneratorRunResult first = driver.GetRunResult().Results.Single();
        Assert.Empty(first.Diagnostics);
        int sourceLength = first.GeneratedSources.Single().SourceText.Length;
        Assert.True(sourceLength < 64 * 1024, $"generated source is {sourceLength} chars");

        var times = new List<double>();
        var allocations = new List<long>();
        for (int k = 0; k < 5; k++)
        {
            SyntaxTree old = compilation.SyntaxTrees.Single();
            compilation = compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText($"class A {{ void F() {{ int x{k} = {k}; }} }}", InMemoryCompiler.ParseOptions));
            long before = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            driver = driver.RunGenerators(compilation);
            watch.Stop();
            allocations.Add(GC.GetAllocatedBytesForCurrentThread() - before);
            times.Add(watch.Elapsed.TotalMilliseconds);
            GeneratorRunResult run = driver.GetRunResult().Results.Single();
            Assert.All(run.TrackedSteps[gen::RnnEmbedded.Generators.RnnGenerator.ResultsStep], s => Assert.All(s.Outputs, o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason)));
        }

        _output.WriteLine($"weight file {file.Length} bytes, carrier {item.CarrierText.Length} chars, generated source {sourceLength} chars");
        _output.WriteLine($"run after an unrelated edit: {string.Join(", ", times.Select(t => t.ToString("F2")))} ms; allocated {string.Join(", ", allocations)} bytes");
        Assert.True(allocations.Min() <= 5L * 1024 * 1024, $"allocated {allocations.Min()} bytes");
    }

    private static ModelSpec WordModel(int vocab, int e, int h, int seed)
    {
        var rng = new Random(seed);
        float scale = 1f / MathF.Sqrt(h);
        Matrix M(int rows, int cols)
        {
            var data = new float[rows * cols];
            for (int k = 0; k < data.Length; k++)
            {
                data[k] = (rng.NextSingle() * 2 - 1) * scale;
            }

            return new Matrix(rows, cols, data);
        }

        float[] V(int n) => M(1, n).Data;
        var words = new string[vocab];
        for (int k = 0; k < vocab; k++)
        {
            words[k] = k switch { 0 => "<unk>", 1 => "<start>", 2 => "<stop>", _ => "w" + k };
        }

        return new ModelSpec
        {
            InputKind = InputKind.Embedding,
            InputSize = vocab,
            Embedding = M(vocab, e),
            Layers = new[]
            {
                new LayerSpec
                {
                    Cell = CellKind.Lstm,
                    InputSize = e,
                    HiddenSize = h,
                    Forward = new DirectionWeights { W_ih = M(4 * h, e), W_hh = M(4 * h, h), b_ih = V(4 * h), b_hh = V(4 * h) },
                },
            },
            Head = new DenseSpec { W = M(vocab, h), b = V(vocab) },
            Vocabulary = new Vocabulary(RnnEmbedded.Compiler.Model.ModelVocabularyKind.Words, words),
            Task = RnnEmbedded.Compiler.Model.ModelTask.WordLm,
        };
    }

    private static Assembly CompileOne(ModelItem item, ResourceDescription? blob, string name) =>
        Compile(new[] { item }, blob is null ? Array.Empty<ResourceDescription>() : new[] { blob }, name);

    private static Assembly Compile(IEnumerable<ModelItem> items, IEnumerable<ResourceDescription> blobs, string name)
    {
        (_, Compilation output, var diagnostics) = GeneratorHarness.Run(GeneratorHarness.CreateDriver(items));
        Assert.Empty(diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        return InMemoryCompiler.EmitAndLoad(output.WithAssemblyName(name), blobs);
    }

    private static float[][] Steps(Type type, int[] tokens)
    {
        object model = Activator.CreateInstance(type)!;
        MethodInfo step = type.GetMethod("Step", new[] { typeof(int), typeof(Span<float>) })!;
        int outputs = (int)type.GetProperty("OutputSize")!.GetValue(null)!;
        var result = new float[tokens.Length][];
        MethodInfo run = typeof(ResourceWeightsTests).GetMethod(nameof(RunSteps), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        for (int t = 0; t < tokens.Length; t++)
        {
            result[t] = new float[outputs];
        }

        run.Invoke(null, new object[] { tokens, result });
        return result;
    }

    private static void RunSteps<TModel>(int[] tokens, float[][] outputs)
        where TModel : struct, ITokenModel<TModel>
    {
        var model = default(TModel);
        for (int t = 0; t < tokens.Length; t++)
        {
            model.Step(tokens[t], outputs[t]);
        }
    }

    private static (long Bytes, int Collections) Measure<TModel>(int steps)
        where TModel : struct, ITokenModel<TModel>
    {
        var model = default(TModel);
        var logits = new float[TModel.OutputSize];
        for (int t = 0; t < 20; t++)
        {
            model.Step(t, logits); // first use: the blob's address, tiering, static init
        }

        int gc0 = GC.CollectionCount(0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < steps; t++)
        {
            model.Step(t * 7919 % TModel.InputSize, logits);
        }

        return (GC.GetAllocatedBytesForCurrentThread() - before, GC.CollectionCount(0) - gc0);
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++)
        {
            float diff = Math.Abs(expected[k] - actual[k]) / Math.Max(1f, Math.Abs(expected[k]));
            Assert.True(diff <= GeneratedParityTests.Tolerance, $"{what} output {k}: expected {expected[k]:R}, got {actual[k]:R}");
        }
    }
}
