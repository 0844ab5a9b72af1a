// Streaming text generation with the character LSTM compiled from models/kjv-char-lstm256.safetensors.
//   dotnet run --project samples/iot/TextGenerator -- --prime "And God said" --length 300 --temperature 0.7 --top-p 0.9 --seed 1
// Prints the generated characters as they come, then the generation speed (tokens/s).
using System.Diagnostics;
using System.Globalization;
using RnnEmbedded.Runtime;
using TextGenerator;

string prime = "And God said";
int length = 300;
float temperature = 0.8f, topP = 1f, penalty = 1f;
int topK = 0;
ulong seed = 1;
try
{
    for (int i = 0; i < args.Length; i++)
    {
        string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"option {args[i]} needs a value.");
        switch (args[i])
        {
            case "--prime": prime = value; break;
            case "--length": length = int.Parse(value, CultureInfo.InvariantCulture); break;
            case "--temperature": temperature = float.Parse(value, CultureInfo.InvariantCulture); break;
            case "--top-k": topK = int.Parse(value, CultureInfo.InvariantCulture); break;
            case "--top-p": topP = float.Parse(value, CultureInfo.InvariantCulture); break;
            case "--repetition-penalty": penalty = float.Parse(value, CultureInfo.InvariantCulture); break;
            case "--seed": seed = ulong.Parse(value, CultureInfo.InvariantCulture); break;
            default: throw new ArgumentException($"unknown option {args[i]}; options: --prime --length --temperature --top-k --top-p --repetition-penalty --seed");
        }

        i++;
    }

    if (length < 0)
    {
        throw new ArgumentException("--length must be ≥ 0.");
    }

    if (prime.Length == 0)
    {
        throw new ArgumentException("--prime must not be empty: the model needs at least one character to start from.");
    }

    var vocabulary = CharVocabulary.FromModel<CharModel>(UnknownCharPolicy.Skip);
    var generator = new TextGenerator<CharModel>(new SamplingOptions
    {
        Temperature = temperature,
        TopK = topK,
        TopP = topP,
        RepetitionPenalty = penalty,
        Seed = seed,
    });
    generator.PrimeText(prime, vocabulary);
    Console.Write(prime);

    var sink = new ConsoleSink(vocabulary);
    long t0 = Stopwatch.GetTimestamp();
    int produced = generator.Generate(length, ref sink);
    double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
    sink.Flush();
    Console.WriteLine();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"-- {produced} characters in {seconds * 1000:F1} ms: {produced / Math.Max(seconds, 1e-9):F0} tokens/s (vector width {CharModel.VectorWidth})"));
    return 0;
}
catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or InvalidOperationException or NotSupportedException)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 1;
}

/// <summary>Collects characters in a fixed buffer and writes them a line at a time (a struct: nothing boxes).</summary>
internal struct ConsoleSink : ITokenSink
{
    private readonly CharVocabulary _vocabulary;
    private readonly char[] _buffer;
    private int _count;

    public ConsoleSink(CharVocabulary vocabulary)
    {
        _vocabulary = vocabulary;
        _buffer = new char[256];
        _count = 0;
    }

    public bool OnToken(int token)
    {
        char c = _vocabulary.GetChar(token);
        _buffer[_count++] = c;
        if (c == '\n' || _count == _buffer.Length)
        {
            Flush();
        }

        return true;
    }

    public void Flush()
    {
        Console.Out.Write(_buffer, 0, _count);
        Console.Out.Flush();
        _count = 0;
    }
}
