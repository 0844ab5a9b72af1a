using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;
using Xunit.Abstractions;
using static RnnEmbedded.Tests.Kernels.KernelTestSupport;

namespace RnnEmbedded.Tests.Kernels;

/// <summary>Runs alone: GC.CollectionCount is process-wide, so parallel tests would disturb it.</summary>
[CollectionDefinition(nameof(AllocationAndDispatchTests), DisableParallelization = true)]
public sealed class AllocationCollection;

[Collection(nameof(AllocationAndDispatchTests))]
public sealed class AllocationAndDispatchTests
{
    private readonly ITestOutputHelper _output;

    public AllocationAndDispatchTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Kernels_AllocateNothing_OverManyCalls_AtEveryWidth()
    {
        const int H = 100, In = 37, Calls = 2000;
        var random = new Random(3);
        float[] packed = PanelPacking.Pack(Uniform(random, 4 * H * In, -0.1f, 0.1f), 4 * H, In);
        float[] x = Uniform(random, In, -1f, 1f);
        var gates = new float[PanelPacking.PaddedRows(4 * H)];
        float[] peep = Uniform(random, 3 * H, -0.1f, 0.1f);
        var c = new float[H];
        var h = new float[H];
        float[] gi = Uniform(random, 3 * H, -1f, 1f);
        float[] gh = Uniform(random, 3 * H, -1f, 1f);
        var z = new float[H];
        var rh = new float[H];
        var values = new float[(6 * 512) + 7];

        void RunAll(VectorWidth width)
        {
            PackedGemv.Multiply(packed, x, gates, width);
            PackedGemv.MultiplyAdd(packed, x, gates, width);
            CellKernels.Lstm(gates.AsSpan(0, 4 * H), c, h, width);
            CellKernels.LstmCifg(gates.AsSpan(0, 3 * H), c, h, width);
            CellKernels.LstmPeephole(gates.AsSpan(0, 4 * H), peep, c, h, width);
            CellKernels.LstmCifgPeephole(gates.AsSpan(0, 3 * H), peep, c, h, width);
            CellKernels.GruResetAfter(gi, gh, h, width);
            CellKernels.GruResetBeforeGates(gi, gh, h, z, rh, width);
            CellKernels.GruCombine(gi.AsSpan(2 * H), z, h, width);
            CellKernels.Rnn(values, ActivationKind.Tanh, width);
            Activations.Sigmoid(values, width);
            Activations.Exp(values.AsSpan(0, 64), width);
            Activations.Relu(values, values, width);
        }

        foreach (VectorWidth width in SupportedWidths())
        {
            for (int i = 0; i < 50; i++)
            {
                RunAll(width); // warm up: JIT, static initialization
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            int gen0 = GC.CollectionCount(0);
            for (int i = 0; i < Calls; i++)
            {
                RunAll(width);
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated == 0, $"{width}: {allocated} bytes allocated over {Calls} rounds");
            Assert.Equal(gen0, GC.CollectionCount(0));
            Assert.All(h, v => Assert.True(float.IsFinite(v)));
        }
    }

    [Fact]
    public void Best_IsWidestAcceleratedWidth_AndResolveCapsIt()
    {
        VectorWidth expected = Vector512.IsHardwareAccelerated ? VectorWidth.V512
            : Vector256.IsHardwareAccelerated ? VectorWidth.V256
            : Vector128.IsHardwareAccelerated ? VectorWidth.V128 : VectorWidth.Scalar;
        Assert.Equal(expected, Simd.Best);
        foreach (VectorWidth cap in AllWidths)
        {
            Assert.Equal(cap <= Simd.Best ? cap : Simd.Best, Simd.Resolve(cap));
        }

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Simd.Resolve((VectorWidth)64));
        Assert.Equal("width", e.ParamName);
    }

    [Fact]
    public void WidthsUnderTest_IncludeScalarAndV128_AndAllWidthsOnAvx512()
    {
        VectorWidth[] ran = SupportedWidths().ToArray();
        _output.WriteLine($"Simd.Best = {Simd.Best}; kernel tests run at: {string.Join(", ", ran)}; "
            + $"skipped (not in hardware): {string.Join(", ", AllWidths.Except(ran))}; Fma={Fma.IsSupported}, Avx512F={Avx512F.IsSupported}");
        Assert.Contains(VectorWidth.Scalar, ran);
        Assert.Contains(VectorWidth.V128, ran); // the ARM NEON path is exercised on every x64/arm64 machine
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            Assert.Equal(AllWidths, ran);
        }
    }
}
