// The package consumer that tests/package/run.sh builds from the local feed (JIT, then NativeAOT): it runs the model
// the RnnEmbedded package generated from tests/fixtures/lstm_1layer.safetensors over the fixture's tokens and
// compares every output with PyTorch's (lstm_1layer.expected.txt, format in docs/model-format.md).
// Prints one line per step, then a summary: the largest difference, GC collections, and the bytes the steps allocated
// on a first pass (one-time initialization) and on a second, steady-state pass.
using System.Globalization;

const float Tolerance = 1e-5f;
string expectedPath = args.Length == 1 ? args[0] : throw new ArgumentException("usage: Consumer <fixture>.expected.txt");

int[] tokens = [];
var expected = new List<float[]>();
foreach (string raw in File.ReadAllLines(expectedPath))
{
    string line = raw.Trim();
    string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    if (fields.Length == 0 || line.StartsWith('#'))
    {
        continue;
    }

    if (fields[0] == "tokens")
    {
        tokens = Array.ConvertAll(fields[1..], s => int.Parse(s, CultureInfo.InvariantCulture));
    }
    else if (fields[0] == "output")
    {
        expected.Add(Array.ConvertAll(fields[1..], s => float.Parse(s, CultureInfo.InvariantCulture)));
    }
}

if (tokens.Length == 0 || tokens.Length != expected.Count)
{
    Console.Error.WriteLine($"{expectedPath}: {tokens.Length} tokens but {expected.Count} output lines");
    return 2;
}

float[] outputs = new float[tokens.Length * Consumer.Lstm1Layer.OutputSize];
int gcBefore = GC.CollectionCount(0) + GC.CollectionCount(1) + GC.CollectionCount(2);
long firstBytes = RunSequence(tokens, outputs);  // the first pass pays one-time initialization
long bytes = RunSequence(tokens, outputs);       // the steady state: what every later step costs
int gcs = GC.CollectionCount(0) + GC.CollectionCount(1) + GC.CollectionCount(2) - gcBefore;

float maxDiff = 0;
for (int t = 0; t < tokens.Length; t++)
{
    ReadOnlySpan<float> got = outputs.AsSpan(t * Consumer.Lstm1Layer.OutputSize, Consumer.Lstm1Layer.OutputSize);
    if (expected[t].Length != got.Length)
    {
        Console.Error.WriteLine($"step {t}: the model gives {got.Length} outputs, PyTorch {expected[t].Length}");
        return 1;
    }

    for (int i = 0; i < got.Length; i++)
    {
        maxDiff = MathF.Max(maxDiff, MathF.Abs(got[i] - expected[t][i]));
    }

    Console.WriteLine($"step {t} token {tokens[t]}: {string.Join(' ', got.ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}");
}

Console.WriteLine($"summary: steps {tokens.Length} max_abs_diff {maxDiff.ToString("G3", CultureInfo.InvariantCulture)} " +
    $"gc_collections {gcs} first_pass_bytes_allocated {firstBytes} steady_state_bytes_allocated {bytes}");
if (maxDiff > Tolerance)
{
    Console.Error.WriteLine($"outputs differ from PyTorch's by {maxDiff} > {Tolerance}");
    return 1;
}

return 0;

// Steps a zero-state model through the tokens into outputs; returns the bytes this thread allocated meanwhile.
static long RunSequence(int[] tokens, float[] outputs)
{
    long before = GC.GetAllocatedBytesForCurrentThread();
    var model = new Consumer.Lstm1Layer();
    for (int t = 0; t < tokens.Length; t++)
    {
        model.Step(tokens[t], outputs.AsSpan(t * Consumer.Lstm1Layer.OutputSize, Consumer.Lstm1Layer.OutputSize));
    }

    return GC.GetAllocatedBytesForCurrentThread() - before;
}
