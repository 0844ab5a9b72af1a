using System.Runtime.InteropServices;
using Bench;
using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;

/// <summary>
/// Where the batched decoders' time goes (docs/benchmarks.md, "Where the time goes"): the packed product alone and
/// batched over 1..16 inputs, the generated models' single and batched steps, and how many batched steps the
/// keystroke engine's completions and a caption's beam take. Thread CPU time, median of 5. <see cref="Loop"/> runs
/// one step kind for a while, for a profiler (perf record with DOTNET_PerfMapEnabled=1).
/// </summary>
internal static class Parts
{
    private const string Passage =
        "And it came to pass, when the king heard the words of the law, that he rent his clothes. " +
        "Then said the LORD unto Moses, Stretch out thine hand toward heaven, that there may be darkness over the land. " +
        "Blessed are the meek: for they shall inherit the earth. In the beginning was the Word, and the Word was with God.";

    private static readonly int[] s_counts = [1, 2, 3, 4, 8, 16];

    public static void Run()
    {
        Console.WriteLine("packed product y = W x, V512, W 64-byte aligned: us per call (multiply-adds per ns)");
        Product(384, 128, 20000);  // the caption model's W_hh (GRU H=128)
        Product(1024, 256, 5000);  // the KJV model's W_hh (LSTM H=256)
        Product(2048, 512, 1000);  // LSTM H=512
        Console.WriteLine("generated step: us per call");
        Steps<ToyCaption>("caption gru128", 20000);
        Steps<KjvChar>("kjv lstm256", 5000);
        Searches();
    }

    /// <summary>The products and generated steps of <see cref="Run"/> without the searches (a quick A/B).</summary>
    public static void Products(bool cellsOnly = false, bool dotOnly = false)
    {
        if (dotOnly)
        {
            Console.WriteLine("int8-dynamic packed product, V512 (AVX-VNNI 256): us per call (multiply-adds per ns) [n singles / batch]");
            DotProduct(1024, 256, 5000);
            DotProduct(2048, 512, 1000);
            Console.WriteLine("generated step: us per call");
            Steps<KjvCharInt8Dynamic>("kjv lstm256 i8dyn", 5000);
            Steps<Lstm256Int8Dynamic>("lstm256 i8dyn", 5000);
            return;
        }

        if (cellsOnly)
        {
            Breakdown(256, 5000);
            return;
        }

        Console.WriteLine("packed product y = W x, V512, W 64-byte aligned: us per call (multiply-adds per ns)");
        Product(1024, 256, 5000);
        Product(2048, 512, 1000);
        Product(96, 256, 20000);   // the bench models' head (96 outputs, H=256)
        Breakdown(256, 5000);
        Console.WriteLine("bfloat16 / int8 packed product, V512: us per call (multiply-adds per ns)");
        QuantizedProduct(1024, 256, 5000, int8: false);
        QuantizedProduct(1024, 256, 5000, int8: true);
        QuantizedProduct(2048, 512, 1000, int8: false);
        QuantizedProduct(2048, 512, 1000, int8: true);
        Console.WriteLine("int8-dynamic packed product, V512 (AVX-VNNI 256): us per call (multiply-adds per ns) [n singles / batch]");
        DotProduct(1024, 256, 5000);
        DotProduct(2048, 512, 1000);
        Console.WriteLine("generated step: us per call");
        Steps<KjvChar>("kjv lstm256", 5000);
        Steps<Lstm256>("lstm256", 5000);
        Steps<Lstm256Int8>("lstm256 int8", 5000);
        Steps<Lstm256Int8Dynamic>("lstm256 i8dyn", 5000);
        Steps<Gru256>("gru256", 5000);
        Steps<Lstm512>("lstm512", 1000);
    }

    public static void Loop(string what, int count, int seconds)
    {
        if (what == "caption")
        {
            LoopOf<ToyCaption>(count, seconds);
        }
        else if (what == "captions")
        {
            LoopCaptions(seconds);
        }
        else
        {
            LoopOf<KjvChar>(count, seconds);
        }
    }

    // Batched caption beam-3 decoding (as --caption) on random features, for a profiler.
    private static void LoopCaptions(int seconds)
    {
        var decoder = new CaptionDecoder<ToyCaption>(16, beamWidth: 3, maxResults: 3);
        var random = new Random(12);
        float[][] features = Enumerable.Range(0, 300)
            .Select(_ => Enumerable.Range(0, ToyCaption.ImageFeatureSize).Select(_ => (float)random.NextDouble()).ToArray())
            .ToArray();
        int[] words = new int[3 * 16];
        int[] lengths = new int[3];
        float[] scores = new float[3];
        long end = Environment.TickCount64 + (seconds * 1000L);
        long captions = 0;
        while (Environment.TickCount64 < end)
        {
            foreach (float[] f in features)
            {
                decoder.DecodeBeam(f, words, lengths, scores);
            }

            captions += features.Length;
        }

        Console.WriteLine($"{captions} captions");
    }

    private static void LoopOf<TModel>(int count, int seconds)
        where TModel : struct, ITokenModel<TModel>
    {
        var models = new TModel[Math.Max(1, count)];
        var tokens = new int[models.Length];
        var outputs = new float[models.Length * TModel.OutputSize];
        long end = Environment.TickCount64 + (seconds * 1000L);
        long steps = 0;
        while (Environment.TickCount64 < end)
        {
            for (int i = 0; i < 1000; i++)
            {
                if (count == 0)
                {
                    models[0].Step(tokens[0], outputs);
                }
                else
                {
                    TModel.Step(models, tokens, outputs);
                }
            }

            steps += 1000;
        }

        Console.WriteLine($"{steps} calls");
    }

    // W 64-byte aligned, as a generated model's weights are by default (EmbeddedWeights.Open copies them): a plain
    // float[] of 1 MB sits 16 bytes past a line, which takes the misaligned tiles (docs/kernels.md, "Batched float32 tiles").
    private static void Product(int rows, int cols, int iterations)
    {
        var random = new Random(1);
        Memory<float> wm = Aligned64(rows * cols);
        Span<float> wFill = wm.Span;
        float[] x = new float[16 * cols];
        float[] y = new float[16 * rows];
        for (int i = 0; i < wFill.Length; i++)
        {
            wFill[i] = (float)random.NextDouble() - 0.5f;
        }

        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)random.NextDouble() - 0.5f;
        }

        double single = Time(() => PackedGemv.Multiply(wm.Span, x.AsSpan(0, cols), y.AsSpan(0, rows), VectorWidth.V512), iterations);
        Console.Write(FormattableString.Invariant($"  {rows}x{cols,-4} single {single,7:F2} ({rows * (double)cols / single / 1000:F0})"));
        foreach (int n in s_counts)
        {
            double t = Time(() => PackedGemv.MultiplyBatch(wm.Span, x.AsSpan(0, n * cols), y.AsSpan(0, n * rows), n, VectorWidth.V512), iterations);
            Console.Write(FormattableString.Invariant($"  b{n} {t,7:F2} ({n * rows * (double)cols / t / 1000:F0})"));
        }

        Console.WriteLine();
    }

    // `length` floats at a 64-byte boundary inside a pinned array (which the GC does not move).
    private static unsafe Memory<float> Aligned64(int length)
    {
        float[] buffer = GC.AllocateArray<float>(length + 16, pinned: true);
        fixed (float* p = buffer)
        {
            int offset = (int)((64 - ((long)p % 64)) % 64) / sizeof(float);
            return buffer.AsMemory(offset, length);
        }
    }

    // The per-model parts of a 16-model LSTM H step outside the products: 16 LSTM cell kernels on (4H) gates, and the
    // copies StepLanes makes per model (a table row of 4H into the gate rows, h into hs and back, H each).
    private static void Breakdown(int hidden, int iterations)
    {
        var gates = new float[16 * 4 * hidden];
        var table = new float[96 * 4 * hidden];
        var c = new float[16 * hidden];
        var h = new float[16 * hidden];
        var hs = new float[16 * hidden];
        var random = new Random(2);
        for (int i = 0; i < gates.Length; i++)
        {
            gates[i] = (float)random.NextDouble() - 0.5f;
        }

        double Cells(VectorWidth width) => Time(() =>
        {
            for (int b = 0; b < 16; b++)
            {
                CellKernels.Lstm(gates.AsSpan(b * 4 * hidden, 4 * hidden), c.AsSpan(b * hidden, hidden), h.AsSpan(b * hidden, hidden), width);
            }
        }, iterations);
        double cells = Cells(VectorWidth.V512);
        double cells256 = Cells(VectorWidth.V256);
        double cells128 = Cells(VectorWidth.V128);
        double copies = Time(() =>
        {
            for (int b = 0; b < 16; b++)
            {
                table.AsSpan(((b * 7) % 96) * 4 * hidden, 4 * hidden).CopyTo(gates.AsSpan(b * 4 * hidden, 4 * hidden));
                h.AsSpan(b * hidden, hidden).CopyTo(hs.AsSpan(b * hidden, hidden));
                hs.AsSpan(b * hidden, hidden).CopyTo(h.AsSpan(b * hidden, hidden));
            }
        }, iterations);
        Console.WriteLine(FormattableString.Invariant(
            $"  16 models, H={hidden}: LSTM cell kernels {cells,7:F2} us (at V256 {cells256:F2}, V128 {cells128:F2}), table-row and state copies {copies,7:F2} us"));
    }

    // The int8-dynamic product (rows a multiple of 16, cols of 4): one input, then n inputs in one batched call, with
    // the ratio of n single products to the batch measured beside it.
    private static void DotProduct(int rows, int cols, int iterations)
    {
        var random = new Random(1);
        var q = new sbyte[rows * cols];
        var scales = new float[rows];
        float[] x = new float[16 * cols];
        float[] y = new float[16 * rows];
        for (int i = 0; i < q.Length; i++)
        {
            q[i] = (sbyte)random.Next(-127, 128);
        }

        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)random.NextDouble() - 0.5f;
        }

        Array.Fill(scales, 0.01f);
        double single = Time(() => PackedGemv.Multiply(new PackedInt8DotMatrix(q, scales), x.AsSpan(0, cols), y.AsSpan(0, rows), VectorWidth.V512), iterations);
        Console.Write(FormattableString.Invariant($"  {rows}x{cols,-4} i8dyn single {single,7:F2} ({rows * (double)cols / single / 1000:F0})"));
        foreach (int n in s_counts)
        {
            double t = Time(() => PackedGemv.MultiplyBatch(new PackedInt8DotMatrix(q, scales), x.AsSpan(0, n * cols), y.AsSpan(0, n * rows), n, VectorWidth.V512), iterations);
            Console.Write(FormattableString.Invariant($"  b{n} {t,7:F2} ({n * rows * (double)cols / t / 1000:F0}) [{n * single / t:F2}x]"));
        }

        Console.WriteLine();
    }

    private static void QuantizedProduct(int rows, int cols, int iterations, bool int8)
    {
        var random = new Random(1);
        var bf16 = new ushort[rows * cols];
        var q = new sbyte[rows * cols];
        var scales = new float[rows];
        float[] x = new float[16 * cols];
        float[] y = new float[16 * rows];
        for (int i = 0; i < q.Length; i++)
        {
            q[i] = (sbyte)random.Next(-127, 128);
            bf16[i] = (ushort)(BitConverter.SingleToInt32Bits((float)random.NextDouble() - 0.5f) >> 16);
        }

        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)random.NextDouble() - 0.5f;
        }

        Array.Fill(scales, 0.01f);
        void Call(int n)
        {
            if (int8)
            {
                PackedGemv.MultiplyBatch(new PackedInt8Matrix(q, scales), x.AsSpan(0, n * cols), y.AsSpan(0, n * rows), n, VectorWidth.V512);
            }
            else
            {
                PackedGemv.MultiplyBatch(bf16, x.AsSpan(0, n * cols), y.AsSpan(0, n * rows), n, VectorWidth.V512);
            }
        }

        Console.Write(FormattableString.Invariant($"  {rows}x{cols,-4} {(int8 ? "int8" : "bf16")}"));
        foreach (int n in s_counts)
        {
            double t = Time(() => Call(n), iterations);
            Console.Write(FormattableString.Invariant($"  b{n} {t,7:F2} ({n * rows * (double)cols / t / 1000:F0})"));
        }

        Console.WriteLine();
    }

    private static void Steps<TModel>(string name, int iterations)
        where TModel : struct, ITokenModel<TModel>
    {
        var models = new TModel[16];
        var tokens = new int[16];
        for (int b = 0; b < tokens.Length; b++)
        {
            tokens[b] = (b * 7) % TModel.InputSize;
        }

        var outputs = new float[16 * TModel.OutputSize];
        Console.Write(FormattableString.Invariant($"  {name,-15} single {Time(() => models[0].Step(tokens[0], outputs), iterations),7:F2}"));
        foreach (int n in s_counts)
        {
            double t = Time(() => TModel.Step(models.AsSpan(0, n), tokens.AsSpan(0, n), outputs), iterations);
            Console.Write(FormattableString.Invariant($"  b{n} {t,7:F2}"));
        }

        Console.WriteLine();
    }

    // Batched calls (beam depths) and models stepped per keystroke's completions and per caption.
    private static void Searches()
    {
        var options = new KeystrokeOptions { MaxCompletions = 3, CompletionBeamWidth = 4, MaxCompletionLength = 16 };
        var engine = new KeystrokeEngine<Counting<KjvChar>>(CharVocabulary.FromModel<KjvChar>(UnknownCharPolicy.Skip), options);
        var chars = new char[3 * engine.CompletionStride];
        var lengths = new int[3];
        var scores = new float[3];
        var depths = new List<(long Calls, long Models)>();
        for (int i = 0; i < Passage.Length; i++)
        {
            if (i % 17 == 16)
            {
                engine.Backspace();
            }
            else
            {
                engine.Type(Passage[i]);
            }

            long c0 = Counting<KjvChar>.Calls, m0 = Counting<KjvChar>.Models;
            engine.Completions(chars, lengths, scores);
            depths.Add((Counting<KjvChar>.Calls - c0, Counting<KjvChar>.Models - m0));
        }

        depths.Sort();
        var histogram = new int[options.MaxCompletionLength + 1];
        foreach ((long calls, _) in depths)
        {
            histogram[calls]++;
        }

        (long Calls, long Models) At(double q) => depths[Math.Min(depths.Count - 1, (int)(q * depths.Count))];
        Console.WriteLine($"keystroke completions (KJV, beam 4): batched calls/models per keystroke p50 {At(0.5)} p90 {At(0.9)} " +
            $"p99 {At(0.99)} max {depths[^1]}; keystrokes by calls 0..: {string.Join(' ', histogram)}");

        var decoder = new CaptionDecoder<CountingCaption<ToyCaption>>(16, 3, 3);
        var random = new Random(12);
        var words = new int[48];
        var features = new float[ToyCaption.ImageFeatureSize];
        const int Images = 30;
        for (int i = 0; i < Images; i++)
        {
            for (int j = 0; j < features.Length; j++)
            {
                features[j] = (float)random.NextDouble();
            }

            decoder.DecodeBeam(features, words, lengths, scores);
        }

        double captionCalls = Counting<ToyCaption>.Calls / (double)Images;
        double models = Counting<ToyCaption>.Models / (double)Images;
        double singles = CountingCaption<ToyCaption>.Singles / (double)Images;
        Console.WriteLine(FormattableString.Invariant(
            $"caption beam-3 (toy shapes): per caption {captionCalls:F1} batched calls, {models:F1} models, {singles:F1} single steps"));
    }

    private static double Time(Action action, int iterations)
    {
        for (int i = 0; i < iterations / 4; i++)
        {
            action();
        }

        var times = new double[5];
        for (int r = 0; r < times.Length; r++)
        {
            long t0 = ThreadClock.Now();
            for (int i = 0; i < iterations; i++)
            {
                action();
            }

            times[r] = (ThreadClock.Now() - t0) / 1000.0 / iterations;
        }

        Array.Sort(times);
        return times[2];
    }
}

/// <summary>A token model that counts its batched calls and the models they step, then steps them with TModel's.</summary>
internal struct Counting<TModel> : ITokenModel<Counting<TModel>>
    where TModel : struct, ITokenModel<TModel>
{
    public static long Calls;
    public static long Models;
    private TModel _model;

    public static int InputSize => TModel.InputSize;

    public static int OutputSize => TModel.OutputSize;

    public static ModelTask Task => TModel.Task;

    public void Reset() => _model.Reset();

    public void Step(int token, Span<float> output) => _model.Step(token, output);

    public static void Step(Span<Counting<TModel>> models, ReadOnlySpan<int> tokens, Span<float> outputs)
    {
        Calls++;
        Models += models.Length;
        TModel.Step(MemoryMarshal.Cast<Counting<TModel>, TModel>(models), tokens, outputs);
    }
}

/// <summary>The caption form of <see cref="Counting{TModel}"/> (its counts go to Counting&lt;TModel&gt;), also counting single steps.</summary>
internal struct CountingCaption<TModel> : ICaptionModel<CountingCaption<TModel>>, IVocabularyModel<CountingCaption<TModel>>
    where TModel : struct, ICaptionModel<TModel>, IVocabularyModel<TModel>
{
    public static long Singles;
    private TModel _model;

    public static int InputSize => TModel.InputSize;

    public static int OutputSize => TModel.OutputSize;

    public static ModelTask Task => TModel.Task;

    public static int ImageFeatureSize => TModel.ImageFeatureSize;

    public static ModelVocabularyKind VocabularyKind => TModel.VocabularyKind;

    public static ReadOnlySpan<char> VocabularyText => TModel.VocabularyText;

    public static ReadOnlySpan<int> VocabularyOffsets => TModel.VocabularyOffsets;

    public static int StartToken => TModel.StartToken;

    public static int StopToken => TModel.StopToken;

    public static int UnknownToken => TModel.UnknownToken;

    public void Reset() => _model.Reset();

    public void Step(int token, Span<float> output)
    {
        Singles++;
        _model.Step(token, output);
    }

    public static void Step(Span<CountingCaption<TModel>> models, ReadOnlySpan<int> tokens, Span<float> outputs)
    {
        Counting<TModel>.Calls++;
        Counting<TModel>.Models += models.Length;
        TModel.Step(MemoryMarshal.Cast<CountingCaption<TModel>, TModel>(models), tokens, outputs);
    }

    public void StepImage(ReadOnlySpan<float> features, Span<float> output)
    {
        Singles++;
        _model.StepImage(features, output);
    }
}
