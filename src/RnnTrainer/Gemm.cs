using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;

namespace RnnEmbedded.Trainer;

/// <summary>
/// Cache-blocked SIMD matrix product for the trainer:
/// C (M, N) (+)= A (M, K) · B (K, N), with A(i, k) = a[i·ars + k·acs] (so Aᵀ is free: swap the strides),
/// B and C row-major with leading dimensions ldb / ldc. Only the columns [n0, n1) of C are computed, so threads
/// can split the columns of one product.
/// <para>
/// Determinism: every element of C is the same chain of fused multiply-adds over k in increasing order, whatever
/// the column range, the tile it falls in or the vector width, so results do not depend on the thread count
/// or the width.
/// </para>
/// <para>
/// The vector width is chosen once, when the value is created (a training session uses <see cref="Widest"/>, or
/// the width its options cap it at), and never changes: a <see cref="Gemm"/> is an immutable value that the
/// session hands to every window.
/// </para>
/// </summary>
public readonly unsafe struct Gemm
{
    private const int Kc = 256; // k-block: a (Kc × 32) B tile is 32 KB
    private const int Nc = 256; // column block

    /// <summary>A product that runs at <paramref name="cap"/> or the widest width this machine runs in hardware, whichever is narrower.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cap"/> is not a defined width.</exception>
    public Gemm(VectorWidth cap)
    {
        if (cap is not (VectorWidth.Scalar or VectorWidth.V128 or VectorWidth.V256 or VectorWidth.V512))
        {
            throw new ArgumentOutOfRangeException(nameof(cap), cap, "The vector width must be Scalar, V128, V256 or V512.");
        }

        Width = Simd.Resolve(cap);
    }

    /// <summary>The product at the widest width this machine runs in hardware.</summary>
    public static Gemm Widest => new(VectorWidth.V512);

    /// <summary>The width the kernels run at (Scalar for a default value).</summary>
    public VectorWidth Width { get; }

    /// <summary>C[:, n0..n1) = (accumulate ? C : 0) + A · B over the column range.</summary>
    public void Multiply(
        int m, int k, float* a, int ars, int acs, float* b, int ldb, float* c, int ldc, bool accumulate, int n0, int n1)
    {
        if (n1 <= n0 || m <= 0)
        {
            return;
        }

        if (!accumulate)
        {
            for (int i = 0; i < m; i++)
            {
                new Span<float>(c + (long)i * ldc + n0, n1 - n0).Clear();
            }
        }

        if (k <= 0)
        {
            return;
        }

        for (int jc = n0; jc < n1; jc += Nc)
        {
            int jEnd = Math.Min(n1, jc + Nc);
            for (int pc = 0; pc < k; pc += Kc)
            {
                int kLen = Math.Min(Kc, k - pc);
                float* aBlock = a + (long)pc * acs;
                float* bBlock = b + (long)pc * ldb;
                Block(m, kLen, aBlock, ars, acs, bBlock, ldb, c, ldc, jc, jEnd);
            }
        }
    }

    /// <summary>Managed-array convenience over <see cref="Multiply"/> (offsets in elements).</summary>
    public void Multiply(
        int m, int k, float[] a, int aOffset, int ars, int acs, float[] b, int bOffset, int ldb, float[] c, int cOffset, int ldc,
        bool accumulate, int n0, int n1)
    {
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            Multiply(m, k, pa + aOffset, ars, acs, pb + bOffset, ldb, pc + cOffset, ldc, accumulate, n0, n1);
        }
    }

    // One (m × kLen) · (kLen × [j0, j1)) block, accumulated into C.
    private void Block(int m, int kLen, float* a, int ars, int acs, float* b, int ldb, float* c, int ldc, int j0, int j1)
    {
        int j = j0;
        if (Width == VectorWidth.V512)
        {
            for (; j + 32 <= j1; j += 32)
            {
                int i = 0;
                for (; i + 8 <= m; i += 8)
                {
                    Kernel512x8x32(kLen, a + (long)i * ars, ars, acs, b + j, ldb, c + (long)i * ldc + j, ldc);
                }

                for (; i < m; i++)
                {
                    Kernel512x1x32(kLen, a + (long)i * ars, acs, b + j, ldb, c + (long)i * ldc + j);
                }
            }

            for (; j + 16 <= j1; j += 16)
            {
                for (int i = 0; i < m; i++)
                {
                    Kernel512x1x16(kLen, a + (long)i * ars, acs, b + j, ldb, c + (long)i * ldc + j);
                }
            }
        }
        else if (Width == VectorWidth.V256)
        {
            for (; j + 16 <= j1; j += 16)
            {
                int i = 0;
                for (; i + 4 <= m; i += 4)
                {
                    Kernel256x4x16(kLen, a + (long)i * ars, ars, acs, b + j, ldb, c + (long)i * ldc + j, ldc);
                }

                for (; i < m; i++)
                {
                    Kernel256x1x8(kLen, a + (long)i * ars, acs, b + j, ldb, c + (long)i * ldc + j);
                    Kernel256x1x8(kLen, a + (long)i * ars, acs, b + j + 8, ldb, c + (long)i * ldc + j + 8);
                }
            }

            for (; j + 8 <= j1; j += 8)
            {
                for (int i = 0; i < m; i++)
                {
                    Kernel256x1x8(kLen, a + (long)i * ars, acs, b + j, ldb, c + (long)i * ldc + j);
                }
            }
        }
        else if (Width == VectorWidth.V128)
        {
            for (; j + 8 <= j1; j += 8)
            {
                int i = 0;
                for (; i + 4 <= m; i += 4)
                {
                    Kernel128x4x8(kLen, a + (long)i * ars, ars, acs, b + j, ldb, c + (long)i * ldc + j, ldc);
                }

                for (; i < m; i++)
                {
                    Kernel128x1x4(kLen, a + (long)i * ars, acs, b + j, ldb, c + (long)i * ldc + j);
                    Kernel128x1x4(kLen, a + (long)i * ars, acs, b + j + 4, ldb, c + (long)i * ldc + j + 4);
                }
            }

            for (; j + 4 <= j1; j += 4)
            {
                for (int i = 0; i < m; i++)
                {
                    Kernel128x1x4(kLen, a + (long)i * ars, acs, b + j, ldb, c + (long)i * ldc + j);
                }
            }
        }

        for (; j < j1; j++)
        {
            for (int i = 0; i < m; i++)
            {
                float* ai = a + (long)i * ars;
                float s = c[(long)i * ldc + j];
                for (int p = 0; p < kLen; p++)
                {
                    s = MathF.FusedMultiplyAdd(ai[(long)p * acs], b[(long)p * ldb + j], s);
                }

                c[(long)i * ldc + j] = s;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512x8x32(int kLen, float* a, int ars, int acs, float* b, int ldb, float* c, int ldc)
    {
        Vector512<float> c00 = Vector512.Load(c), c01 = Vector512.Load(c + 16);
        Vector512<float> c10 = Vector512.Load(c + ldc), c11 = Vector512.Load(c + ldc + 16);
        Vector512<float> c20 = Vector512.Load(c + 2 * ldc), c21 = Vector512.Load(c + 2 * ldc + 16);
        Vector512<float> c30 = Vector512.Load(c + 3 * ldc), c31 = Vector512.Load(c + 3 * ldc + 16);
        Vector512<float> c40 = Vector512.Load(c + 4 * ldc), c41 = Vector512.Load(c + 4 * ldc + 16);
        Vector512<float> c50 = Vector512.Load(c + 5 * ldc), c51 = Vector512.Load(c + 5 * ldc + 16);
        Vector512<float> c60 = Vector512.Load(c + 6 * ldc), c61 = Vector512.Load(c + 6 * ldc + 16);
        Vector512<float> c70 = Vector512.Load(c + 7 * ldc), c71 = Vector512.Load(c + 7 * ldc + 16);
        float* a0 = a, a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars;
        float* a4 = a + 4 * ars, a5 = a + 5 * ars, a6 = a + 6 * ars, a7 = a + 7 * ars;
        for (int p = 0; p < kLen; p++)
        {
            long ap = (long)p * acs;
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
            b += ldb;
            Vector512<float> x = Vector512.Create(a0[ap]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[ap]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[ap]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[ap]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a4[ap]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a5[ap]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a6[ap]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a7[ap]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
        }

        c00.Store(c); c01.Store(c + 16);
        c10.Store(c + ldc); c11.Store(c + ldc + 16);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 16);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 16);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 16);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 16);
        c60.Store(c + 6 * ldc); c61.Store(c + 6 * ldc + 16);
        c70.Store(c + 7 * ldc); c71.Store(c + 7 * ldc + 16);
    }

    private static void Kernel512x1x32(int kLen, float* a, int acs, float* b, int ldb, float* c)
    {
        Vector512<float> c0 = Vector512.Load(c), c1 = Vector512.Load(c + 16);
        for (int p = 0; p < kLen; p++)
        {
            Vector512<float> x = Vector512.Create(a[(long)p * acs]);
            c0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b), c0);
            c1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 16), c1);
            b += ldb;
        }

        c0.Store(c);
        c1.Store(c + 16);
    }

    private static void Kernel512x1x16(int kLen, float* a, int acs, float* b, int ldb, float* c)
    {
        Vector512<float> c0 = Vector512.Load(c);
        for (int p = 0; p < kLen; p++)
        {
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[(long)p * acs]), Vector512.Load(b), c0);
            b += ldb;
        }

        c0.Store(c);
    }

    private static void Kernel256x4x16(int kLen, float* a, int ars, int acs, float* b, int ldb, float* c, int ldc)
    {
        Vector256<float> c00 = Vector256.Load(c), c01 = Vector256.Load(c + 8);
        Vector256<float> c10 = Vector256.Load(c + ldc), c11 = Vector256.Load(c + ldc + 8);
        Vector256<float> c20 = Vector256.Load(c + 2 * ldc), c21 = Vector256.Load(c + 2 * ldc + 8);
        Vector256<float> c30 = Vector256.Load(c + 3 * ldc), c31 = Vector256.Load(c + 3 * ldc + 8);
        float* a0 = a, a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars;
        for (int p = 0; p < kLen; p++)
        {
            long ap = (long)p * acs;
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
            b += ldb;
            Vector256<float> x = Vector256.Create(a0[ap]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[ap]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[ap]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[ap]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
        }

        c00.Store(c); c01.Store(c + 8);
        c10.Store(c + ldc); c11.Store(c + ldc + 8);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 8);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 8);
    }

    private static void Kernel256x1x8(int kLen, float* a, int acs, float* b, int ldb, float* c)
    {
        Vector256<float> c0 = Vector256.Load(c);
        for (int p = 0; p < kLen; p++)
        {
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(a[(long)p * acs]), Vector256.Load(b), c0);
            b += ldb;
        }

        c0.Store(c);
    }

    private static void Kernel128x4x8(int kLen, float* a, int ars, int acs, float* b, int ldb, float* c, int ldc)
    {
        Vector128<float> c00 = Vector128.Load(c), c01 = Vector128.Load(c + 4);
        Vector128<float> c10 = Vector128.Load(c + ldc), c11 = Vector128.Load(c + ldc + 4);
        Vector128<float> c20 = Vector128.Load(c + 2 * ldc), c21 = Vector128.Load(c + 2 * ldc + 4);
        Vector128<float> c30 = Vector128.Load(c + 3 * ldc), c31 = Vector128.Load(c + 3 * ldc + 4);
        float* a0 = a, a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars;
        for (int p = 0; p < kLen; p++)
        {
            long ap = (long)p * acs;
            Vector128<float> b0 = Vector128.Load(b), b1 = Vector128.Load(b + 4);
            b += ldb;
            Vector128<float> x = Vector128.Create(a0[ap]);
            c00 = Vector128.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector128.FusedMultiplyAdd(x, b1, c01);
            x = Vector128.Create(a1[ap]);
            c10 = Vector128.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector128.FusedMultiplyAdd(x, b1, c11);
            x = Vector128.Create(a2[ap]);
            c20 = Vector128.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector128.FusedMultiplyAdd(x, b1, c21);
            x = Vector128.Create(a3[ap]);
            c30 = Vector128.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector128.FusedMultiplyAdd(x, b1, c31);
        }

        c00.Store(c); c01.Store(c + 4);
        c10.Store(c + ldc); c11.Store(c + ldc + 4);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 4);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 4);
    }

    private static void Kernel128x1x4(int kLen, float* a, int acs, float* b, int ldb, float* c)
    {
        Vector128<float> c0 = Vector128.Load(c);
        for (int p = 0; p < kLen; p++)
        {
            c0 = Vector128.FusedMultiplyAdd(Vector128.Create(a[(long)p * acs]), Vector128.Load(b), c0);
            b += ldb;
        }

        c0.Store(c);
    }

    /// <summary>dst (cols, rows) = srcᵀ for a row-major src (rows, cols).</summary>
    public static void Transpose(float[] src, int rows, int cols, float[] dst)
    {
        const int Tile = 32;
        for (int r0 = 0; r0 < rows; r0 += Tile)
        {
            int r1 = Math.Min(rows, r0 + Tile);
            for (int c0 = 0; c0 < cols; c0 += Tile)
            {
                int c1 = Math.Min(cols, c0 + Tile);
                for (int r = r0; r < r1; r++)
                {
                    for (int c = c0; c < c1; c++)
                    {
                        dst[c * rows + r] = src[r * cols + c];
                    }
                }
            }
        }
    }
}
