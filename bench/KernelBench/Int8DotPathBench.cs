using System.Diagnostics;
using System.Globalization;
using RnnEmbedded.Runtime.CompilerServices;

namespace RnnEmbedded.Bench;

/// <summary>
/// <c>KernelBench --int8-dot-paths [reps]</c>: one int8-dynamic product y = W x on every integer path this CPU runs
/// (docs/kernels.md, "Dynamic int8"), forced through <c>PackedGemv.MultiplyOnDotPath</c>, in one process with the
/// paths interleaved per repetition (load changes hit all alike); the figure is the median ns per product of the
/// repetitions after the first. Shapes are an LSTM's stacked W_ih|W_hh (4H × (64 + H)) at H = 128, 256, 512.
/// Every path's y is checked equal to the scalar path's before timing.
/// </summary>
internal static class Int8DotPathBench
{
    private static readonly (int Path, string Name)[] s_paths =
    [
        (0, "scalar"),
        (PackedGemv.DotPathMaddubs128, "ssse3-128"),
        (PackedGemv.DotPathMaddubs256, "avx2-256"),
        (PackedGemv.DotPathMaddubs512, "avx512bw"),
        (PackedGemv.DotPathWidening, "neon-smull"),
        (1, "sdot"),
        (2, "vnni-128"),
        (3, "vnni-256"),
    ];

    public static void Run(string[] args)
    {
        int reps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15;
        (int Path, string Name)[] paths = s_paths.Where(p => PackedGemv.IsDotPathSupported(p.Path)).ToArray();
        Console.WriteLine($"int8-dynamic product, ns per call (median of {reps - 1} interleaved repetitions); ratios: time / time");
        Console.Write($"{"shape",-10}");
        foreach ((_, string name) in paths)
        {
            Console.Write($"{name,12}");
        }

        Console.WriteLine();
        foreach ((int rows, int cols) in new[] { (512, 192), (1024, 320), (2048, 576) })
        {
            Measure(rows, cols, reps, paths);
        }
    }

    private static void Measure(int rows, int cols, int reps, (int Path, string Name)[] paths)
    {
        var random = new Random(rows + cols);
        int padded = PanelPacking.PaddedRows(rows);
        var weights = new sbyte[Int8DotPacking.PackedLength(rows, cols)];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < cols; j++)
            {
                weights[Int8DotPacking.PackedIndex(r, j, rows, cols)] = (sbyte)random.Next(-127, 128);
            }
        }

        var scales = new float[padded];
        for (int r = 0; r < rows; r++)
        {
            scales[r] = (float)random.NextDouble() / 127f;
        }

        var x = new float[cols];
        for (int j = 0; j < cols; j++)
        {
            x[j] = (float)(random.NextDouble() - 0.5);
        }

        var y = new float[padded];
        var reference = new float[padded];
        PackedGemv.MultiplyOnDotPath(new PackedInt8DotMatrix(weights, scales), x, reference, 0, accumulate: false);
        foreach ((int path, string name) in paths)
        {
            PackedGemv.MultiplyOnDotPath(new PackedInt8DotMatrix(weights, scales), x, y, path, accumulate: false);
            if (!y.AsSpan().SequenceEqual(reference))
            {
                throw new InvalidOperationException($"{rows}x{cols}: path {name} differs from the scalar path");
            }
        }

        int calls = Math.Max(20, 150_000_000 / (rows * cols));
        var times = new double[paths.Length][];
        for (int p = 0; p < paths.Length; p++)
        {
            times[p] = new double[reps];
        }

        for (int rep = 0; rep < reps; rep++)
        {
            for (int p = 0; p < paths.Length; p++)
            {
                var matrix = new PackedInt8DotMatrix(weights, scales);
                long t0 = Stopwatch.GetTimestamp();
                for (int c = 0; c < calls; c++)
                {
                    PackedGemv.MultiplyOnDotPath(matrix, x, y, paths[p].Path, accumulate: false);
                }

                times[p][rep] = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / calls;
            }
        }

        double[] medians = times.Select(Median).ToArray();
        Console.Write($"{rows + "x" + cols,-10}");
        foreach (double m in medians)
        {
            Console.Write(string.Create(CultureInfo.InvariantCulture, $"{m,12:F0}"));
        }

        Console.WriteLine();
        for (int p = 1; p < paths.Length; p++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {rows}x{cols} scalar/{paths[p].Name} {medians[0] / medians[p]:F2}"));
        }

        foreach (int fallback in new[] { PackedGemv.DotPathMaddubs256, PackedGemv.DotPathMaddubs512 })
        {
            int f = Array.FindIndex(paths, p => p.Path == fallback);
            for (int p = 0; f >= 0 && p < paths.Length; p++)
            {
                if (paths[p].Path is 2 or 3 || (fallback == PackedGemv.DotPathMaddubs512 && paths[p].Path == PackedGemv.DotPathMaddubs256))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {rows}x{cols} {paths[f].Name}/{paths[p].Name} {medians[f] / medians[p]:F2} (time ratio: > 1, {paths[p].Name} faster)"));
                }
            }
        }
    }

    private static double Median(double[] runs)
    {
        double[] measured = runs[1..]; // the first repetition is warm-up
        Array.Sort(measured);
        return measured[measured.Length / 2];
    }
}
