using System.Globalization;
using CliApp = RnnEmbedded.Cli.Cli;

namespace RnnEmbedded.Tests.Tool;

/// <summary>Runs the rnn tool in-process and captures what it prints.</summary>
internal static class CliHarness
{
    public static CliResult Run(params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        int code = CliApp.Run(args, output, error);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    public static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", name + ".safetensors");

    /// <summary>Output lines parsed back to float vectors.</summary>
    public static float[][] ParseVectors(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ').Select(s => float.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray())
            .ToArray();

    public static string TempFile(string content)
    {
        string path = Path.Combine(Path.GetTempPath(), "rnn-cli-" + Guid.NewGuid().ToString("N") + ".csv");
        File.WriteAllText(path, content);
        return path;
    }
}

internal sealed record CliResult(int ExitCode, string Output, string Error);

/// <summary>A parity fixture's .expected.txt (format in docs/model-format.md): the input and PyTorch's output.</summary>
internal sealed class ExpectedFixture
{
    public int[] Tokens { get; private set; } = [];

    public float[]? Image { get; private set; }

    public List<float[]> Dense { get; } = [];

    public List<float[]> Outputs { get; } = [];

    public static ExpectedFixture Load(string name) =>
        LoadFrom(Path.Combine(AppContext.BaseDirectory, "fixtures", name + ".expected.txt"));

    public static ExpectedFixture LoadFrom(string path)
    {
        var fixture = new ExpectedFixture();
        foreach (string line in File.ReadAllLines(path))
        {
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                continue;
            }

            switch (parts[0])
            {
                case "tokens":
                    fixture.Tokens = parts.Skip(1).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                    break;
                case "image":
                    fixture.Image = Floats(parts);
                    break;
                case "dense":
                    fixture.Dense.Add(Floats(parts));
                    break;
                case "output":
                    fixture.Outputs.Add(Floats(parts));
                    break;
            }
        }

        return fixture;
    }

    private static float[] Floats(string[] parts) =>
        parts.Skip(1).Select(s => float.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
}
