using System.Globalization;

namespace RnnEmbedded.Tests.Infrastructure;

/// <summary>
/// A PyTorch parity fixture: tests/fixtures/NAME.safetensors + NAME.expected.txt (format documented in
/// docs/model-format.md: "input tokens|dense|caption", then "tokens ..", "dense ..", "image ..", "output .." lines).
/// </summary>
internal sealed class Fixture
{
    public required string Name { get; init; }

    public required string WeightPath { get; init; }

    public required string InputKind { get; init; }

    public int[] Tokens { get; init; } = Array.Empty<int>();

    public float[][] Dense { get; init; } = Array.Empty<float[]>();

    public float[]? Image { get; init; }

    public required float[][] Outputs { get; init; }

    public static string Directory => Path.Combine(AppContext.BaseDirectory, "fixtures");

    /// <summary>PyTorch fixtures ("lstm_1layer") and the variants PyTorch lacks ("variants/lstm_cifg").</summary>
    public static IEnumerable<string> Names()
    {
        string[] files = System.IO.Directory.GetFiles(Directory, "*.expected.txt", SearchOption.AllDirectories);
        string[] names = files.Select(f => Path.GetRelativePath(Directory, f).Replace('\\', '/')[..^".expected.txt".Length]).ToArray();
        Array.Sort(names, StringComparer.Ordinal);
        return names;
    }

    public static Fixture Load(string name)
    {
        var dense = new List<float[]>();
        var outputs = new List<float[]>();
        int[] tokens = Array.Empty<int>();
        float[]? image = null;
        string kind = "";
        foreach (string raw in File.ReadLines(Path.Combine(Directory, name + ".expected.txt")))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (parts[0])
            {
                case "input": kind = parts[1]; break;
                case "tokens": tokens = parts.Skip(1).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray(); break;
                case "dense": dense.Add(Floats(parts)); break;
                case "image": image = Floats(parts); break;
                case "output": outputs.Add(Floats(parts)); break;
            }
        }

        return new Fixture
        {
            Name = name,
            WeightPath = Path.Combine(Directory, name + ".safetensors"),
            InputKind = kind,
            Tokens = tokens,
            Dense = dense.ToArray(),
            Image = image,
            Outputs = outputs.ToArray(),
        };
    }

    private static float[] Floats(string[] parts) => parts.Skip(1).Select(p => float.Parse(p, CultureInfo.InvariantCulture)).ToArray();
}
