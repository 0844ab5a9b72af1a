using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Bench;
using Bench.Before;
using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;

#pragma warning disable CA2252 // AvxVnni (preview in net8.0's reference; stable here)

/// <summary>
/// StepBench --i8step [rounds]: the int8-dynamic product at V512 for 1..8 inputs (weights 64-byte aligned), today's kernels against the frozen
/// copy from before branch i8step (Before/Int8DotBefore.cs), in one process, rounds interleaved, bits compared first;
/// each "after" also as a share of this CPU's vpdpbusd ymm peak (2 per cycle here), measured in the same process by
/// 12 independent register chains. Then the generated int8-dynamic steps at 1..8 models (docs/benchmarks.md,
/// "int8-dynamic small batches at the VNNI bound"). Thread CPU time, median of the rounds.
/// </summary>
internal static class I8Step
{
    private static readonly int[] s_counts = [1, 2, 3, 4, 5, 6, 8];

    public static void Run(int rounds)
    {
        if (!AvxVnni.IsSupported)
        {
            Console.WriteLine("--i8step needs AVX-VNNI (the frozen copy has only those paths).");
            return;
        }

        double peak = Peak();
        Console.WriteLine(FormattableString.Invariant(
            $"vpdpbusd ymm peak: {peak:F0} multiply-adds per ns (12 register chains, {peak / 32:F2} instructions per ns)"));
        Console.WriteLine("int8-dynamic product V512, us per call: before -> after (after/before) [after's share of the peak]");
        foreach ((int rows, int cols, int iterations) in new[] { (512, 128, 4000), (64, 256, 8000), (1024, 256, 1000), (2048, 512, 300) })
        {
            Shape(rows, cols, iterations, rounds, peak);
        }

        Console.WriteLine("generated int8-dynamic step, us per call (single, then 1..8 models batched)");
        Steps<KjvCharInt8Dynamic>("kjv lstm256", 2000, rounds);
        Steps<Lstm256Int8Dynamic>("lstm256", 2000, rounds);
        Steps<Gru256Int8Dynamic>("gru256", 2000, rounds);
        Steps<Lstm512Int8Dynamic>("lstm512", 500, rounds);
    }

    private static unsafe void Shape(int rows, int cols, int iterations, int rounds, double peak)
    {
        var random = new Random(5);

        // 64-byte aligned, as a generated model's weights are by default (docs/generator.md, "Alignment").
        sbyte[] buffer = GC.AllocateArray<sbyte>((rows * cols) + 64, pinned: true);
        int offset;
        fixed (sbyte* p = buffer)
        {
            offset = (int)((64 - ((long)p % 64)) % 64);
        }

        ArraySegment<sbyte> q = new(buffer, offset, rows * cols);
        var scales = new float[rows];
        float[] x = new float[8 * cols];
        float[] before = new float[8 * rows];
        float[] after = new float[8 * rows];
        for (int i = 0; i < q.Count; i++)
        {
            q[i] = (sbyte)random.Next(-128, 128);
        }

        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)random.NextDouble() - 0.5f;
        }

        for (int r = 0; r < rows; r++)
        {
            scales[r] = 0.001f + (0.01f * (float)random.NextDouble());
        }

        Console.Write(FormattableString.Invariant($"  {rows}x{cols,-4}"));
        foreach (int n in s_counts)
        {
            Span<float> xs = x.AsSpan(0, n * cols);
            void Before()
            {
                if (n == 1)
                {
                    Int8DotBefore.Multiply(new PackedInt8DotMatrix(q.AsSpan(), scales), x.AsSpan(0, cols), before.AsSpan(0, rows));
                }
                else
                {
                    Int8DotBefore.MultiplyBatch(new PackedInt8DotMatrix(q.AsSpan(), scales), x.AsSpan(0, n * cols), before.AsSpan(0, n * rows), n);
                }
            }

            void After()
            {
                if (n == 1)
                {
                    PackedGemv.Multiply(new PackedInt8DotMatrix(q.AsSpan(), scales), x.AsSpan(0, cols), after.AsSpan(0, rows), VectorWidth.V512);
                }
                else
                {
                    PackedGemv.MultiplyBatch(new PackedInt8DotMatrix(q.AsSpan(), scales), x.AsSpan(0, n * cols), after.AsSpan(0, n * rows), n, VectorWidth.V512);
                }
            }

            Before();
            After();
            if (!before.AsSpan(0, n * rows).SequenceEqual(after.AsSpan(0, n * rows)))
            {
                throw new InvalidOperationException($"{rows}x{cols} at {n} inputs: before and after differ.");
            }

            (double tb, double ta) = Paired(Before, After, iterations, rounds);
            double share = n * rows * (double)cols / ta / 1000 / peak;
            Console.Write(FormattableString.Invariant($"  b{n} {tb:F2}->{ta:F2} ({ta / tb:F2}) [{share * 100:F0}%]"));
        }

        Console.WriteLine();
    }

    private static void Steps<TModel>(string name, int iterations, int rounds)
        where TModel : struct, ITokenModel<TModel>
    {
        var models = new TModel[8];
        var tokens = new int[8];
        for (int b = 0; b < tokens.Length; b++)
        {
            tokens[b] = (b * 7) % TModel.InputSize;
        }

        var outputs = new float[8 * TModel.OutputSize];
        for (int i = 0; i < 50; i++)
        {
            TModel.Step(models, tokens, outputs); // nonzero states: the products run
        }

        (double single, _) = Paired(() => models[0].Step(tokens[0], outputs), () => { }, iterations, rounds);
        Console.Write(FormattableString.Invariant($"  {name,-12} single {single,6:F2}"));
        foreach (int n in s_counts)
        {
            (double t, _) = Paired(() => TModel.Step(models.AsSpan(0, n), tokens.AsSpan(0, n), outputs), () => { }, iterations, rounds);
            Console.Write(FormattableString.Invariant($"  b{n} {t,6:F2}"));
        }

        Console.WriteLine();
    }

    // Medians (us per call) of `rounds` interleaved rounds of `iterations` calls each.
    private static (double A, double B) Paired(Action a, Action b, int iterations, int rounds)
    {
        for (int i = 0; i < iterations / 4; i++)
        {
            a();
            b();
        }

        var ta = new double[rounds];
        var tb = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            long t0 = ThreadClock.Now();
            for (int i = 0; i < iterations; i++)
            {
                a();
            }

            long t1 = ThreadClock.Now();
            for (int i = 0; i < iterations; i++)
            {
                b();
            }

            long t2 = ThreadClock.Now();
            ta[r] = (t1 - t0) / 1000.0 / iterations;
            tb[r] = (t2 - t1) / 1000.0 / iterations;
        }

        Array.Sort(ta);
        Array.Sort(tb);
        return (ta[rounds / 2], tb[rounds / 2]);
    }

    // vpdpbusd ymm, 12 independent chains in registers: multiply-adds per ns this thread gets (32 per instruction).
    private static double Peak()
    {
        const int n = 2_000_000;
        var best = long.MaxValue;
        Vector256<int> total = Vector256<int>.Zero;
        for (int r = 0; r < 7; r++)
        {
            long t0 = ThreadClock.Now();
            total += Chains(n, Vector256.Create((byte)3), Vector256.Create((sbyte)5));
            best = Math.Min(best, ThreadClock.Now() - t0);
        }

        GC.KeepAlive(total.ToString());
        return 12.0 * 32 * n / best;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector256<int> Chains(int n, Vector256<byte> w, Vector256<sbyte> v)
    {
        Vector256<int> a0 = Vector256<int>.Zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        Vector256<int> a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < n; i++)
        {
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, w, v);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, w, v);
            a2 = AvxVnni.MultiplyWideningAndAdd(a2, w, v);
            a3 = AvxVnni.MultiplyWideningAndAdd(a3, w, v);
            a4 = AvxVnni.MultiplyWideningAndAdd(a4, w, v);
            a5 = AvxVnni.MultiplyWideningAndAdd(a5, w, v);
            a6 = AvxVnni.MultiplyWideningAndAdd(a6, w, v);
            a7 = AvxVnni.MultiplyWideningAndAdd(a7, w, v);
            a8 = AvxVnni.MultiplyWideningAndAdd(a8, w, v);
            a9 = AvxVnni.MultiplyWideningAndAdd(a9, w, v);
            a10 = AvxVnni.MultiplyWideningAndAdd(a10, w, v);
            a11 = AvxVnni.MultiplyWideningAndAdd(a11, w, v);
        }

        return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
    }
}
