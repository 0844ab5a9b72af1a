using System;
using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using RnnEmbedded.Generators.Model;

namespace RnnEmbedded.Generators;

/// <summary>
/// Compiles weight files named by <c>&lt;RnnModel Include="..." ClassName="..." /&gt;</c> into specialized structs.
/// Pipeline: AdditionalFiles carrying RnnClassName metadata → <see cref="ModelRequest"/> (tracked as
/// "RnnModelRequests") → parse + emit → <see cref="GenerationResult"/> ("RnnGeneratedModels") → source + diagnostics.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class RnnGenerator : IIncrementalGenerator
{
    public const string RequestsStep = "RnnModelRequests";
    public const string ResultsStep = "RnnGeneratedModels";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ModelRequest> requests = context.AdditionalTextsProvider
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Select(static (pair, ct) => ToRequest(pair.Left, pair.Right, ct))
            .Where(static r => r is not null)
            .Select(static (r, _) => r!)
            .WithTrackingName(RequestsStep);

        IncrementalValuesProvider<GenerationResult> results = requests
            .Select(static (r, ct) => Generate(r, ct))
            .WithTrackingName(ResultsStep);

        context.RegisterSourceOutput(results, static (spc, result) =>
        {
            if (result.Source is not null)
            {
                spc.AddSource(result.HintName, SourceText.From(result.Source, Encoding.UTF8));
            }

            foreach (DiagnosticInfo d in result.Diagnostics)
            {
                spc.ReportDiagnostic(Diagnostics.Create(d));
            }
        });
    }
}
