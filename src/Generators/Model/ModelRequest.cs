namespace RnnEmbedded.Generators.Model;

/// <summary>
/// One RnnModel item as the generator sees it: the carrier's path and text plus the item's options.
/// Strings and ints only, so the incremental pipeline caches by value.
/// </summary>
internal sealed record ModelRequest(string CarrierPath, string ClassName, string MaxVectorWidth, string SourceFile, string CarrierText, string WeightType = "");

/// <summary>A diagnostic as data: descriptor id, message arguments and the file it points at.</summary>
internal sealed record DiagnosticInfo(string Id, string FilePath, string Message);

/// <summary>What one model produces: a source file (or none) and diagnostics.</summary>
internal sealed record GenerationResult(string HintName, string? Source, EquatableArray<DiagnosticInfo> Diagnostics);
