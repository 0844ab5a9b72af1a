using System.Runtime.InteropServices;
using Bench.Before;
using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;

/// <summary>
/// StepBench --tiles: the float32 batched product at Vector512 for 1..8 inputs, today's kernel against the frozen copy
/// from before the tile4 branch (Before/Batch512Before.cs, commit 3a95383; until then the copy from before the tiles
/// branch), in one process, rounds interleaved (docs/benchmarks.md, "Small-batch float32 tiles", "Aligned small-batch
/// tiles"). The weights sit 12 bytes past a 64-byte line, as a generated model's string-literal
/// weights typically do (any offset that is not 0 mod 64 takes the same path), and 64-byte aligned. Results are
/// compared bit for bit before timing. Thread CPU time, median of 7 rounds.
/// </summary>
internal static class Tiles
{
    private static readonly int[] s_counts = [1, 2, 3, 4, 5, 6, 8];

    public static void Run()
    {
        Console.WriteLine(
            "float32 batched product V512, us per call: before -> after (after/before); " +
            "weights 12 bytes off a 64-byte line (@12), then aligned (@0)");
        (int Rows, int Cols, int Iterations)[] shapes =
            [(384, 128, 4000), (512, 128, 4000), (1024, 256, 1000), (96, 256, 8000), (2048, 512, 150)];
        foreach ((int rows, int cols, int iterations) in shapes)
        {
            foreach (int misalignment in new[] { 12, 0 })
            {
                Shape(rows, cols, iterations, misalignment);
            }
        }
    }

    private static unsafe void Shape(int rows, int cols, int iterations, int misalignment)
    {
        var random = new Random(3);
        int length = rows * cols; // every shape here is a multiple of 16 rows: no padding
        float[] buffer = GC.AllocateArray<float>(length + 32, pinned: true);
        int offset;
        fixed (float* p = buffer)
        {
            long address = (long)p;
            offset = (int)(((misalignment - address) % 64 + 64) % 64) / sizeof(float);
        }

        Span<float> w = buffer.AsSpan(offset, length);
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = (float)random.NextDouble() - 0.5f;
        }

        float[] xs = new float[8 * cols];
        for (int i = 0; i < xs.Length; i++)
        {
            xs[i] = (float)random.NextDouble() - 0.5f;
        }

        int padded = rows;
        float[] before = new float[8 * padded];
        float[] after = new float[8 * padded];
        Console.Write(FormattableString.Invariant($"  {rows}x{cols,-4} @{misalignment,2}"));
        foreach (int n in s_counts)
        {
            ReadOnlySpan<float> x = xs.AsSpan(0, n * cols);
            Batch512Before.MultiplyBatch(w, x, before.AsSpan(0, n * padded), n);
            PackedGemv.MultiplyBatch(w, x, after.AsSpan(0, n * padded), n, VectorWidth.V512);
            Span<float> b0 = before.AsSpan(0, n * padded), a0 = after.AsSpan(0, n * padded);
            if (!MemoryMarshal.AsBytes(b0).SequenceEqual(MemoryMarshal.AsBytes(a0)))
            {
                throw new InvalidOperationException($"{rows}x{cols} count {n}: the two kernels differ in bits");
            }

            float[] wArray = buffer;
            int o = offset;
            int inputs = n * cols, outputs = n * padded;
            (double b, double a) = Pair(
                () => Batch512Before.MultiplyBatch(
                    wArray.AsSpan(o, length), xs.AsSpan(0, inputs), before.AsSpan(0, outputs), n),
                () => PackedGemv.MultiplyBatch(
                    wArray.AsSpan(o, length), xs.AsSpan(0, inputs), after.AsSpan(0, outputs), n, VectorWidth.V512),
                iterations);
            Console.Write(FormattableString.Invariant($"  b{n} {b:F2}->{a:F2} ({a / b:F2})"));
        }

        Console.WriteLine();
    }

    // Medians of 7 rounds, the two actions alternating round by round.
    private static (double Before, double After) Pair(Action before, Action after, int iterations)
    {
        for (int i = 0; i < iterations / 4; i++)
        {
            before();
            after();
        }

        var b = new double[7];
        var a = new double[7];
        for (int r = 0; r < b.Length; r++)
        {
            b[r] = Time(before, iterations);
            a[r] = Time(after, iterations);
        }

        Array.Sort(b);
        Array.Sort(a);
        return (b[3], a[3]);
    }

    private static double Time(Action action, int iterations)
    {
        long t0 = ThreadClock.Now();
        for (int i = 0; i < iterations; i++)
        {
            action();
        }

        return (ThreadClock.Now() - t0) / 1000.0 / iterations;
    }
}
