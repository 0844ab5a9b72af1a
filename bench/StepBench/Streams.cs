using System.Runtime.InteropServices;
using Bench;
using Bench.Before;
using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;

/// <summary>
/// StepBench --streams [iterations]: many inputs over one W (docs/benchmarks.md, "Many inputs over a W beyond L2").
/// The float32 batched product at Vector512 with 16 and 64 inputs, today's kernel against the frozen copy of main's
/// at 3a95383 (Before/Batch512Before.cs, shared with --tiles), in one process, rounds interleaved, W 64-byte aligned
/// (as a generated model's weights are by default); bits compared before timing; multiply-adds per ns and the share
/// of the thread's FMA peak; and 64 inputs over L2-sized row slices of W against one 64-input call (what one pass for
/// 64 would give). Then the rest of
/// a 16-model step (head product, cell kernels) and the generated H=512 and H=256 models: a 1-model step, a
/// 16-model step, 64 streams one by one and together.
/// Thread CPU time, median of 7 rounds.
/// </summary>
internal static class Streams
{
    public static void Run(int iterations, bool productsOnly = false)
    {
        double peak = Batch.FmaPeak();
        Console.WriteLine(FormattableString.Invariant(
            $"FMA peak of this thread now: {peak:F1} multiply-adds/ns (16 independent Vector512 chains)"));
        Console.WriteLine("float32 batched product V512, W 64-byte aligned, us per call: main -> now (now/main), multiply-adds/ns now (% of peak)");
        foreach ((int rows, int cols) in new[] { (2048, 512), (1536, 512), (1024, 256), (768, 256), (64, 512) })
        {
            Shape(rows, cols, Math.Max(20, iterations * 512 * 2048 / (rows * cols) / 8), peak, productsOnly ? [16] : [9, 12, 16, 64]);
        }

        if (productsOnly)
        {
            return;
        }

        Console.WriteLine("the rest of a 16-model step, us per call: head product (96 x H, 16 inputs), 16 cell kernels");
        foreach (int hidden in new[] { 512, 256 })
        {
            Rest(hidden, iterations * 256 / hidden);
        }

        Console.WriteLine("generated step, us per call: 1 model, 16 models (16/1), 64 streams one by one / together (gain)");
        Steps<Lstm512>("lstm512", iterations / 4);
        Steps<Gru512>("gru512", iterations / 4);
        Steps<Lstm256>("lstm256", iterations);
        Steps<Gru256>("gru256", iterations);
    }

    private static unsafe void Shape(int rows, int cols, int iterations, double peak, int[] counts)
    {
        var random = new Random(3);
        int length = rows * cols;
        float[] buffer = GC.AllocateArray<float>(length + 16, pinned: true);
        int offset;
        fixed (float* p = buffer)
        {
            offset = (int)((64 - ((long)p % 64)) % 64) / sizeof(float);
        }

        for (int i = 0; i < buffer.Length; i++)
        {
            buffer[i] = (float)random.NextDouble() - 0.5f;
        }

        float[] xs = new float[64 * cols];
        for (int i = 0; i < xs.Length; i++)
        {
            xs[i] = (float)random.NextDouble() - 0.5f;
        }

        float[] before = new float[64 * rows];
        float[] after = new float[64 * rows];
        Console.Write(FormattableString.Invariant($"  {rows}x{cols,-4}"));
        foreach (int n in counts)
        {
            ReadOnlySpan<float> w = buffer.AsSpan(offset, length);
            Batch512Before.MultiplyBatch(w, xs.AsSpan(0, n * cols), before.AsSpan(0, n * rows), n);
            PackedGemv.MultiplyBatch(w, xs.AsSpan(0, n * cols), after.AsSpan(0, n * rows), n, VectorWidth.V512);
            if (!MemoryMarshal.AsBytes(before.AsSpan(0, n * rows)).SequenceEqual(MemoryMarshal.AsBytes(after.AsSpan(0, n * rows))))
            {
                throw new InvalidOperationException($"{rows}x{cols} count {n}: the two kernels differ in bits");
            }

            int o = offset, inputs = n * cols, outputs = n * rows;
            int calls = Math.Max(4, iterations * 16 / n);
            (double b, double a) = Pair(
                () => Batch512Before.MultiplyBatch(buffer.AsSpan(o, length), xs.AsSpan(0, inputs), before.AsSpan(0, outputs), n),
                () => PackedGemv.MultiplyBatch(buffer.AsSpan(o, length), xs.AsSpan(0, inputs), after.AsSpan(0, outputs), n, VectorWidth.V512),
                calls);
            double rate = n * (double)length / a / 1000;
            Console.Write(FormattableString.Invariant($"  b{n} {b:F1}->{a:F1} ({a / b:F2}) {rate:F0}/ns ({rate / peak * 100:F0}%)"));
        }

        if (counts.Length > 1 && rows % 256 == 0)
        {
            // What one pass over W for all 64 inputs would give: W cut into row slices of 4 panels (256 rows, a valid
            // packed matrix of its own; 512 KB at 512 columns, so it stays in L2), each slice multiplied by the four
            // groups of 16 inputs before the next slice is read, against 4 passes of 16 over the whole W. Same bits.
            float[] sliced = new float[64 * rows];
            float[] part = new float[16 * 256];
            int o = offset;
            void Sliced()
            {
                for (int r0 = 0; r0 < rows; r0 += 256)
                {
                    ReadOnlySpan<float> slice = buffer.AsSpan(o + (r0 * cols), 256 * cols);
                    for (int b0 = 0; b0 < 64; b0 += 16)
                    {
                        PackedGemv.MultiplyBatch(slice, xs.AsSpan(b0 * cols, 16 * cols), part, 16, VectorWidth.V512);
                        for (int b = 0; b < 16; b++)
                        {
                            part.AsSpan(b * 256, 256).CopyTo(sliced.AsSpan(((b0 + b) * rows) + r0, 256));
                        }
                    }
                }
            }

            Sliced();
            PackedGemv.MultiplyBatch(buffer.AsSpan(o, length), xs, after, 64, VectorWidth.V512);
            if (!MemoryMarshal.AsBytes(sliced.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(after.AsSpan())))
            {
                throw new InvalidOperationException($"{rows}x{cols}: the sliced 64-input product differs in bits");
            }

            (double whole, double slices) = Pair(
                () => PackedGemv.MultiplyBatch(buffer.AsSpan(o, length), xs, after, 64, VectorWidth.V512),
                Sliced,
                Math.Max(4, iterations / 4));
            double sliceRate = 64 * (double)length / slices / 1000;
            Console.Write(FormattableString.Invariant(
                $"  b64 in L2 slices {whole:F1}->{slices:F1} ({slices / whole:F2}) {sliceRate:F0}/ns ({sliceRate / peak * 100:F0}%)"));
        }

        Console.WriteLine();
    }

    // The parts of a 16-model step besides the recurrent product: the head product and the pointwise cell kernels.
    private static void Rest(int hidden, int iterations)
    {
        var random = new Random(5);
        float[] head = new float[96 * hidden];
        float[] gates = new float[16 * 4 * hidden];
        float[] gh = new float[16 * 3 * hidden];
        float[] xs = new float[16 * hidden];
        float[] ys = new float[16 * 96];
        float[] c = new float[16 * hidden];
        float[] h = new float[16 * hidden];
        foreach (float[] a in new[] { head, gates, gh, xs })
        {
            for (int i = 0; i < a.Length; i++)
            {
                a[i] = (float)random.NextDouble() - 0.5f;
            }
        }

        double headTime = Median(() => PackedGemv.MultiplyBatch(head, xs, ys, 16, VectorWidth.V512), iterations);
        double lstm = Median(() =>
        {
            for (int b = 0; b < 16; b++)
            {
                CellKernels.Lstm(gates.AsSpan(b * 4 * hidden, 4 * hidden), c.AsSpan(b * hidden, hidden), h.AsSpan(b * hidden, hidden), VectorWidth.V512);
            }
        }, iterations);
        double gru = Median(() =>
        {
            for (int b = 0; b < 16; b++)
            {
                CellKernels.GruResetAfter(
                    gates.AsSpan(b * 3 * hidden, 3 * hidden), gh.AsSpan(b * 3 * hidden, 3 * hidden), h.AsSpan(b * hidden, hidden), VectorWidth.V512);
            }
        }, iterations);
        Console.WriteLine(FormattableString.Invariant(
            $"  H={hidden}: head {headTime,6:F2} ({16 * 96.0 * hidden / headTime / 1000:F0}/ns)  16 LSTM cells {lstm,6:F2}  16 GRU cells {gru,6:F2}"));
    }

    private static void Steps<TModel>(string name, int iterations)
        where TModel : struct, ITokenModel<TModel>
    {
        var models = new TModel[64];
        var tokens = new int[64];
        for (int b = 0; b < tokens.Length; b++)
        {
            tokens[b] = (b * 7) % TModel.InputSize;
        }

        var outputs = new float[64 * TModel.OutputSize];
        double one = Median(() => models[0].Step(tokens[0], outputs), iterations);
        double sixteen = Median(() => TModel.Step(models.AsSpan(0, 16), tokens.AsSpan(0, 16), outputs), iterations);
        int streamSteps = Math.Max(2, iterations / 16);
        double alone = Median(() =>
        {
            for (int b = 0; b < 64; b++)
            {
                models[b].Step(tokens[b], outputs.AsSpan(b * TModel.OutputSize, TModel.OutputSize));
            }
        }, streamSteps);
        double together = Median(() => TModel.Step(models, tokens, outputs), streamSteps);
        Console.WriteLine(FormattableString.Invariant(
            $"  {name,-8} 1: {one,7:F2}  16: {sixteen,7:F2} ({sixteen / one:F2}x)  64: {alone,8:F1} / {together,7:F1} ({alone / together:F2}x)"));
    }

    // Medians of 7 rounds, the two actions alternating round by round.
    private static (double Before, double After) Pair(Action before, Action after, int iterations)
    {
        var b = new double[7];
        var a = new double[7];
        before();
        after();
        for (int r = 0; r < b.Length; r++)
        {
            b[r] = Time(before, iterations);
            a[r] = Time(after, iterations);
        }

        Array.Sort(b);
        Array.Sort(a);
        return (b[3], a[3]);
    }

    private static double Median(Action action, int iterations)
    {
        action();
        var t = new double[7];
        for (int r = 0; r < t.Length; r++)
        {
            t[r] = Time(action, iterations);
        }

        Array.Sort(t);
        return t[3];
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
