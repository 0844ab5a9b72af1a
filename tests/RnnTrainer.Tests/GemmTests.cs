using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

public class GemmTests
{
    private const float Tolerance = 1e-4f;

    public static TheoryData<int, int, int, bool> Shapes => new()
    {
        { 1, 1, 1, false },
        { 3, 5, 7, false },
        { 8, 17, 33, true },
        { 17, 300, 65, false },
        { 32, 256, 1024, true },
        { 9, 40, 48, true },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Multiply_MatchesNaiveProduct_AtEveryVectorWidth(int m, int k, int n, bool transposeA)
    {
        var rng = new Rng(3);
        float[] a = Random(rng, m * k);
        float[] b = Random(rng, k * n);
        float[] c0 = Random(rng, m * n);
        int ars = transposeA ? 1 : k, acs = transposeA ? m : 1; // transposed: A stored (k, m)
        var expected = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = c0[i * n + j];
                for (int p = 0; p < k; p++)
                {
                    s += (double)a[i * ars + p * acs] * b[p * n + j];
                }

                expected[i * n + j] = (float)s;
            }
        }

        float[]? first = null;
        int saved = Gemm.VectorBits;
        try
        {
            foreach (int bits in new[] { 512, 256, 0 })
            {
                Gemm.VectorBits = bits;
                float[] c = (float[])c0.Clone();
                Gemm.Multiply(m, k, a, 0, ars, acs, b, 0, n, c, 0, n, true, 0, n);
                for (int i = 0; i < c.Length; i++)
                {
                    Assert.True(Math.Abs(c[i] - expected[i]) <= Tolerance * (1 + Math.Abs(expected[i])), $"{bits}-bit: C[{i}] = {c[i]}, expected {expected[i]}");
                }

                // Every width runs the same chain of fused multiply-adds: bitwise equal results.
                first ??= c;
                Assert.Equal(first, c);
            }
        }
        finally
        {
            Gemm.VectorBits = saved;
        }
    }

    [Fact]
    public void Multiply_ColumnRanges_GiveTheSameBitsAsOneCall()
    {
        var rng = new Rng(5);
        int m = 13, k = 70, n = 200;
        float[] a = Random(rng, m * k), b = Random(rng, k * n);
        var whole = new float[m * n];
        Gemm.Multiply(m, k, a, 0, k, 1, b, 0, n, whole, 0, n, false, 0, n);
        var parts = new float[m * n];
        for (int p = 0; p < 3; p++)
        {
            (int c0, int c1) = Workers.Split(n, 3, p, 16);
            Gemm.Multiply(m, k, a, 0, k, 1, b, 0, n, parts, 0, n, false, c0, c1);
        }

        Assert.Equal(whole, parts);
    }

    [Fact]
    public void Transpose_SwapsRowsAndColumns()
    {
        float[] src = { 1, 2, 3, 4, 5, 6 }; // (2, 3)
        var dst = new float[6];
        Gemm.Transpose(src, 2, 3, dst);
        Assert.Equal(new float[] { 1, 4, 2, 5, 3, 6 }, dst);
    }

    private static float[] Random(Rng rng, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = 2f * rng.NextFloat() - 1f;
        }

        return x;
    }
}
