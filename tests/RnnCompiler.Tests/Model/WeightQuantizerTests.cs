using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Tests.Model;

public sealed class WeightQuantizerTests
{
    [Theory]
    [InlineData(0x3F800000u, (ushort)0x3F80)] // 1.0: exact
    [InlineData(0x3F808000u, (ushort)0x3F80)] // tie, even stays
    [InlineData(0x3F818000u, (ushort)0x3F82)] // tie, odd rounds up to even
    [InlineData(0x3F807FFFu, (ushort)0x3F80)] // below half
    [InlineData(0x3F808001u, (ushort)0x3F81)] // above half
    [InlineData(0xBF818000u, (ushort)0xBF82)] // negative tie
    [InlineData(0x7F7FFFFFu, (ushort)0x7F80)] // float.MaxValue rounds to +∞
    [InlineData(0x7F800000u, (ushort)0x7F80)] // +∞
    public void ToBFloat16_RoundsToNearestEven(uint bits, ushort expected)
    {
        Assert.Equal(expected, WeightQuantizer.ToBFloat16(BitConverter.UInt32BitsToSingle(bits)));
    }

    [Fact]
    public void ToBFloat16_KeepsNaN_AndIsExactForBFloat16Values()
    {
        Assert.True(float.IsNaN(WeightQuantizer.FromBFloat16(WeightQuantizer.ToBFloat16(float.NaN))));
        Assert.True(float.IsNaN(WeightQuantizer.FromBFloat16(WeightQuantizer.ToBFloat16(BitConverter.UInt32BitsToSingle(0x7F800001u)))));
        for (uint b = 0; b < 0x10000; b += 7)
        {
            float v = BitConverter.UInt32BitsToSingle(b << 16);
            if (!float.IsNaN(v))
            {
                Assert.Equal((ushort)b, WeightQuantizer.ToBFloat16(v));
            }
        }
    }

    [Fact]
    public void Int8_PerRowSymmetric_MaxMapsTo127_ErrorWithinHalfAStep()
    {
        var rng = new Random(3);
        const int rows = 9, cols = 31;
        var data = new float[rows * cols];
        for (int k = 0; k < data.Length; k++)
        {
            data[k] = (float)((rng.NextDouble() - 0.5) * (1 + (k / cols)));
        }

        Array.Clear(data, 4 * cols, cols); // an all-zero row
        QuantizedMatrix q = WeightQuantizer.Quantize(new Matrix(rows, cols, data), WeightType.Int8);
        for (int r = 0; r < rows; r++)
        {
            float max = 0f;
            for (int j = 0; j < cols; j++)
            {
                max = Math.Max(max, Math.Abs(data[(r * cols) + j]));
            }

            Assert.Equal(max / 127f, q.Scales![r]);
            int maxQ = 0;
            for (int j = 0; j < cols; j++)
            {
                int k = (r * cols) + j;
                maxQ = Math.Max(maxQ, Math.Abs((int)q.Int8![k]));
                Assert.Equal(q.Scales[r] * q.Int8[k], q.Dequantized.Data[k]);
                Assert.True(Math.Abs(data[k] - q.Dequantized.Data[k]) <= (q.Scales[r] * 0.5f) + 1e-7f, $"row {r} col {j}");
            }

            Assert.Equal(r == 4 ? 0 : 127, maxQ);
        }
    }

    [Fact]
    public void Apply_Float32_IsTheSameSpec_AndInt8ReplacesStreamedMatricesOnly()
    {
        ModelSpec spec = ModelLoader.Load(RnnEmbedded.Tests.Reference.ParityFixture.Load("lstm_1layer").WeightsPath);
        Assert.Same(spec, WeightQuantizer.Apply(spec, WeightType.Float32));
        ModelSpec q = WeightQuantizer.Apply(spec, WeightType.Int8);
        Assert.Same(spec.Embedding, q.Embedding);
        Assert.Same(spec.Layers[0].Forward.b_ih, q.Layers[0].Forward.b_ih);
        Assert.NotEqual(spec.Layers[0].Forward.W_hh.Data, q.Layers[0].Forward.W_hh.Data);
        Assert.NotEqual(spec.Head!.W.Data, q.Head!.W.Data);
    }
}
