using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Tests;

/// <summary>
/// The generated code for one tiny model per cell variant and input route, compared with the committed
/// snapshots in Snapshots/. When the emitter changes on purpose, the test writes the new output beside the
/// snapshot as *.received.cs.txt: read it, then copy it over. The generator's version is written as
/// <see cref="VersionPlaceholder"/> so a version bump does not touch the snapshots.
/// </summary>
public class SnapshotTests
{
    public const string VersionPlaceholder = "<version>";

    private static string SnapshotDir([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "Snapshots");

    public static TheoryData<string> Names() => new(SnapshotModels.All.Keys.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Names))]
    public void Generated_MatchesSnapshot(string name) => Check(name, Generate(name));

    /// <summary>What RnnEmbedded.targets builds: the weights in a manifest resource, read through typed spans.</summary>
    [Theory]
    [InlineData("Lstm")]
    [InlineData("GruResetBefore")]
    public void GeneratedOnResourceRoute_MatchesSnapshotAndFitsIn120Characters(string name)
    {
        string actual = Generate(name, WeightStorage.Resource);
        Check(name + ".resource", actual);
        Assert.All(actual.Split('\n'), line => Assert.True(line.Length <= SourceWriter.MaxLineLength, line));
    }

    private static void Check(string snapshot, string actual)
    {
        string path = Path.Combine(SnapshotDir(), snapshot + ".g.cs.txt");
        string expected = File.Exists(path) ? File.ReadAllText(path) : "";
        string received = Path.Combine(SnapshotDir(), snapshot + ".received.cs.txt");
        if (expected != actual)
        {
            File.WriteAllText(received, actual);
        }
        else if (File.Exists(received))
        {
            File.Delete(received);
        }

        Assert.True(expected == actual, $"generated code differs from {path}; see {snapshot}.received.cs.txt beside it");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Generated_LinesFitIn120Characters_ExceptWeightLiterals(string name)
    {
        string[] lines = Generate(name).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            bool weightLiteral = lines[i].TrimStart().StartsWith("\"\\u", StringComparison.Ordinal);
            Assert.True(weightLiteral || lines[i].Length <= SourceWriter.MaxLineLength, $"{name} line {i + 1} has {lines[i].Length} characters: {lines[i]}");
        }
    }

    [Fact]
    public void GeneratedCode_CarriesTheGeneratorAssemblyVersion()
    {
        string source = CSharpEmitter.Emit(SnapshotModels.All["GruResetAfter"](), new EmitOptions { TypeName = "Demo.M" });
        string version = typeof(CSharpEmitter).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion.Split('+')[0];

        Assert.Contains($"[GeneratedCode(\"RnnEmbedded.Generators\", \"{version}\")]", source);
    }

    private static string Generate(string name, WeightStorage storage = WeightStorage.Literals) =>
        CSharpEmitter.Emit(SnapshotModels.All[name](), new EmitOptions
        {
            TypeName = "Demo." + name,
            SourceName = SnapshotModels.FileName(name),
            GeneratorVersion = VersionPlaceholder,
            WeightType = SnapshotModels.WeightTypeOf(name),
            Storage = storage,
        });
}
