using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Model;
using static RnnEmbedded.Tests.Tool.CliHarness;

namespace RnnEmbedded.Tests.Tool;

public sealed class CompileCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "rnn-compile-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("lstm_1layer", 512)]
    [InlineData("gru_dense", 128)]
    [InlineData("caption_lstm", 0)]
    public void Compile_WritesWhatTheGeneratorEmits(string fixture, int width)
    {
        string path = FixturePath(fixture);

        CliResult r = Run("compile", path, "--class", "Demo.Model", "--out", _dir, "--max-vector-width", width.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal("", r.Error);
        Assert.Equal(0, r.ExitCode);
        string written = Path.Combine(_dir, "Demo.Model.g.cs");
        Assert.Equal(written + "\n", r.Output);
        string expected = CSharpEmitter.Emit(ModelLoader.Load(path), new EmitOptions
        {
            TypeName = "Demo.Model",
            MaxVectorWidth = width,
            SourceName = fixture + ".safetensors",
        });
        Assert.Equal(expected, File.ReadAllText(written));
    }

    [Fact]
    public void Compile_DefaultWidthIs512()
    {
        CliResult r = Run("compile", FixturePath("lstm_1layer"), "--class", "M", "--out", _dir);

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Simd.Resolve(VectorWidth.V512)", File.ReadAllText(Path.Combine(_dir, "M.g.cs")));
    }

    [Theory]
    [InlineData("--max-vector-width", "64", "--max-vector-width: 64 must be 512, 256, 128 or 0")]
    [InlineData("--class", "Demo.class", "--class: ")]
    [InlineData("--class", "Demo..M", "is not a valid C# type name")]
    public void Compile_BadOption_OneErrorLineNamingIt(string option, string value, string expected)
    {
        var args = new List<string> { "compile", FixturePath("lstm_1layer"), "--out", _dir };
        if (option != "--class")
        {
            args.AddRange(["--class", "Demo.M"]);
        }

        args.AddRange([option, value]);

        CliResult r = Run(args.ToArray());

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: ", r.Error);
        Assert.Contains(expected, r.Error);
        Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(Directory.Exists(_dir));
    }

    [Fact]
    public void Compile_MissingClass_IsAnError()
    {
        CliResult r = Run("compile", FixturePath("lstm_1layer"), "--out", _dir);

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--class", r.Error);
    }
}
