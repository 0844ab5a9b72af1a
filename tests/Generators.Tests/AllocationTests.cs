using System.Reflection;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Runtime;
using RnnEmbedded.Tests.Infrastructure;

namespace RnnEmbedded.Tests;

/// <summary>GC counts are process-wide: tests that assert "no collection" must not run beside allocating tests.</summary>
[CollectionDefinition(nameof(NoParallelGc), DisableParallelization = true)]
public sealed class NoParallelGc
{
}

/// <summary>100k steps of a generated model allocate nothing and trigger no GC (JIT build).</summary>
[Collection(nameof(NoParallelGc))]
public class AllocationTests
{
    public static TheoryData<int> Widths() => new() { 512, 256, 128, 0 };

    [Theory]
    [MemberData(nameof(Widths))]
    public void Step_100kSteps_AllocatesNothing(int width)
    {
        ModelSpec spec = TestModels.Lstm(vocab: 40, e: 16, h: 64, layers: 2);
        string src = CSharpEmitter.Emit(spec, new EmitOptions { TypeName = "Alloc.M" + width, MaxVectorWidth = width });
        Type type = InMemoryCompiler.EmitAndLoad(InMemoryCompiler.CreateCompilation("Alloc" + width, src)).GetType("Alloc.M" + width)!;
        MethodInfo m = typeof(AllocationTests).GetMethod(nameof(Measure), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        var (bytes, gcs) = ((long, int))m.Invoke(null, new object[] { 100_000 })!;
        Assert.Equal(0L, bytes);
        Assert.Equal(0, gcs);
    }

    public static TheoryData<int, WeightType> QuantizedWidths()
    {
        var data = new TheoryData<int, WeightType>();
        foreach (int width in new[] { 512, 256, 128, 0 })
        {
            data.Add(width, WeightType.BFloat16);
            data.Add(width, WeightType.Int8);
            data.Add(width, WeightType.Int8Dynamic);
        }

        return data;
    }

    /// <summary>bfloat16, int8 and int8-dynamic weights: spans and a ref struct over the embedded literals, nothing allocated.</summary>
    [Theory]
    [MemberData(nameof(QuantizedWidths))]
    public void QuantizedStep_100kSteps_AllocatesNothing(int width, WeightType weightType)
    {
        ModelSpec spec = TestModels.Lstm(vocab: 40, e: 16, h: 64, layers: 2);
        string name = $"AllocQ.M{weightType}{width}";
        string src = CSharpEmitter.Emit(spec, new EmitOptions { TypeName = name, MaxVectorWidth = width, WeightType = weightType });
        Type type = InMemoryCompiler.EmitAndLoad(InMemoryCompiler.CreateCompilation($"AllocQ{weightType}{width}", src)).GetType(name)!;
        MethodInfo m = typeof(AllocationTests).GetMethod(nameof(Measure), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        var (bytes, gcs) = ((long, int))m.Invoke(null, new object[] { 100_000 })!;
        Assert.Equal(0L, bytes);
        Assert.Equal(0, gcs);
        MethodInfo batched = typeof(AllocationTests).GetMethod(nameof(MeasureBatched), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        (bytes, gcs) = ((long, int))batched.Invoke(null, new object[] { 500 })!;
        Assert.Equal(0L, bytes);
        Assert.Equal(0, gcs);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void BatchedStep_AnyCount_AllocatesNothing(int width)
    {
        ModelSpec spec = TestModels.Lstm(vocab: 40, e: 16, h: 64, layers: 2);
        string src = CSharpEmitter.Emit(spec, new EmitOptions { TypeName = "AllocB.M" + width, MaxVectorWidth = width });
        Type type = InMemoryCompiler.EmitAndLoad(InMemoryCompiler.CreateCompilation("AllocB" + width, src)).GetType("AllocB.M" + width)!;
        MethodInfo m = typeof(AllocationTests).GetMethod(nameof(MeasureBatched), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        var (bytes, gcs) = ((long, int))m.Invoke(null, new object[] { 2_000 })!;
        Assert.Equal(0L, bytes);
        Assert.Equal(0, gcs);
    }

    /// <summary>Input layers, an MLP head and softmax (stackalloc'd buffers, Softmax.Apply) allocate nothing either.</summary>
    [Theory]
    [MemberData(nameof(Widths))]
    public void LayerStacks_StepAndBatchedStep_AllocateNothing(int width)
    {
        ModelSpec spec = SnapshotModels.All["LayerStacks"]();
        string src = CSharpEmitter.Emit(spec, new EmitOptions { TypeName = "AllocS.M" + width, MaxVectorWidth = width });
        Type type = InMemoryCompiler.EmitAndLoad(InMemoryCompiler.CreateCompilation("AllocS" + width, src)).GetType("AllocS.M" + width)!;
        MethodInfo m = typeof(AllocationTests).GetMethod(nameof(MeasureDense), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        var (bytes, gcs) = ((long, int))m.Invoke(null, new object[] { 20_000 })!;
        Assert.Equal(0L, bytes);
        Assert.Equal(0, gcs);
    }

    private static (long Bytes, int Collections) MeasureDense<TModel>(int steps)
        where TModel : struct, IDenseModel<TModel>
    {
        var model = default(TModel);
        var models = new TModel[11];
        float[] inputs = new float[models.Length * TModel.InputSize];
        float[] outputs = new float[models.Length * TModel.OutputSize];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = (i % 7 - 3) / 4f;
        }

        for (int t = 0; t < 200; t++)
        {
            model.Step(inputs.AsSpan(0, TModel.InputSize), outputs); // warm up: tiering, static init
            TModel.Step(models, inputs, outputs);
        }

        // Start from an empty gen0 budget: the count is process-wide, and the test runner's own threads allocate
        // while this one measures (the per-thread byte count is what this thread did).
        GC.Collect();
        GC.WaitForPendingFinalizers();
        int gc0 = GC.CollectionCount(0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < steps; t++)
        {
            model.Step(inputs.AsSpan(t % models.Length * TModel.InputSize, TModel.InputSize), outputs);
            int n = 1 + (t % models.Length);
            TModel.Step(models.AsSpan(0, n), inputs.AsSpan(0, n * TModel.InputSize), outputs);
        }

        long after = GC.GetAllocatedBytesForCurrentThread();
        return (after - before, GC.CollectionCount(0) - gc0);
    }

    private static (long Bytes, int Collections) MeasureBatched<TModel>(int steps)
        where TModel : struct, ITokenModel<TModel>
    {
        var models = new TModel[19]; // two full groups of 8 and a partial one
        var tokens = new int[models.Length];
        var outputs = new float[models.Length * TModel.OutputSize];
        for (int t = 0; t < 100; t++)
        {
            TModel.Step(models, tokens, outputs); // warm up: tiering, static init
        }

        // Start from an empty gen0 budget: the count is process-wide, and the test runner's own threads allocate
        // while this one measures (the per-thread byte count is what this thread did).
        GC.Collect();
        GC.WaitForPendingFinalizers();
        int gc0 = GC.CollectionCount(0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < steps; t++)
        {
            int n = 1 + (t % models.Length);
            for (int b = 0; b < n; b++)
            {
                tokens[b] = (t + (b * 7)) % TModel.InputSize;
            }

            TModel.Step(models.AsSpan(0, n), tokens.AsSpan(0, n), outputs);
        }

        long after = GC.GetAllocatedBytesForCurrentThread();
        return (after - before, GC.CollectionCount(0) - gc0);
    }

    private static (long Bytes, int Collections) Measure<TModel>(int steps)
        where TModel : struct, ITokenModel<TModel>
    {
        var model = default(TModel);
        Span<float> logits = stackalloc float[TModel.OutputSize];
        for (int t = 0; t < 1000; t++)
        {
            model.Step(t % TModel.InputSize, logits); // warm up: tiering, static init
        }

        // Start from an empty gen0 budget: the count is process-wide, and the test runner's own threads allocate
        // while this one measures (the per-thread byte count is what this thread did).
        GC.Collect();
        GC.WaitForPendingFinalizers();
        int gc0 = GC.CollectionCount(0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < steps; t++)
        {
            model.Step(t * 7 % TModel.InputSize, logits);
            if ((t & 1023) == 0)
            {
                var snapshot = model; // copying state is free too
                model = snapshot;
            }
        }

        long after = GC.GetAllocatedBytesForCurrentThread();
        return (after - before, GC.CollectionCount(0) - gc0);
    }
}
