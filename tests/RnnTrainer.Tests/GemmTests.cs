using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

public class GemmTests
{
    private const float Tolerance = 1e-4f;

    private static readonly VectorWidth[] s_widths = [VectorWidth.V512, VectorWidth.V256, VectorWidth.V128, VectorWidth.Scalar];

    public static TheoryData<int, int, int, bool> Shapes => new()
    {
        { 1, 1, 1, false },
        { 3, 5, 7, false },
        { 8, 17, 33, true },
        { 17, 300, 65, false },
        { 32, 256, 1024, true },
        { 9, 40, 48, true },
        { 5, 9, 12, false }, // 12 columns: one 8-wide Vector128 tile and one 4-wide tail
        { 6, 3, 21, true },  // 21 = 16 + 4 + 1: every narrower tail after the widest tile
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Multiply_MatchesAScalarReference_AtEveryVectorWidth(int m, int k, int n, bool transposeA)
    {
        var rng = new Xoshiro128StarStar(3);
        float[] a = Random(ref rng, m * k);
        float[] b = Random(ref rng, k * n);
        float[] c0 = Random(ref rng, m * n);
        int ars = transposeA ? 1 : k, acs = transposeA ? m : 1; // transposed: A stored (k, m)

        // The scalar reference: each element is c + Σ_p a·b as fused multiply-adds over p in increasing order
        // (k-blocks of 256 accumulate in order, which is the same chain).
        var fused = new float[m * n];
        var exact = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float s = c0[i * n + j];
                double d = s;
                for (int p = 0; p < k; p++)
                {
                    s = MathF.FusedMultiplyAdd(a[i * ars + p * acs], b[p * n + j], s);
                    d += (double)a[i * ars + p * acs] * b[p * n + j];
                }

                fused[i * n + j] = s;
                exact[i * n + j] = d;
            }
        }

        foreach (VectorWidth width in s_widths)
        {
            var gemm = new Gemm(width);
            Assert.Equal(Simd.Resolve(width), gemm.Width); // capped at what this machine runs
            float[] c = (float[])c0.Clone();
            gemm.Multiply(m, k, a, 0, ars, acs, b, 0, n, c, 0, n, true, 0, n);
            for (int i = 0; i < c.Length; i++)
            {
                Assert.True(Math.Abs(c[i] - exact[i]) <= Tolerance * (1 + Math.Abs(exact[i])), $"{width}: C[{i}] = {c[i]}, exact {exact[i]}");
            }

            // Every width runs the reference's chain of fused multiply-adds: bitwise equal results.
            Assert.Equal(fused, c);
        }
    }

    [Fact]
    public void Widest_IsTheMachinesBest_AndAWidthIsCappedAtIt()
    {
        Assert.Equal(Simd.Resolve(VectorWidth.V512), Gemm.Widest.Width);
        Assert.Equal(VectorWidth.Scalar, new Gemm(VectorWidth.Scalar).Width);
        Assert.Equal(VectorWidth.Scalar, default(Gemm).Width);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Gemm((VectorWidth)64));
    }

    [Fact]
    public void Multiply_ColumnRanges_GiveTheSameBitsAsOneCall()
    {
        var rng = new Xoshiro128StarStar(5);
        int m = 13, k = 70, n = 200;
        float[] a = Random(ref rng, m * k), b = Random(ref rng, k * n);
        foreach (VectorWidth width in s_widths)
        {
            var gemm = new Gemm(width);
            var whole = new float[m * n];
            gemm.Multiply(m, k, a, 0, k, 1, b, 0, n, whole, 0, n, false, 0, n);
            var parts = new float[m * n];
            for (int p = 0; p < 3; p++)
            {
                (int c0, int c1) = Workers.Split(n, 3, p, 16);
                gemm.Multiply(m, k, a, 0, k, 1, b, 0, n, parts, 0, n, false, c0, c1);
            }

            Assert.Equal(whole, parts);
        }
    }

    [Fact]
    public void Transpose_SwapsRowsAndColumns()
    {
        float[] src = { 1, 2, 3, 4, 5, 6 }; // (2, 3)
        var dst = new float[6];
        Gemm.Transpose(src, 2, 3, dst);
        Assert.Equal(new float[] { 1, 4, 2, 5, 3, 6 }, dst);
    }

    private static float[] Random(ref Xoshiro128StarStar rng, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = 2f * rng.NextSingle() - 1f;
        }

        return x;
    }
}
