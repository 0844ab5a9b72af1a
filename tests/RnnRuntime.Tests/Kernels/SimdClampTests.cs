using System.Runtime.Intrinsics;
using RnnEmbedded.Runtime.CompilerServices;

namespace RnnEmbedded.Tests.Kernels;

/// <summary>
/// ISimdOps.Clamp (exp's input clamp, SimdOps.cs) is one native max and min on x86 instead of the IEEE sequences of
/// Vector128/256/512.Max/Min: for the constants it is used with it must give the bits Min(Max(x, lo), hi) gives at the
/// same width for every x — ±0, subnormals, the bounds themselves, ±∞ and NaN (which stays NaN, payload kept).
/// </summary>
public sealed class SimdClampTests
{
    private const float Lo = -87.3365447504f; // VectorMath.ExpMin
    private const float Hi = 88.3762626647949f; // VectorMath.ExpMax

    private static float[] Inputs()
    {
        var values = new List<float>
        {
            0f, -0f, float.Epsilon, -float.Epsilon, 1f, -1f, Lo, Hi, BitDecrement(Lo), BitIncrement(Lo), BitDecrement(Hi),
            BitIncrement(Hi), 1e30f, -1e30f, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity,
            float.NaN, -float.NaN, BitConverter.Int32BitsToSingle(0x7FC1_2345), BitConverter.Int32BitsToSingle(unchecked((int)0xFFC0_0001)),
        };
        var rng = new Random(5);
        for (int i = 0; i < 1000; i++)
        {
            values.Add((float)((rng.NextDouble() - 0.5) * 400));
        }

        while (values.Count % 16 != 0)
        {
            values.Add(0.5f);
        }

        return values.ToArray();
    }

    private static float BitIncrement(float x) => MathF.BitIncrement(x);

    private static float BitDecrement(float x) => MathF.BitDecrement(x);

    [Fact]
    public void Clamp_GivesMinMaxBits_AtEveryWidth()
    {
        float[] x = Inputs();
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(Bits(ScalarOps.Min(ScalarOps.Max(x[i], Lo), Hi)), Bits(ScalarOps.Clamp(x[i], Lo, Hi)));
        }

        for (int i = 0; i + 4 <= x.Length; i += 4)
        {
            Vector128<float> v = Vector128.Create(x, i);
            Check(Vector128.Min(Vector128.Max(v, Vector128.Create(Lo)), Vector128.Create(Hi)).AsInt32(),
                V128Ops.Clamp(v, Vector128.Create(Lo), Vector128.Create(Hi)).AsInt32(), x, i, "V128");
        }

        for (int i = 0; i + 8 <= x.Length; i += 8)
        {
            Vector256<float> v = Vector256.Create(x, i);
            Check(Vector256.Min(Vector256.Max(v, Vector256.Create(Lo)), Vector256.Create(Hi)).AsInt32(),
                V256Ops.Clamp(v, Vector256.Create(Lo), Vector256.Create(Hi)).AsInt32(), x, i, "V256");
        }

        for (int i = 0; i + 16 <= x.Length && Vector512.IsHardwareAccelerated; i += 16)
        {
            Vector512<float> v = Vector512.Create(x, i);
            Check(Vector512.Min(Vector512.Max(v, Vector512.Create(Lo)), Vector512.Create(Hi)).AsInt32(),
                V512Ops.Clamp(v, Vector512.Create(Lo), Vector512.Create(Hi)).AsInt32(), x, i, "V512");
        }
    }

    private static void Check<TV>(TV expected, TV actual, float[] x, int at, string width)
        where TV : struct
    {
        int[] e = new int[16];
        int[] a = new int[16];
        int n = System.Runtime.CompilerServices.Unsafe.SizeOf<TV>() / 4;
        System.Runtime.CompilerServices.Unsafe.As<int, TV>(ref e[0]) = expected;
        System.Runtime.CompilerServices.Unsafe.As<int, TV>(ref a[0]) = actual;
        for (int k = 0; k < n; k++)
        {
            Assert.True(e[k] == a[k], $"{width} lane {at + k}: x = {x[at + k]:R}, Min(Max) {e[k]:X8}, Clamp {a[k]:X8}");
        }
    }

    private static int Bits(float x) => BitConverter.SingleToInt32Bits(x);
}
