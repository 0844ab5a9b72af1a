// Language identification of single words with a character LSTM classifier compiled from models/langid.safetensors
// at build time (rnn train --task classify on Debian's word lists, see README.md).
//   dotnet run --project samples/iot/LanguageId                       interactive: type a word, see the languages update
//   dotnet run --project samples/iot/LanguageId -- --word straße      per keystroke: the top languages, then all of them
//   dotnet run --project samples/iot/LanguageId -- --evaluate FILE    accuracy and confusion matrix on "word<TAB>language" lines
using System.Globalization;
using System.Text;
using LanguageId;
using RnnEmbedded.Runtime;

try
{
    var vocabulary = CharVocabulary.FromModel<LanguageModel>(UnknownCharPolicy.Skip);
    if (args.Length == 2 && args[0] == "--word")
    {
        return Word(vocabulary, args[1]);
    }

    if (args.Length == 2 && args[0] == "--evaluate")
    {
        return Evaluate(vocabulary, args[1]);
    }

    if (args.Length > 0)
    {
        Console.Error.WriteLine("usage: LanguageId [--word WORD | --evaluate FILE.tsv]");
        return 2;
    }

    if (Console.IsInputRedirected || Console.IsOutputRedirected)
    {
        Console.Error.WriteLine("error: interactive mode needs a terminal; use --word WORD for scripted input.");
        return 2;
    }

    Interactive(vocabulary);
    return 0;
}
catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 1;
}

// One keystroke: lower-case it as the training words were, step the classifier on it (characters the model never saw
// are skipped) and read the language probabilities. Returns whether the model stepped.
static bool Type(CharVocabulary vocabulary, ref LanguageModel model, char key, Span<float> probabilities)
{
    if (!vocabulary.TryGetId(char.ToLowerInvariant(key), out int id))
    {
        return false;
    }

    SequenceClassifier.Step(ref model, id, probabilities);
    return true;
}

static int Word(CharVocabulary vocabulary, string word)
{
    int labels = SequenceClassifier.LabelCount<LanguageModel>();
    Span<float> p = stackalloc float[labels];
    Span<int> order = stackalloc int[labels];
    // Warm-up pass (first-call work: JIT, static data), so the measured pass shows the steady state.
    var model = default(LanguageModel);
    foreach (char c in word)
    {
        Type(vocabulary, ref model, c, p);
    }

    model = default;
    Console.WriteLine($"model: {LanguageModel.InputSize} characters → {labels} languages");
    bool any = false;
    long allocated = 0;
    for (int i = 0; i < word.Length; i++)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        bool stepped = Type(vocabulary, ref model, word[i], p);
        allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        any |= stepped;
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"{word[..(i + 1)],-22}");
        if (!stepped)
        {
            line.Append("(unknown character, skipped)");
        }
        else
        {
            Rank(p, order);
            for (int r = 0; r < Math.Min(3, labels); r++)
            {
                line.Append(CultureInfo.InvariantCulture, $"  {SequenceClassifier.GetLabel<LanguageModel>(order[r])} {p[order[r]] * 100,5:F1}%");
            }
        }

        Console.WriteLine(line.ToString());
    }

    if (!any)
    {
        Console.Error.WriteLine("error: no character of the word is in the model's vocabulary");
        return 1;
    }

    Rank(p, order);
    var all = new StringBuilder("languages:");
    foreach (int k in order)
    {
        all.Append(CultureInfo.InvariantCulture, $" {SequenceClassifier.GetLabel<LanguageModel>(k)} {p[k] * 100:F1}%");
    }

    Console.WriteLine(all.ToString());
    Console.WriteLine($"answer: {SequenceClassifier.GetLabel<LanguageModel>(order[0])}");
    Console.WriteLine($"summary: keystrokes {word.Length} bytes_allocated_per_keystroke {allocated / Math.Max(1, word.Length)}");
    return 0;
}

static int Evaluate(CharVocabulary vocabulary, string path)
{
    int labels = SequenceClassifier.LabelCount<LanguageModel>();
    var confusion = new long[labels, labels];
    Span<float> p = stackalloc float[labels];
    int lineNumber = 0, skipped = 0;
    foreach (string line in File.ReadLines(path))
    {
        lineNumber++;
        if (line.Trim().Length == 0)
        {
            continue;
        }

        int tab = line.IndexOf('\t');
        if (tab < 0)
        {
            throw new InvalidOperationException($"{path}:{lineNumber}: a line is 'word<TAB>language'; no tab found");
        }

        string name = line[(tab + 1)..].Trim();
        int truth = SequenceClassifier.IndexOfLabel<LanguageModel>(name);
        if (truth < 0)
        {
            throw new InvalidOperationException($"{path}:{lineNumber}: '{name}' is not one of the model's languages");
        }

        var model = default(LanguageModel);
        bool any = false;
        foreach (char c in line.AsSpan(0, tab))
        {
            any |= Type(vocabulary, ref model, c, p);
        }

        if (!any)
        {
            skipped++;
            continue;
        }

        confusion[truth, Softmax.ArgMax(p)]++;
    }

    long total = 0, correct = 0;
    var table = new StringBuilder("true \\ predicted");
    for (int k = 0; k < labels; k++)
    {
        table.Append(CultureInfo.InvariantCulture, $"{SequenceClassifier.GetLabel<LanguageModel>(k).ToString(),7}");
    }

    table.Append("   recall\n");
    for (int t = 0; t < labels; t++)
    {
        long row = 0;
        table.Append(CultureInfo.InvariantCulture, $"{SequenceClassifier.GetLabel<LanguageModel>(t).ToString(),-16}");
        for (int k = 0; k < labels; k++)
        {
            row += confusion[t, k];
            table.Append(CultureInfo.InvariantCulture, $"{confusion[t, k],7}");
        }

        total += row;
        correct += confusion[t, t];
        table.Append(CultureInfo.InvariantCulture, $"   {(row == 0 ? double.NaN : confusion[t, t] / (double)row),6:P1}\n");
    }

    Console.Write(table.ToString());
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"accuracy: {(total == 0 ? double.NaN : correct / (double)total):P2} ({correct}/{total} words, {skipped} without a known character)"));
    return 0;
}

static void Interactive(CharVocabulary vocabulary)
{
    int labels = SequenceClassifier.LabelCount<LanguageModel>();
    Span<float> p = stackalloc float[labels];
    Span<int> order = stackalloc int[labels];
    var word = new StringBuilder();
    var model = default(LanguageModel);
    bool treatCtrlC = Console.TreatControlCAsInput;
    Console.TreatControlCAsInput = true;
    Console.WriteLine("Type a word; Backspace deletes, Space or Enter starts a new word, Esc or Ctrl-C quits.\n");
    for (int k = 0; k <= labels; k++)
    {
        Console.WriteLine();
    }

    try
    {
        p.Fill(1f / labels);
        while (true)
        {
            Rank(p, order);
            var screen = new StringBuilder();
            screen.Append(CultureInfo.InvariantCulture, $"\x1b[{labels + 1}A");
            screen.Append("\r\x1b[2K> ").Append(word).Append('\n');
            foreach (int k in order)
            {
                int bar = (int)Math.Round(p[k] * 40);
                screen.Append("\r\x1b[2K  ").Append(SequenceClassifier.GetLabel<LanguageModel>(k)).Append(' ')
                    .Append(CultureInfo.InvariantCulture, $"{p[k] * 100,5:F1}% ").Append('#', bar).Append('\n');
            }

            Console.Write(screen.ToString());
            ConsoleKeyInfo key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Escape || (key.Key == ConsoleKey.C && key.Modifiers.HasFlag(ConsoleModifiers.Control)))
            {
                break;
            }

            if (key.Key is ConsoleKey.Spacebar or ConsoleKey.Enter || key.Key == ConsoleKey.Backspace)
            {
                // A new word, or the word minus its last character replayed from the zero state (a word is short).
                if (key.Key == ConsoleKey.Backspace && word.Length > 0)
                {
                    word.Length--;
                }
                else
                {
                    word.Clear();
                }

                model = default;
                p.Fill(1f / labels);
                for (int i = 0; i < word.Length; i++)
                {
                    Type(vocabulary, ref model, word[i], p);
                }

                continue;
            }

            if (char.IsLetter(key.KeyChar) && Type(vocabulary, ref model, key.KeyChar, p))
            {
                word.Append(key.KeyChar);
            }
        }
    }
    finally
    {
        Console.TreatControlCAsInput = treatCtrlC;
        Console.WriteLine();
    }
}

// order = label indices by descending probability (insertion sort: a handful of labels).
static void Rank(ReadOnlySpan<float> p, Span<int> order)
{
    for (int i = 0; i < order.Length; i++)
    {
        int k = i;
        while (k > 0 && p[order[k - 1]] < p[i])
        {
            order[k] = order[k - 1];
            k--;
        }

        order[k] = i;
    }
}
