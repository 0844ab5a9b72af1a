using System.Runtime.Intrinsics;
using RnnEmbedded.Runtime.CompilerServices;
using DotPacking = RnnEmbedded.Runtime.CompilerServices.Int8DotPacking;

namespace RnnEmbedded.Tests.Kernels;

/// <summary>
/// int8-dynamic input quantization (docs/kernels.md, "Dynamic int8: int8 dot products"): max|x| and the quantized
/// values, single and in the batch's interleaved layout, bit for bit the scalar definition
/// (<see cref="DotPacking.Quantize"/>) — on the Vector128 path ARM64 runs (forced here, so x86 runs the same code) and
/// on this CPU's default path — for lengths 0..70 and random, tie, extreme, −0 and infinite values, and NaN on the
/// Vector128 path (NaN → 0, as the definition).
/// </summary>
public sealed class Int8QuantizeTests
{
    public static TheoryData<bool> Paths() => new() { true, false };

    private static IEnumerable<float[]> Inputs(bool withNaN)
    {
        var random = new Random(77);
        float[] specials =
        [
            0f, -0f, 1f, -1f, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 126.5f, -126.5f, 127f, -127f, 127.49f, 128f, -1e30f,
            1e30f, float.MaxValue, float.MinValue, float.Epsilon, -float.Epsilon, 1e-40f, float.PositiveInfinity,
            float.NegativeInfinity,
        ];
        for (int n = 0; n <= 70; n++)
        {
            yield return Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 4) - 2)).ToArray();
            yield return Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 300) - 150).ToArray();

            // Halves (ties at inverse 1), integers and the extremes, the maximum anywhere.
            yield return Enumerable.Range(0, n).Select(_ => (random.Next(-300, 301) / 2f)).ToArray();
            float[] special = Enumerable.Range(0, n).Select(_ => specials[random.Next(specials.Length)]).ToArray();
            if (!withNaN)
            {
                yield return special;
            }
            else if (n > 0)
            {
                special[random.Next(n)] = float.NaN;
                yield return special;
            }

            float[] zeros = new float[n];
            for (int j = 0; j < n; j += 3)
            {
                zeros[j] = -0f;
            }

            yield return zeros;
        }
    }

    private static float[] Inverses(float[] x)
    {
        float max = 0f;
        foreach (float v in x)
        {
            max = MathF.Max(max, MathF.Abs(v));
        }

        return max > 0f && float.IsFinite(max) ? [DotPacking.Inverse(max), 1f, 3.25f, 1e-3f] : [1f, 3.25f, 1e-3f];
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void MaxAbs_EqualsTheScalarLoop_BitForBit(bool force128)
    {
        Assert.True(!force128 || Vector128.IsHardwareAccelerated, "Vector128 is not accelerated: the ARM path is untested");
        foreach (float[] x in Inputs(withNaN: false))
        {
            float expected = 0f;
            foreach (float v in x)
            {
                float a = MathF.Abs(v);
                expected = a > expected ? a : expected;
            }

            float actual = PackedGemv.MaxAbs(x, force128);
            Assert.True(
                BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                $"n={x.Length}: {actual} vs {expected} ({string.Join(", ", x)})");
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void QuantizeInput_EqualsTheDefinition(bool force128)
    {
        // NaN → 0 is the scalar definition's and the Vector128 path's; the AVX2 path gives −127 (unspecified there).
        foreach (bool withNaN in force128 ? new[] { false, true } : [false])
        {
            foreach (float[] x in Inputs(withNaN))
            {
                foreach (float inverse in Inverses(x))
                {
                    int padded = (x.Length + 3) & ~3;
                    sbyte[] expected = new sbyte[padded];
                    int expectedSum = 0;
                    for (int j = 0; j < x.Length; j++)
                    {
                        expected[j] = DotPacking.Quantize(x[j], inverse);
                        expectedSum += expected[j];
                    }

                    // Guards past the padded length must stay; padding columns must become 0.
                    sbyte[] buffer = Enumerable.Repeat((sbyte)0x55, padded + 8).ToArray();
                    int sum = PackedGemv.QuantizeInput(x, buffer.AsSpan(0, padded), inverse, force128);
                    string what = $"n={x.Length}, inverse={inverse}";
                    Assert.True(expected.AsSpan().SequenceEqual(buffer.AsSpan(0, padded)), $"{what}: values differ: {string.Join(", ", x)} -> {string.Join(", ", buffer.AsSpan(0, padded).ToArray())} vs {string.Join(", ", expected)}");
                    Assert.Equal(expectedSum, sum);
                    Assert.All(buffer.AsSpan(padded).ToArray(), b => Assert.Equal((sbyte)0x55, b));
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void QuantizeInterleaved_EqualsTheDefinition(bool force128)
    {
        const int stride = 3, lane = 1;
        // NaN → 0 is the scalar definition's and the Vector128 path's; the AVX2 path gives −127 (unspecified there).
        foreach (bool withNaN in force128 ? new[] { false, true } : [false])
        {
            foreach (float[] x in Inputs(withNaN))
            {
                foreach (float inverse in Inverses(x))
                {
                    int groups = (x.Length + 3) >> 2;
                    int[] expected = Enumerable.Repeat(unchecked((int)0xDEADBEEF), (groups * stride) + 2).ToArray();
                    int[] actual = (int[])expected.Clone();
                    int expectedSum = 0;
                    for (int j = 0; j < x.Length; j++)
                    {
                        sbyte q = DotPacking.Quantize(x[j], inverse);
                        expectedSum += q;
                        ref int group = ref expected[((j >> 2) * stride) + lane];
                        if ((j & 3) == 0)
                        {
                            group = 0;
                        }

                        group |= (byte)q << (8 * (j & 3));
                    }

                    int sum = PackedGemv.QuantizeInterleaved(x, ref actual[lane], stride, (nuint)groups, inverse, force128);
                    string what = $"n={x.Length}, inverse={inverse}";
                    Assert.True(expected.AsSpan().SequenceEqual(actual), $"{what}: groups differ");
                    Assert.Equal(expectedSum, sum);
                }
            }
        }
    }
}
