// scenes: the caption sample's data tool.
//   scenes dataset [--out DIR] [--train N] [--val N] [--test N]   train.txt (train then validation lines), val.txt, test.txt
//   scenes images  [--out DIR] [--count N] [--seed S] [--format png|ppm]   example images + captions.txt
//   scenes features IMAGE...                                      feature lines (trainer format, caption column empty)
//   scenes train OPTIONS...                                       exactly `rnn train OPTIONS...` (the trainer's command)
using System.Globalization;
using System.Text;
using SceneKit;

return Run(args);

static int Run(string[] args)
{
    try
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine("usage: scenes dataset [--out DIR] [--train 20000] [--val 1000] [--test 1000]");
            Console.WriteLine("       scenes images [--out DIR] [--count 6] [--seed 3] [--format png|ppm]");
            Console.WriteLine("       scenes features IMAGE...");
            Console.WriteLine("       scenes train --task caption --corpus data/train.txt ... (the options of `rnn train`)");
            return args.Length == 0 ? 2 : 0;
        }

        if (args[0] == "train")
        {
            // The same command object `rnn train` uses, so options, output and the weight file are identical.
            var root = new System.CommandLine.RootCommand("scenes") { RnnEmbedded.Cli.Commands.TrainCommand.Create() };
            return root.Parse(args).Invoke();
        }

        var options = ParseOptions(args.AsSpan(1));
        switch (args[0])
        {
            case "dataset":
                return Dataset(options);
            case "images":
                return Images(options);
            case "features":
                return Features(options);
            default:
                throw new ArgumentException($"unknown command '{args[0]}' (dataset | images | features)");
        }
    }
    catch (Exception e) when (e is ArgumentException or IOException or ImageFormatException or FormatException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
}

static int Dataset(Options options)
{
    string dir = options.Get("--out", ".");
    int train = options.GetInt("--train", 20_000), val = options.GetInt("--val", 1_000), test = options.GetInt("--test", 1_000);
    Directory.CreateDirectory(dir);
    var sw = System.Diagnostics.Stopwatch.StartNew();
    WriteSet(Path.Combine(dir, "val.txt"), DatasetSeeds.Validation, val);
    WriteSet(Path.Combine(dir, "test.txt"), DatasetSeeds.Test, test);
    // The trainer takes its validation split from the end of one file: train.txt = training lines, then val.txt.
    string trainPath = Path.Combine(dir, "train.txt");
    using (var writer = new StreamWriter(trainPath, false, new UTF8Encoding(false)))
    {
        CaptionDataset.Write(writer, new SceneGenerator(DatasetSeeds.Train), train);
        writer.Write(File.ReadAllText(Path.Combine(dir, "val.txt")));
    }

    // (int)(lines · fraction) must be exactly `val` (the trainer's split rule): aim half a line above it.
    double fraction = (val + 0.5) / (train + val);
    Console.WriteLine($"wrote {trainPath} ({train} + {val} lines), val.txt ({val}), test.txt ({test}) in {sw.Elapsed.TotalSeconds:F1} s");
    Console.WriteLine($"train with: rnn train --task caption --corpus {trainPath} --val-fraction {fraction.ToString("G6", CultureInfo.InvariantCulture)} ...");
    return 0;
}

static void WriteSet(string path, ulong seed, int count)
{
    using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
    CaptionDataset.Write(writer, new SceneGenerator(seed), count);
}

static int Images(Options options)
{
    string dir = options.Get("--out", ".");
    int count = options.GetInt("--count", 6);
    ulong seed = (ulong)options.GetInt("--seed", (int)DatasetSeeds.Test);
    string format = options.Get("--format", "png");
    if (format is not ("png" or "ppm"))
    {
        throw new ArgumentException($"--format is png or ppm, not '{format}'");
    }

    Directory.CreateDirectory(dir);
    var generator = new SceneGenerator(seed);
    var captions = new StringBuilder();
    for (int i = 0; i < count; i++)
    {
        Scene scene = generator.Next();
        string name = $"scene{i:D2}.{format}";
        ImageFile.Write(Path.Combine(dir, name), SceneRenderer.Render(scene));
        captions.Append(name).Append('\t').Append(scene.Caption).Append('\n');
        Console.WriteLine($"{name}\t{scene.Caption}");
    }

    File.WriteAllText(Path.Combine(dir, "captions.txt"), captions.ToString());
    return 0;
}

static int Features(Options options)
{
    if (options.Positional.Count == 0)
    {
        throw new ArgumentException("features needs at least one image path");
    }

    var line = new StringBuilder();
    foreach (string path in options.Positional)
    {
        float[] features = FeatureExtractor.Extract(ImageFile.Read(path));
        line.Clear();
        CaptionDataset.AppendLine(line, features, "");
        Console.Write(line.ToString().TrimEnd('\n', '\t') + "\n");
    }

    return 0;
}

static Options ParseOptions(ReadOnlySpan<string> args)
{
    var options = new Options();
    for (int i = 0; i < args.Length; i++)
    {
        if (args[i].StartsWith("--", StringComparison.Ordinal))
        {
            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"{args[i]} needs a value");
            }

            options.Named[args[i]] = args[++i];
        }
        else
        {
            options.Positional.Add(args[i]);
        }
    }

    return options;
}

internal sealed class Options
{
    public Dictionary<string, string> Named { get; } = new(StringComparer.Ordinal);

    public List<string> Positional { get; } = [];

    public string Get(string name, string fallback) => Named.GetValueOrDefault(name, fallback);

    public int GetInt(string name, int fallback)
    {
        if (!Named.TryGetValue(name, out string? text))
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
        {
            throw new ArgumentException($"{name} needs a non-negative integer, not '{text}'");
        }

        return value;
    }
}
