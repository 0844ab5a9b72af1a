// DateNormalizer: dates written in many human styles → ISO 8601, by a character seq2seq model compiled into the app
// (models/date-seq2seq.safetensors → DateNormalizer.DateModel at build time). Usage in README.md.
using System.Diagnostics;
using System.Globalization;
using DateNormalizer;
using RnnEmbedded.Runtime;

const int MaxLength = 10; // YYYY-MM-DD
var inputs = new List<string>();
string? evaluate = null;
bool beam = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--evaluate" when i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal): evaluate = args[++i]; break;
        case "--evaluate": evaluate = Path.Combine(AppContext.BaseDirectory, "data", "dates.test.tsv"); break;
        case "--beam": beam = true; break;
        case "-h" or "--help":
            Console.WriteLine("usage: DateNormalizer [--beam] [--evaluate [FILE]] [date text ...]");
            return 0;
        case ['-', '-', ..]:
            Console.Error.WriteLine($"error: unknown option '{args[i]}' (usage: --help)");
            return 1;
        default: inputs.Add(args[i]); break;
    }
}

if (inputs.Count == 0 && evaluate is null)
{
    inputs.AddRange(new[] { "3rd of March 1999", "March 3, '99", "Wednesday, March 3, 1999", "3.3.1999", "the 21st of June, 2031", "Dec. 7, '41" });
}

var source = new CharVocabulary(DateModel.SourceVocabularyText, DateModel.SourceVocabularyOffsets, UnknownCharPolicy.Skip);
var decoder = new Seq2SeqDecoder<DateModel>(MaxLength, beamWidth: 3, maxResults: 1);
int[] ids = new int[256];
int[] target = new int[MaxLength];
int[] lengths = new int[1];
float[] scores = new float[1];
char[] text = new char[MaxLength];

Console.WriteLine($"model: {DateModel.SourceInputSize} source characters → {DateModel.OutputSize} target characters, vector width {DateModel.VectorWidth}");
foreach (string input in inputs)
{
    Console.WriteLine($"{input,-32} → {Normalize(input, beam).ToString()}");
}

if (evaluate is not null)
{
    int examples = 0, exact = 0, correctChars = 0, totalChars = 0;
    var times = new List<double>();
    long allocated = 0;
    int gcs = GC.CollectionCount(0);
    foreach (string line in File.ReadLines(evaluate))
    {
        string[] parts = line.Split('\t');
        if (parts.Length != 2)
        {
            Console.Error.WriteLine($"{evaluate}: line {examples + 1}: expected 'source<TAB>target'");
            return 2;
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        ReadOnlySpan<char> result = Normalize(parts[0], beam);
        double us = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        allocated += examples == 0 ? 0 : GC.GetAllocatedBytesForCurrentThread() - before; // the first call warms up
        times.Add(us);
        examples++;
        exact += result.SequenceEqual(parts[1]) ? 1 : 0;
        for (int k = 0; k < parts[1].Length; k++)
        {
            correctChars += k < result.Length && result[k] == parts[1][k] ? 1 : 0;
        }

        totalChars += parts[1].Length;
    }

    times.Sort();
    double p50 = times[times.Count / 2], p99 = times[(int)(times.Count * 0.99)];
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"evaluate: {examples} held-out dates ({(beam ? "beam 3" : "greedy")}): exact match {100.0 * exact / examples:F2}% token accuracy {100.0 * correctChars / totalChars:F2}%"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"summary: decodes {examples} p50_us {p50:F1} p99_us {p99:F1} gc_collections {GC.CollectionCount(0) - gcs} steady_state_bytes_allocated {allocated}"));
}

return 0;

ReadOnlySpan<char> Normalize(string input, bool useBeam)
{
    int n = source.Encode(input.AsSpan(0, Math.Min(input.Length, ids.Length)), ids);
    int length = useBeam
        ? (decoder.DecodeBeam(ids.AsSpan(0, n), target, lengths, scores) > 0 ? lengths[0] : 0)
        : decoder.DecodeGreedy(ids.AsSpan(0, n), target);
    ReadOnlySpan<char> vocabulary = DateModel.VocabularyText;
    ReadOnlySpan<int> offsets = DateModel.VocabularyOffsets;
    for (int k = 0; k < length; k++)
    {
        text[k] = vocabulary[offsets[target[k]]]; // every target token is one character
    }

    return text.AsSpan(0, length);
}
