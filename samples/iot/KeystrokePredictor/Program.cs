// Keystroke prediction with a character LSTM compiled from models/kjv-char-lstm256.safetensors at build time.
//   dotnet run --project samples/iot/KeystrokePredictor                 interactive: type; Tab accepts; Esc quits
//   dotnet run --project samples/iot/KeystrokePredictor -- --replay "In the beginning God"
//        types the text keystroke by keystroke ("\b" = backspace, "\t" = accept the top completion) and prints,
//        per keystroke, the next-character predictions, the word completions and the update latency, then a
//        summary: p50/p99 latency, GC collections and bytes allocated in the steady state.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using KeystrokePredictor;
using RnnEmbedded.Runtime;

const int TopChars = 3;
const int TopCompletions = 3;

try
{
    var options = new KeystrokeOptions { MaxCompletions = TopCompletions, MaxCompletionLength = 16, CompletionBeamWidth = 4 };
    var engine = new KeystrokeEngine<CharModel>(CharVocabulary.FromModel<CharModel>(UnknownCharPolicy.Skip), options);

    if (args.Length == 2 && args[0] == "--replay")
    {
        return Replay(engine, Unescape(args[1]));
    }

    if (args.Length > 0)
    {
        Console.Error.WriteLine("usage: KeystrokePredictor [--replay \"text to type\"]   (in the text, \\b = backspace, \\t = accept completion)");
        return 2;
    }

    if (Console.IsInputRedirected || Console.IsOutputRedirected)
    {
        Console.Error.WriteLine("error: interactive mode needs a terminal; use --replay \"text\" for scripted input.");
        return 2;
    }

    Interactive(engine);
    return 0;
}
catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 1;
}

// One keystroke's work, the unit the latency figures measure: the model step (or the backspace restore),
// the next-character distribution and the top word completions.
static int Update(KeystrokeEngine<CharModel> engine, char key, Span<char> nextChars, Span<float> nextProbs,
                  Span<char> completionChars, Span<int> completionLengths, Span<float> completionScores)
{
    if (key == '\b')
    {
        engine.Backspace();
    }
    else if (key == '\t')
    {
        // Accept the best completion of the current word (computed from the state before the Tab).
        int found = engine.Completions(completionChars, completionLengths, completionScores);
        if (found > 0)
        {
            engine.Type(completionChars[..completionLengths[0]]);
        }
    }
    else
    {
        engine.Type(key);
    }

    return Predict(engine, nextChars, nextProbs, completionChars, completionLengths, completionScores);
}

static int Predict(KeystrokeEngine<CharModel> engine, Span<char> nextChars, Span<float> nextProbs,
                   Span<char> completionChars, Span<int> completionLengths, Span<float> completionScores)
{
    engine.TopNextChars(nextChars, nextProbs);
    return engine.Completions(completionChars, completionLengths, completionScores);
}

static int Replay(KeystrokeEngine<CharModel> engine, string keys)
{
    int n = keys.Length;
    int stride = engine.CompletionStride;
    // Everything the loop writes is allocated up front; the loop itself must allocate nothing.
    var nextChars = new char[n * TopChars];
    var nextProbs = new float[n * TopChars];
    var completionChars = new char[n * TopCompletions * stride];
    var completionLengths = new int[n * TopCompletions];
    var completionScores = new float[n * TopCompletions];
    var found = new int[n];
    var ticks = new long[n];
    const int WarmUp = 2;
    long allocatedBefore = 0;
    int gcBefore = GC.CollectionCount(0) + GC.CollectionCount(1) + GC.CollectionCount(2);

    for (int i = 0; i < n; i++)
    {
        if (i == WarmUp)
        {
            allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        }

        long t0 = Stopwatch.GetTimestamp();
        found[i] = Update(engine, keys[i],
            nextChars.AsSpan(i * TopChars, TopChars), nextProbs.AsSpan(i * TopChars, TopChars),
            completionChars.AsSpan(i * TopCompletions * stride, TopCompletions * stride),
            completionLengths.AsSpan(i * TopCompletions, TopCompletions), completionScores.AsSpan(i * TopCompletions, TopCompletions));
        ticks[i] = Stopwatch.GetTimestamp() - t0;
    }

    long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
    int collections = GC.CollectionCount(0) + GC.CollectionCount(1) + GC.CollectionCount(2) - gcBefore;

    var sb = new StringBuilder();
    sb.AppendLine($"model: {CharModel.InputSize} characters, vector width {CharModel.VectorWidth}");
    sb.AppendLine("  #  key   update_us  next characters             completions");
    for (int i = 0; i < n; i++)
    {
        sb.Append(CultureInfo.InvariantCulture, $"{i + 1,3}  {Show(keys[i]),-4} {Micros(ticks[i]),9:F1}  ");
        var next = new StringBuilder();
        for (int k = 0; k < TopChars; k++)
        {
            next.Append(CultureInfo.InvariantCulture, $"{Show(nextChars[i * TopChars + k])} {nextProbs[i * TopChars + k]:F2}  ");
        }

        sb.Append(next.ToString().PadRight(28));
        for (int r = 0; r < found[i]; r++)
        {
            int at = (i * TopCompletions + r) * stride;
            sb.Append(r == 0 ? "" : " | ").Append(completionChars.AsSpan(at, completionLengths[i * TopCompletions + r]));
        }

        sb.AppendLine();
    }

    // Latency percentiles over the steady state (after the warm-up keystrokes, which include JIT compilation
    // under `dotnet run`); the first keystroke is reported on its own.
    var sorted = ticks.Skip(n > WarmUp ? WarmUp : 0).Select(Micros).OrderBy(x => x).ToArray();
    char[] text = new char[engine.TextLength];
    engine.CopyText(text);
    sb.AppendLine($"text: {new string(text)}");
    // The first WarmUp keystrokes run one-time initialization; with no keystroke after them there is no steady state.
    string steady = n > WarmUp ? allocated.ToString(CultureInfo.InvariantCulture) : $"n/a (needs more than {WarmUp} keystrokes)";
    sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
        $"summary: keystrokes {n}  first {Micros(ticks.FirstOrDefault()):F1} us  p50 {Percentile(sorted, 0.50):F1} us  p99 {Percentile(sorted, 0.99):F1} us  max {sorted.LastOrDefault():F1} us  gc_collections {collections}  steady_state_bytes_allocated {steady}"));
    Console.Write(sb.ToString());
    return 0;
}

static void Interactive(KeystrokeEngine<CharModel> engine)
{
    int stride = engine.CompletionStride;
    Span<char> nextChars = stackalloc char[TopChars];
    Span<float> nextProbs = stackalloc float[TopChars];
    Span<char> completionChars = stackalloc char[TopCompletions * stride];
    Span<int> completionLengths = stackalloc int[TopCompletions];
    Span<float> completionScores = stackalloc float[TopCompletions];
    char[] text = new char[4096];

    bool treatCtrlC = Console.TreatControlCAsInput;
    Console.TreatControlCAsInput = true;
    Console.WriteLine("Type. Tab accepts the first completion, Backspace deletes, Esc or Ctrl-C quits.\n\n\n");
    try
    {
        int found = Predict(engine, nextChars, nextProbs, completionChars, completionLengths, completionScores);
        double micros = 0;
        while (true)
        {
            int length = engine.CopyText(text);
            var line = new StringBuilder();
            line.Append("\x1b[3A");
            line.Append("\r\x1b[2K> ").Append(text.AsSpan(Math.Max(0, length - 70), Math.Min(length, 70))).Append('\n');
            line.Append("\r\x1b[2K  next: ");
            for (int k = 0; k < TopChars; k++)
            {
                line.Append(CultureInfo.InvariantCulture, $"{Show(nextChars[k])} {nextProbs[k] * 100,3:F0}%   ");
            }

            line.Append('\n').Append("\r\x1b[2K  words: ");
            for (int r = 0; r < found; r++)
            {
                line.Append(r == 0 ? "" : " | ").Append(completionChars.Slice(r * stride, completionLengths[r]));
            }

            line.Append(CultureInfo.InvariantCulture, $"   ({micros:F0} us)\n");
            Console.Write(line.ToString());

            ConsoleKeyInfo key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Escape || (key.Key == ConsoleKey.C && key.Modifiers.HasFlag(ConsoleModifiers.Control)))
            {
                break;
            }

            char c = key.Key switch
            {
                ConsoleKey.Backspace => '\b',
                ConsoleKey.Tab => '\t',
                ConsoleKey.Enter => '\n',
                _ => key.KeyChar,
            };
            if (c == '\0' || (char.IsControl(c) && c is not ('\b' or '\t' or '\n')))
            {
                continue;
            }

            long t0 = Stopwatch.GetTimestamp();
            found = Update(engine, c, nextChars, nextProbs, completionChars, completionLengths, completionScores);
            micros = Micros(Stopwatch.GetTimestamp() - t0);
        }
    }
    finally
    {
        Console.TreatControlCAsInput = treatCtrlC;
        Console.WriteLine();
    }
}

static double Micros(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;

static double Percentile(double[] sorted, double p) =>
    sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

static string Show(char c) => c switch
{
    ' ' => "' '",
    '\n' => "\\n",
    '\b' => "\\b",
    '\t' => "\\t",
    _ => c.ToString(),
};

static string Unescape(string s) => s.Replace("\\b", "\b").Replace("\\t", "\t").Replace("\\n", "\n");
