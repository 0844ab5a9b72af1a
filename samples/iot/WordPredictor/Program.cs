// Next-word prediction and sentence completion with a word-level LSTM language model compiled from
// models/kjv-word-lstm256.safetensors at build time (the lecture's encoding: the 1,000 most frequent words of the
// King James Bible + <start> + <stop> + <unk>; docs/training.md).
//   dotnet run --project samples/iot/WordPredictor -- --next "in the beginning god"   top-5 next words after each word
//   dotnet run --project samples/iot/WordPredictor -- --complete "a stitch in time"   sentence completions (beam search)
//   dotnet run --project samples/iot/WordPredictor -- --evaluate kjv.txt             perplexity on the held-out lines
//   dotnet run --project samples/iot/WordPredictor                                   interactive: one sentence start a line
using System.Globalization;
using System.Text;
using RnnEmbedded.Runtime;
using WordPredictor;

const int TopCount = 5;

try
{
    WordVocabulary vocabulary = WordVocabulary.FromModel<WordModel>();
    if (args.Length == 2 && args[0] == "--next")
    {
        return Next(vocabulary, args[1]);
    }

    if (args.Length == 2 && args[0] == "--complete")
    {
        Complete(vocabulary, args[1]);
        return 0;
    }

    if (args.Length == 2 && args[0] == "--evaluate")
    {
        return Evaluate(vocabulary, args[1]);
    }

    if (args.Length > 0)
    {
        Console.Error.WriteLine("usage: WordPredictor [--next TEXT | --complete TEXT | --evaluate FILE]");
        return 2;
    }

    Console.WriteLine("Type the start of a sentence and Enter (empty line quits).");
    while (Console.ReadLine() is { Length: > 0 } line)
    {
        Next(vocabulary, line);
        Complete(vocabulary, line);
    }

    return 0;
}
catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 1;
}

// One word: step the model on it and pick the k most probable next words. The unit the allocation figure measures.
static void Step(ref WordModel model, int id, Span<float> probabilities, Span<int> top)
{
    model.Step(id, probabilities);
    Softmax.Apply(probabilities, probabilities);
    SelectTop(probabilities, top);
}

// top = the indices of the largest probabilities, best first (insertion into a short sorted list).
static void SelectTop(ReadOnlySpan<float> p, Span<int> top)
{
    int filled = 0;
    for (int i = 0; i < p.Length; i++)
    {
        if (filled == top.Length && p[i] <= p[top[^1]])
        {
            continue;
        }

        int at = Math.Min(filled, top.Length - 1);
        while (at > 0 && p[top[at - 1]] < p[i])
        {
            top[at] = top[at - 1];
            at--;
        }

        top[at] = i;
        filled = Math.Min(filled + 1, top.Length);
    }
}

static int Next(WordVocabulary vocabulary, string text)
{
    Span<int> ids = stackalloc int[vocabulary.GetEncodedLength(text)];
    int n = vocabulary.Encode(text, ids) - 1; // <start> and the words, not <stop>
    Span<float> p = stackalloc float[WordModel.OutputSize];
    Span<int> top = stackalloc int[TopCount];

    // Warm-up pass (first-call work), then the measured pass.
    var model = default(WordModel);
    for (int i = 0; i < n; i++)
    {
        Step(ref model, ids[i], p, top);
    }

    model = default;
    long allocated = 0;
    for (int i = 0; i < n; i++)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        Step(ref model, ids[i], p, top);
        allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"{vocabulary.GetWord(ids[i]).ToString(),-14} →");
        foreach (int k in top)
        {
            line.Append(CultureInfo.InvariantCulture, $"  {vocabulary.GetWord(k).ToString()} {p[k] * 100:F1}%");
        }

        Console.WriteLine(line.ToString());
    }

    Console.WriteLine($"summary: words {n} bytes_allocated_per_word {allocated / Math.Max(1, n)}");
    return 0;
}

static void Complete(WordVocabulary vocabulary, string text)
{
    Span<int> ids = stackalloc int[vocabulary.GetEncodedLength(text)];
    int n = vocabulary.Encode(text, ids) - 1;
    var search = new BeamSearch<WordModel>(beamWidth: 8, maxLength: 16, maxResults: 3) { LengthPenalty = 0.3f };
    search.SetStopToken(vocabulary.StopToken);
    var logits = new float[WordModel.OutputSize];
    var model = default(WordModel);
    for (int i = 0; i < n; i++)
    {
        model.Step(ids[i], logits);
    }

    var tokens = new int[3 * search.MaxLength];
    var lengths = new int[3];
    var scores = new float[3];
    int found = search.Search(model, logits, tokens, lengths, scores);
    var prompt = new StringBuilder();
    for (int i = 1; i < n; i++)
    {
        prompt.Append(vocabulary.GetWord(ids[i])).Append(' ');
    }

    for (int r = 0; r < found; r++)
    {
        var line = new StringBuilder(prompt.ToString()).Append("→");
        foreach (int id in tokens.AsSpan(r * search.MaxLength, lengths[r]))
        {
            line.Append(' ').Append(vocabulary.GetWord(id));
        }

        Console.WriteLine(line.Append(CultureInfo.InvariantCulture, $"   (score {scores[r]:F3})").ToString());
    }
}

// Perplexity over the last 10% of the file's non-blank lines (the split `rnn train --task word` holds out), each
// line <start> words <stop> from the zero state, every word and <stop> predicted (<unk> is a token like any).
static int Evaluate(WordVocabulary vocabulary, string path)
{
    var lines = File.ReadLines(path).Where(l => WordTokenizer.Count(l) > 0).ToList();
    int held = Math.Max(1, (int)(lines.Count * 0.1));
    Span<float> logits = stackalloc float[WordModel.OutputSize];
    double total = 0;
    long count = 0, unknown = 0;
    var ids = new int[256];
    foreach (string line in lines.Skip(lines.Count - held))
    {
        int length = vocabulary.GetEncodedLength(line);
        if (ids.Length < length)
        {
            ids = new int[length * 2];
        }

        int n = vocabulary.Encode(line, ids);
        var model = default(WordModel);
        EvaluationResult r = Evaluation.Evaluate(ref model, ids.AsSpan(0, n), logits);
        total += r.MeanCrossEntropy * r.Count;
        count += r.Count;
        unknown += ids.AsSpan(1, n - 1).Count(vocabulary.UnknownToken);
    }

    double mean = total / Math.Max(1, count);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"held-out: {held} lines, {count} predicted tokens ({unknown / (double)Math.Max(1, count):P1} <unk>): {mean:F4} nats/token, perplexity {Math.Exp(mean):F2}"));
    return 0;
}
