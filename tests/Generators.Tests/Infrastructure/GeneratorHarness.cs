extern alias gen;

using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace RnnEmbedded.Tests.Infrastructure;

/// <summary>An RnnModel item as the MSBuild bridge would present it to the generator.</summary>
internal sealed record ModelItem(string ClassName, byte[] WeightFile, string SourcePath = "models/test.safetensors", string MaxVectorWidth = "512", string? CarrierName = null, string WeightType = "")
{
    public string CarrierText => PackedCarrier ?? "rnn-carrier/1\n" + SourcePath + "\n" + Convert.ToBase64String(WeightFile) + "\n";

    /// <summary>The resource route's carrier (what RnnEmbedded.targets writes); null for the literal route's base64 carrier.</summary>
    public string? PackedCarrier { get; init; }

    /// <summary>
    /// The item on the resource route, as the build step packs it: the carrier (header only) and the weight blob to
    /// embed as the manifest resource <see cref="EmitOptions.DefaultResourceName"/>(ClassName).
    /// </summary>
    public static (ModelItem Item, ResourceDescription Blob, long BlobLength) Packed(string className, byte[] weightFile, string maxVectorWidth = "512", string weightType = "")
    {
        var blob = new MemoryStream();
        string carrier = RnnEmbedded.Compiler.Emit.WeightPack.Pack(weightFile, "models/test.safetensors", className, weightType, blob);
        byte[] bytes = blob.ToArray();
        string name = RnnEmbedded.Compiler.Emit.EmitOptions.DefaultResourceName(className);
        return (new ModelItem(className, Array.Empty<byte>(), MaxVectorWidth: maxVectorWidth, WeightType: weightType) { PackedCarrier = carrier },
                new ResourceDescription(name, () => new MemoryStream(bytes, writable: false), isPublic: true),
                bytes.LongLength);
    }

    public string CarrierPath => "/obj/rnn/" + (CarrierName ?? ClassName) + ".rnnmodel";
}

/// <summary>Runs the real generator through Roslyn's GeneratorDriver, as the compiler would.</summary>
internal static class GeneratorHarness
{
    public static GeneratorDriver CreateDriver(IEnumerable<ModelItem> items, string? carrierOverride = null) =>
        CreateDriver(items, out _, carrierOverride);

    /// <summary>A driver, and the carrier files it was given (for <c>ReplaceAdditionalText</c>), in item order.</summary>
    public static GeneratorDriver CreateDriver(IEnumerable<ModelItem> items, out IReadOnlyList<AdditionalText> carriers, string? carrierOverride = null)
    {
        var texts = new List<AdditionalText>();
        carriers = texts;
        var options = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (ModelItem item in items)
        {
            texts.Add(carrierOverride is null ? CarrierText(item) : new InMemoryText(item.CarrierPath, carrierOverride));
            options[item.CarrierPath] = new Dictionary<string, string>
            {
                ["build_metadata.AdditionalFiles.RnnClassName"] = item.ClassName,
                ["build_metadata.AdditionalFiles.RnnMaxVectorWidth"] = item.MaxVectorWidth,
                ["build_metadata.AdditionalFiles.RnnWeightType"] = item.WeightType,
                ["build_metadata.AdditionalFiles.RnnSourceFile"] = item.SourcePath,
            };
        }

        return CSharpGeneratorDriver.Create(
            new[] { new gen::RnnEmbedded.Generators.RnnGenerator().AsSourceGenerator() },
            texts,
            InMemoryCompiler.ParseOptions,
            new OptionsProvider(options),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
    }

    /// <summary>The additional file the driver sees for <paramref name="item"/>; its path keys the item's options.</summary>
    public static AdditionalText CarrierText(ModelItem item) => new InMemoryText(item.CarrierPath, item.CarrierText);

    public static (GeneratorDriver Driver, Compilation Output, ImmutableArray<Diagnostic> Diagnostics) Run(GeneratorDriver driver, string userSource = "")
    {
        CSharpCompilation compilation = InMemoryCompiler.CreateCompilation("Generated", userSource);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        return (driver, output, diagnostics);
    }

    private sealed class InMemoryText : AdditionalText
    {
        private readonly SourceText _text;

        public InMemoryText(string path, string text)
        {
            Path = path;
            _text = SourceText.From(text);
        }

        public override string Path { get; }

        public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
    }

    private sealed class OptionsProvider : AnalyzerConfigOptionsProvider
    {
        private readonly Dictionary<string, Dictionary<string, string>> _perFile;

        public OptionsProvider(Dictionary<string, Dictionary<string, string>> perFile) => _perFile = perFile;

        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(new Dictionary<string, string>());

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => GlobalOptions;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
            _perFile.TryGetValue(textFile.Path, out Dictionary<string, string>? o) ? new Options(o) : GlobalOptions;
    }

    private sealed class Options : AnalyzerConfigOptions
    {
        private readonly Dictionary<string, string> _values;

        public Options(Dictionary<string, string> values) => _values = values;

        public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value) => _values.TryGetValue(key, out value);
    }
}
