using System.Runtime.InteropServices;
using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;
using static RnnEmbedded.Tests.Kernels.KernelTestSupport;

namespace RnnEmbedded.Tests.Kernels;

// The single-vector product walks a matrix of ≥ 256 KB back to front on every other call on the same thread
// (PackedGemv.PassOrder.cs). These tests pin the alternation and that both orders give the same bits.
public sealed class PackedGemvPassOrderTests
{
    private const int BigFloats = 256 * 1024 / sizeof(float);

    [Fact]
    public void NextPassBackward_AlternatesPerMatrix_AndLeavesSmallMatricesForward()
    {
        OnFreshThread(() =>
        {
            float[] a = GC.AllocateArray<float>(BigFloats, pinned: true);
            float[] b = GC.AllocateArray<float>(BigFloats, pinned: true);
            float[] small = GC.AllocateArray<float>(BigFloats - 1, pinned: true);

            bool[] seen =
            [
                Next(a), Next(b), Next(small), Next(a), Next(small), Next(b), Next(a), Next(b),
            ];

            Assert.Equal([false, false, false, true, false, true, false, false], seen);
        });
    }

    [Fact]
    public void NextPassBackward_ForgetsTheOldestOfFiveMatrices_AndStartsItForward()
    {
        OnFreshThread(() =>
        {
            float[][] m = Enumerable.Range(0, 5).Select(_ => GC.AllocateArray<float>(BigFloats, pinned: true)).ToArray();
            Assert.False(Next(m[0]));
            Assert.False(Next(m[1]));
            Assert.False(Next(m[2]));
            Assert.False(Next(m[3]));
            Assert.True(Next(m[1])); // still tracked: its second pass runs back to front
            Assert.False(Next(m[4])); // takes m[0]'s slot
            Assert.False(Next(m[0])); // forgotten: starts again front to back (and takes m[1]'s slot)
            Assert.True(Next(m[0]));
            Assert.True(Next(m[2]));
        });
    }

    [Theory]
    [MemberData(nameof(Widths), MemberType = typeof(KernelTestSupport))]
    public void MultiplyAdd_BothPanelOrders_GiveTheSameBits(VectorWidth width)
    {
        // 1,520 rows: 23 full panels and a 48-row last one (three 16-row strips); 171 columns: 1 MB of weights.
        const int rows = 1520;
        const int cols = 171;
        var random = new Random(77);
        float[] w = Uniform(random, rows * cols, -1f, 1f);
        float[] x = Uniform(random, cols, -2f, 2f);
        float[] y0 = Uniform(random, PanelPacking.PaddedRows(rows), -3f, 3f);
        float[] packed = GC.AllocateUninitializedArray<float>(PanelPacking.PackedLength(rows, cols), pinned: true);
        PanelPacking.Pack(w, rows, cols).CopyTo(packed, 0);

        OnFreshThread(() =>
        {
            float[] forward = (float[])y0.Clone();
            float[] backward = (float[])y0.Clone();
            float[] product = new float[y0.Length];
            PackedGemv.MultiplyAdd(packed, x, forward, width); // first pass on this thread: front to back
            PackedGemv.MultiplyAdd(packed, x, backward, width); // second: back to front
            PackedGemv.Multiply(packed, x, product, width); // third: front to back
            Assert.True(Next(packed)); // so the fourth would run back to front: the three alternated as stated

            Assert.Equal(BitsOf(forward), BitsOf(backward));
            for (int r = 0; r < rows; r++)
            {
                double sum = y0[r];
                for (int j = 0; j < cols; j++)
                {
                    sum += (double)w[(r * cols) + j] * x[j];
                }

                Assert.True(Math.Abs(forward[r] - sum) <= 1e-3, $"row {r}: {forward[r]} vs {sum}");
                Assert.True(Math.Abs(product[r] - (sum - y0[r])) <= 1e-3, $"row {r}: product {product[r]} vs {sum - y0[r]}");
            }
        });
    }

    private static bool Next(float[] matrix) => PackedGemv.NextPassBackward(ref MemoryMarshal.GetArrayDataReference(matrix), matrix.Length);

    private static int[] BitsOf(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    // The direction table is per thread; a fresh thread starts with it empty.
    private static void OnFreshThread(Action body)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }
}
