using RnnEmbedded.Compiler.Formats;
using static RnnEmbedded.Tests.Formats.SafeTensorsBytes;

namespace RnnEmbedded.Tests.Formats;

public sealed class HalfDecodingTests
{
    [Theory]
    [InlineData((ushort)0x0000, 0f)]
    [InlineData((ushort)0x3C00, 1f)]
    [InlineData((ushort)0xC000, -2f)]
    [InlineData((ushort)0x3555, 0.333251953125f)]
    [InlineData((ushort)0x7BFF, 65504f)]                     // largest finite
    [InlineData((ushort)0x0400, 6.103515625e-05f)]           // smallest normal 2^-14
    [InlineData((ushort)0x0001, 5.9604644775390625e-08f)]    // smallest subnormal 2^-24
    [InlineData((ushort)0x03FF, 6.097555160522461e-05f)]     // largest subnormal 1023 × 2^-24
    [InlineData((ushort)0x8001, -5.9604644775390625e-08f)]
    [InlineData((ushort)0x7C00, float.PositiveInfinity)]
    [InlineData((ushort)0xFC00, float.NegativeInfinity)]
    public void HalfToSingle_KnownValues(ushort bits, float expected)
    {
        Assert.Equal(expected, FloatConversion.HalfToSingle(bits));
    }

    [Fact]
    public void HalfToSingle_NegativeZeroKeepsSign()
    {
        Assert.Equal(unchecked((int)0x80000000), BitConverter.SingleToInt32Bits(FloatConversion.HalfToSingle(0x8000)));
    }

    [Fact]
    public void HalfToSingle_MatchesSystemHalf_ForAll65536Patterns()
    {
        for (int i = 0; i <= ushort.MaxValue; i++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)i);
            float actual = FloatConversion.HalfToSingle((ushort)i);
            if (float.IsNaN(expected))
            {
                Assert.True(float.IsNaN(actual), $"0x{i:X4} should be NaN");
            }
            else
            {
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                    $"0x{i:X4}: expected {expected:R}, got {actual:R}");
            }
        }
    }

    [Theory]
    [InlineData((ushort)0x3F80, 1f)]
    [InlineData((ushort)0xC040, -3f)]
    [InlineData((ushort)0x4049, 3.140625f)]
    [InlineData((ushort)0x0001, 9.183549615799121e-41f)]    // smallest subnormal 2^-133
    [InlineData((ushort)0x0080, 1.1754943508222875e-38f)]   // smallest normal 2^-126
    [InlineData((ushort)0x7F7F, 3.3895313892515355e+38f)]   // largest finite
    [InlineData((ushort)0x7F80, float.PositiveInfinity)]
    [InlineData((ushort)0xFF80, float.NegativeInfinity)]
    public void BFloat16ToSingle_KnownValues(ushort bits, float expected)
    {
        Assert.Equal(expected, FloatConversion.BFloat16ToSingle(bits));
    }

    [Fact]
    public void BFloat16ToSingle_NaNStaysNaN()
    {
        Assert.True(float.IsNaN(FloatConversion.BFloat16ToSingle(0x7FC0)));
        Assert.True(float.IsNaN(FloatConversion.BFloat16ToSingle(0xFF81)));
    }

    [Fact]
    public void Read_F16File_DecodesSubnormalsInfAndNaN()
    {
        ushort[] bits = [0x3C00, 0x0001, 0x83FF, 0x7BFF, 0x7C00, 0x7E00];
        byte[] bytes = Build("{" + Entry("h", "F16", "[2, 3]", 0, 12) + "}", U16(bits));

        Tensor t = Assert.Single(SafeTensorsReader.Read(bytes, "h.safetensors", new SafeTensorsReadOptions { AllowNonFinite = true }).Tensors);

        Assert.Equal(TensorDType.F16, t.SourceDType);
        Assert.Equal([2, 3], t.Shape);
        Assert.Equal(1f, t.Data[0]);
        Assert.Equal(MathF.Pow(2, -24), t.Data[1]);
        Assert.Equal(-1023 * MathF.Pow(2, -24), t.Data[2]);
        Assert.Equal(65504f, t.Data[3]);
        Assert.Equal(float.PositiveInfinity, t.Data[4]);
        Assert.True(float.IsNaN(t.Data[5]));
    }

    [Fact]
    public void Read_BF16File_DecodesSubnormalsInfAndNaN()
    {
        ushort[] bits = [0x3F80, 0x0001, 0x8080, 0xFF80, 0x7FC1];
        byte[] bytes = Build("{" + Entry("b", "BF16", "[5]", 0, 10) + "}", U16(bits));

        Tensor t = Assert.Single(SafeTensorsReader.Read(bytes, "b.safetensors", new SafeTensorsReadOptions { AllowNonFinite = true }).Tensors);

        Assert.Equal(TensorDType.BF16, t.SourceDType);
        Assert.Equal(1f, t.Data[0]);
        Assert.Equal(MathF.Pow(2, -133), t.Data[1]);
        Assert.Equal(-MathF.Pow(2, -126), t.Data[2]);
        Assert.Equal(float.NegativeInfinity, t.Data[3]);
        Assert.True(float.IsNaN(t.Data[4]));
    }

    [Fact]
    public void Read_MixedDTypes_EachConvertedToFloat32()
    {
        string header = "{" + Entry("a", "F32", "[1]", 0, 4) + "," + Entry("b", "F16", "[1]", 4, 6) + "," + Entry("c", "BF16", "[1]", 6, 8) + "}";
        byte[] data = [.. F32(0.5f), .. U16(0xB800), .. U16(0x4000)];

        WeightFile file = SafeTensorsReader.Read(Build(header, data), "m");

        Assert.Equal([0.5f, -0.5f, 2f], file.Tensors.Select(t => t.Data[0]).ToArray());
        Assert.Equal([TensorDType.F32, TensorDType.F16, TensorDType.BF16], file.Tensors.Select(t => t.SourceDType).ToArray());
    }
}
