// CaptionDecoder: captions for images of coloured shapes, decoded by an LSTM compiled into the binary at build time
// (<RnnModel Include="models/caption.safetensors" ClassName="CaptionDecoder.CaptionModel" />).
//
//   CaptionDecoder IMAGE.png|IMAGE.ppm ...      greedy and beam-search captions for each image
//   CaptionDecoder FEATURES.txt                 one "f1 ... fF[<TAB>reference]" line per image (the trainer's format)
//   CaptionDecoder --evaluate [--count 1000]    held-out scenes (seed 3): BLEU-4 and exact match, greedy and beam
//   CaptionDecoder                              a few generated scenes with their true and decoded captions
// Options: --beam N (beam width, default 3), --count N, --seed S.
using System.Diagnostics;
using System.Globalization;
using RnnEmbedded.Runtime;
using SceneKit;
using Decoder = RnnEmbedded.Runtime.CaptionDecoder<CaptionDecoder.CaptionModel>;
using Model = CaptionDecoder.CaptionModel;


try
{
    return Run(args);
}
catch (Exception e) when (e is ArgumentException or IOException or ImageFormatException or FormatException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

static int Run(string[] args)
{
    int beam = 3, count = -1;
    ulong seed = DatasetSeeds.Test;
    bool evaluate = false;
    var paths = new List<string>();
    for (int i = 0; i < args.Length; i++)
    {
        switch (args[i])
        {
            case "-h" or "--help":
                Console.WriteLine("usage: CaptionDecoder [IMAGE.png|IMAGE.ppm|FEATURES.txt ...] [--evaluate] [--count N] [--seed S] [--beam N]");
                return 0;
            case "--evaluate":
                evaluate = true;
                break;
            case "--beam":
                beam = ParseInt(args, ref i, 1, 64);
                break;
            case "--count":
                count = ParseInt(args, ref i, 1, 1_000_000);
                break;
            case "--seed":
                seed = (ulong)ParseInt(args, ref i, 0, int.MaxValue);
                break;
            default:
                if (args[i].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new ArgumentException($"unknown option '{args[i]}' (see --help)");
                }

                paths.Add(args[i]);
                break;
        }
    }

    var captioner = new Captioner(beam);
    Console.WriteLine($"model: {Model.ImageFeatureSize} features -> {Model.OutputSize} words, vector path {Model.VectorWidth}; beam width {beam}");
    if (evaluate)
    {
        return Evaluate(captioner, count < 0 ? 1000 : count, seed);
    }

    if (paths.Count == 0)
    {
        return Demo(captioner, count < 0 ? 5 : count, seed);
    }

    foreach (string path in paths)
    {
        if (ImageFile.LooksLikeImage(path))
        {
            RgbImage image = ImageFile.Read(path);
            Console.WriteLine($"{path} ({image.Width}x{image.Height})");
            captioner.Print(FeatureExtractor.Extract(image), reference: null);
        }
        else
        {
            CaptionFeatureFile(captioner, path);
        }
    }

    return 0;
}

static int Demo(Captioner captioner, int count, ulong seed)
{
    var generator = new SceneGenerator(seed);
    for (int i = 0; i < count; i++)
    {
        Scene scene = generator.Next();
        Console.WriteLine($"scene {i} (seed {seed})");
        captioner.Print(FeatureExtractor.Extract(SceneRenderer.Render(scene)), scene.Caption);
    }

    return 0;
}

static void CaptionFeatureFile(Captioner captioner, string path)
{
    var greedy = new List<string>();
    var beam = new List<string>();
    var references = new List<string>();
    int lineNumber = 0;
    foreach (string line in File.ReadLines(path))
    {
        lineNumber++;
        if (line.Trim().Length == 0)
        {
            continue;
        }

        (float[] features, string? reference) = CaptionDataset.ParseLine(line, path, lineNumber);
        if (features.Length != Model.ImageFeatureSize)
        {
            throw new FormatException($"{path}:{lineNumber}: {features.Length} features; the model takes {Model.ImageFeatureSize}");
        }

        Console.WriteLine($"{path}:{lineNumber}");
        (string g, string b) = captioner.Print(features, reference);
        if (!string.IsNullOrEmpty(reference))
        {
            greedy.Add(g);
            beam.Add(b);
            references.Add(reference);
        }
    }

    if (references.Count > 0)
    {
        Console.WriteLine($"{references.Count} lines with a reference caption:");
        PrintScore("greedy", Bleu.Score(greedy, references));
        PrintScore($"beam {captioner.BeamWidth}", Bleu.Score(beam, references));
    }
}

static int Evaluate(Captioner captioner, int count, ulong seed)
{
    Console.WriteLine($"held-out scenes: {count} from seed {seed} (training used seeds {DatasetSeeds.Train} and {DatasetSeeds.Validation})");
    var generator = new SceneGenerator(seed);
    var references = new List<string>(count);
    var features = new List<float[]>(count);
    for (int i = 0; i < count; i++)
    {
        Scene scene = generator.Next();
        references.Add(scene.Caption);
        features.Add(FeatureExtractor.Extract(SceneRenderer.Render(scene)));
    }

    var greedy = new List<string>(count);
    var beam = new List<string>(count);
    long greedyTicks = 0, beamTicks = 0;
    for (int i = 0; i < count; i++)
    {
        long t0 = Stopwatch.GetTimestamp();
        string g = captioner.Greedy(features[i]);
        long t1 = Stopwatch.GetTimestamp();
        string b = captioner.Beam(features[i]);
        long t2 = Stopwatch.GetTimestamp();
        greedyTicks += t1 - t0;
        beamTicks += t2 - t1;
        greedy.Add(g);
        beam.Add(b);
    }

    BleuScore gs = Bleu.Score(greedy, references);
    BleuScore bs = Bleu.Score(beam, references);
    PrintScore("greedy", gs);
    PrintScore($"beam {captioner.BeamWidth}", bs);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"mean decode time: greedy {greedyTicks * 1e6 / Stopwatch.Frequency / count:F1} µs, beam {beamTicks * 1e6 / Stopwatch.Frequency / count:F1} µs per caption"));
    int shown = 0;
    for (int i = 0; i < count && shown < 5; i++)
    {
        if (beam[i] != references[i])
        {
            Console.WriteLine($"  miss #{i}: true \"{references[i]}\" / beam \"{beam[i]}\"");
            shown++;
        }
    }

    return 0;
}

static void PrintScore(string name, BleuScore s) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name,-8} BLEU-4 {100 * s.Bleu:F2}  exact match {100 * s.ExactMatch:F2}% ({Math.Round(s.ExactMatch * s.Count)}/{s.Count}; p1..p4 {100 * s.Precisions[0]:F1}/{100 * s.Precisions[1]:F1}/{100 * s.Precisions[2]:F1}/{100 * s.Precisions[3]:F1}, BP {s.BrevityPenalty:F3})"));

static int ParseInt(string[] args, ref int i, int min, int max)
{
    string name = args[i];
    if (i + 1 >= args.Length)
    {
        throw new ArgumentException($"{name} needs a value");
    }

    string text = args[++i];
    if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
    {
        throw new ArgumentException($"{name} needs an integer in [{min}, {max}], not '{text}'");
    }

    return value;
}

/// <summary>Greedy and beam decoding into text. Buffers are allocated once; decoding itself allocates nothing.</summary>
internal sealed class Captioner
{
    private const int MaxWords = 16;

    private readonly Decoder _greedy = new(MaxWords, beamWidth: 1, maxResults: 1);
    private readonly Decoder _beam;
    private readonly WordVocabulary _words = WordVocabulary.FromModel<Model>();
    private readonly int[] _ids = new int[3 * MaxWords];
    private readonly int[] _lengths = new int[3];
    private readonly float[] _scores = new float[3];
    private readonly char[] _text = new char[1024];

    public Captioner(int beamWidth)
    {
        _beam = new Decoder(MaxWords, beamWidth, maxResults: Math.Min(3, beamWidth));
        BeamWidth = beamWidth;
    }

    public int BeamWidth { get; }

    public string Greedy(ReadOnlySpan<float> features)
    {
        int n = _greedy.DecodeGreedy(features, _ids);
        return Text(_ids.AsSpan(0, n));
    }

    public string Beam(ReadOnlySpan<float> features)
    {
        _beam.DecodeBeam(features, _ids, _lengths.AsSpan(0, 1), _scores.AsSpan(0, 1));
        return Text(_ids.AsSpan(0, _lengths[0]));
    }

    /// <summary>Prints the greedy caption and the beam's best captions; returns (greedy, best beam).</summary>
    public (string Greedy, string Beam) Print(ReadOnlySpan<float> features, string? reference)
    {
        if (reference is not null)
        {
            Console.WriteLine($"  true:   {reference}");
        }

        string greedy = Greedy(features);
        Console.WriteLine($"  greedy: {greedy}");
        int results = _beam.MaxResults;
        int found = _beam.DecodeBeam(features, _ids, _lengths.AsSpan(0, results), _scores.AsSpan(0, results));
        string best = "";
        for (int r = 0; r < found; r++)
        {
            string text = Text(_ids.AsSpan(r * MaxWords, _lengths[r]));
            best = r == 0 ? text : best;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  beam {r + 1}: {text}  (score {_scores[r]:F3})"));
        }

        return (greedy, best);
    }

    private string Text(ReadOnlySpan<int> ids)
    {
        int n = _words.Decode(ids, _text);
        return new string(_text, 0, n);
    }
}
