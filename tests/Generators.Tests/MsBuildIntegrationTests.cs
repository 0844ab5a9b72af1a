using System.Diagnostics;

namespace RnnEmbedded.Tests;

/// <summary>
/// The real chain — RnnEmbedded.targets, the carrier, the generator inside csc — through `dotnet build` of a
/// throw-away project: errors from MSBuild and from the generator name the file, an unchanged weight file leaves
/// the build up to date, a changed one regenerates.
/// </summary>
[Collection(nameof(NoParallelGc))] // child builds are heavy; keep them out of the parallel test run
public class MsBuildIntegrationTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "rnn-msbuild-" + Guid.NewGuid().ToString("N")[..8]);

    private static string RepoRoot([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", ".."));

    public MsBuildIntegrationTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void WriteProject(string rnnModelItem)
    {
        string root = RepoRoot();
        File.WriteAllText(Path.Combine(_dir, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{root}/src/RnnRuntime/RnnRuntime.csproj" />
                <ProjectReference Include="{root}/src/Generators/Generators.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
              </ItemGroup>
              <ItemGroup>
                {rnnModelItem}
              </ItemGroup>
              <Import Project="{root}/src/Generators/build/RnnEmbedded.targets" />
            </Project>
            """);
        File.WriteAllText(Path.Combine(_dir, "Program.cs"), """
            Span<float> output = stackalloc float[Demo.Model.OutputSize];
            var model = new Demo.Model();
            model.Step(1, output);
            Console.WriteLine($"outputs {Demo.Model.OutputSize}");
            """);
    }

    private (int ExitCode, string Output) Build()
    {
        var psi = new ProcessStartInfo("dotnet", "build -nologo -v q -clp:NoSummary")
        {
            WorkingDirectory = _dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using Process p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd();
        string stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(600_000), "dotnet build hung");
        return (p.ExitCode, stdout + stderr);
    }

    private string Fixture(string name) => Path.Combine(RepoRoot(), "tests", "fixtures", name + ".safetensors");

    [Fact]
    public void Build_UnchangedWeightsAreUpToDate_ChangedWeightsRegenerate()
    {
        File.Copy(Fixture("lstm_1layer"), Path.Combine(_dir, "model.safetensors"));
        WriteProject("""<RnnModel Include="model.safetensors" ClassName="Demo.Model" />""");
        var (code, output) = Build();
        Assert.True(code == 0, output);
        string carrier = Directory.GetFiles(Path.Combine(_dir, "obj"), "Demo.Model.rnnmodel", SearchOption.AllDirectories).Single();
        string dll = Directory.GetFiles(Path.Combine(_dir, "bin"), "App.dll", SearchOption.AllDirectories).Single();
        DateTime carrierTime = File.GetLastWriteTimeUtc(carrier);
        DateTime dllTime = File.GetLastWriteTimeUtc(dll);
        string carrierText = File.ReadAllText(carrier);
        string blob = Path.ChangeExtension(carrier, ".rnnweights");
        byte[] blobBytes = File.ReadAllBytes(blob);
        Assert.True(carrierText.Length < 4096, $"the carrier holds the header only, not the weights ({carrierText.Length} chars)");

        (code, output) = Build();
        Assert.True(code == 0, output);
        Assert.Equal(carrierTime, File.GetLastWriteTimeUtc(carrier)); // the pack target was skipped
        Assert.Equal(dllTime, File.GetLastWriteTimeUtc(dll));         // CoreCompile was up to date

        Thread.Sleep(1100); // coarse file-system timestamps
        // File.Copy keeps the source's old timestamp: staleness must be decided by content, not mtime.
        File.Copy(Fixture("gru_1layer"), Path.Combine(_dir, "model.safetensors"), overwrite: true);
        (code, output) = Build();
        Assert.True(code == 0, output);
        Assert.NotEqual(carrierTime, File.GetLastWriteTimeUtc(carrier));
        Assert.NotEqual(dllTime, File.GetLastWriteTimeUtc(dll));
        Assert.NotEqual(carrierText, File.ReadAllText(carrier)); // the new shapes travel to the generator
        Assert.NotEqual(blobBytes, File.ReadAllBytes(blob));      // and the new weights to the assembly
    }

    [Fact]
    public void Build_WeightTypeMetadataAndProperty_ReachTheGenerator()
    {
        File.Copy(Fixture("lstm_1layer"), Path.Combine(_dir, "model.safetensors"));
        WriteProject("""<RnnModel Include="model.safetensors" ClassName="Demo.Model" WeightType="int8" />""");
        var (code, output) = Build();
        Assert.True(code == 0, output);

        // The property is the default for items without metadata; a bad value is the generator's RNN0011.
        File.WriteAllText(Path.Combine(_dir, "Directory.Build.props"), "<Project><PropertyGroup><RnnWeightType>int4</RnnWeightType></PropertyGroup></Project>");
        WriteProject("""<RnnModel Include="model.safetensors" ClassName="Demo.Model" />""");
        (code, output) = Build();
        Assert.NotEqual(0, code);
        Assert.Contains("RNN0011", output);
        Assert.Contains("'int4'", output);
    }

    [Fact]
    public void Build_MissingWeightFile_ReportsRnn0008()
    {
        WriteProject("""<RnnModel Include="models/absent.safetensors" ClassName="Demo.Model" />""");
        var (code, output) = Build();
        Assert.NotEqual(0, code);
        Assert.Contains("RNN0008", output);
        Assert.Contains("absent.safetensors", output);
    }

    [Fact]
    public void Build_MissingClassName_ReportsRnn0003()
    {
        File.Copy(Fixture("lstm_1layer"), Path.Combine(_dir, "model.safetensors"));
        WriteProject("""<RnnModel Include="model.safetensors" />""");
        var (code, output) = Build();
        Assert.NotEqual(0, code);
        Assert.Contains("RNN0003", output);
    }

    [Fact]
    public void Build_DuplicateClassName_ReportsRnn0007()
    {
        File.Copy(Fixture("lstm_1layer"), Path.Combine(_dir, "a.safetensors"));
        File.Copy(Fixture("gru_1layer"), Path.Combine(_dir, "b.safetensors"));
        WriteProject("""<RnnModel Include="a.safetensors" ClassName="Demo.Model" /><RnnModel Include="b.safetensors" ClassName="Demo.Model" />""");
        var (code, output) = Build();
        Assert.NotEqual(0, code);
        Assert.Contains("RNN0007", output);
    }

    [Fact]
    public void Build_CorruptWeightFile_ReportsRnn0001AtTheFile()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("lstm_1layer"));
        File.WriteAllBytes(Path.Combine(_dir, "broken.safetensors"), bytes.AsSpan(0, bytes.Length - 10).ToArray());
        WriteProject("""<RnnModel Include="broken.safetensors" ClassName="Demo.Model" />""");
        var (code, output) = Build();
        Assert.NotEqual(0, code);
        Assert.Contains("error RNN0001", output);
        Assert.Contains(Path.Combine(_dir, "broken.safetensors") + "(1,1)", output);
    }

    [Fact]
    public void Build_OnnxModel_Compiles_AndExternalDataIsRnn0001NamingTheTensor()
    {
        string onnx = Path.Combine(RepoRoot(), "tests", "fixtures", "onnx");
        File.Copy(Path.Combine(onnx, "reject", "external.onnx"), Path.Combine(_dir, "model.onnx"));
        File.Copy(Path.Combine(onnx, "reject", "weights.bin"), Path.Combine(_dir, "weights.bin"));
        WriteProject("""<RnnModel Include="model.onnx" ClassName="Demo.Model" />""");
        var (code, output) = Build();
        Assert.NotEqual(0, code);
        Assert.Contains("error RNN0001", output);
        Assert.Contains("tensor 'W': the data is stored in an external file; external data is never read at build time", output);

        File.Copy(Path.Combine(onnx, "lstm_emb_o9.onnx"), Path.Combine(_dir, "model.onnx"), overwrite: true);
        (code, output) = Build();
        Assert.True(code == 0, output);
        string dll = Directory.GetFiles(Path.Combine(_dir, "bin"), "App.dll", SearchOption.AllDirectories).Single();
        var psi = new ProcessStartInfo("dotnet", dll) { RedirectStandardOutput = true };
        using Process p = Process.Start(psi)!;
        string printed = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000));
        Assert.Equal("outputs 4", printed.Trim());
    }
}
