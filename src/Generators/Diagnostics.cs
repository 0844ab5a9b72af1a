using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using RnnEmbedded.Generators.Model;

namespace RnnEmbedded.Generators;

/// <summary>Every diagnostic the generator reports; docs/diagnostics.md has a section per id.</summary>
internal static class Diagnostics
{
    private const string Category = "RnnEmbedded";
    private const string HelpBase = "https://github.com/rnnembedded/rnnembedded/blob/main/docs/diagnostics.md#";

    public static readonly DiagnosticDescriptor InvalidWeightFile = Error("RNN0001", "Invalid weight file", "{0}");
    public static readonly DiagnosticDescriptor Unsupported = Error("RNN0002", "Unsupported model", "{0}");
    public static readonly DiagnosticDescriptor InvalidClassName = Error("RNN0003", "Invalid ClassName", "{0}");
    public static readonly DiagnosticDescriptor TooLarge = Error("RNN0004", "Model too large to embed", "{0}");
    public static readonly DiagnosticDescriptor InvalidWidth = Error("RNN0005", "Invalid MaxVectorWidth", "{0}: {1}");
    public static readonly DiagnosticDescriptor BadCarrier = Error("RNN0006", "Weight file bridge missing or damaged", "{0}: {1}");
    public static readonly DiagnosticDescriptor InvalidWeightType = Error("RNN0011", "Invalid WeightType", "{0}: {1}");
    public static readonly DiagnosticDescriptor Internal = Error("RNN0009", "Internal generator error", "{0}");

    public static readonly DiagnosticDescriptor BidirectionalRunOnly = new(
        "RNN0100", "Bidirectional model: Run only", "{0}", Category, DiagnosticSeverity.Info, isEnabledByDefault: true,
        helpLinkUri: HelpBase + "rnn0100");

    private static DiagnosticDescriptor Error(string id, string title, string format) =>
        new(id, title, format, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + id.ToLowerInvariant());

    private static DiagnosticDescriptor ById(string id) => id switch
    {
        "RNN0001" => InvalidWeightFile,
        "RNN0002" => Unsupported,
        "RNN0003" => InvalidClassName,
        "RNN0004" => TooLarge,
        "RNN0005" => InvalidWidth,
        "RNN0006" => BadCarrier,
        "RNN0011" => InvalidWeightType,
        "RNN0100" => BidirectionalRunOnly,
        _ => Internal,
    };

    public static Diagnostic Create(DiagnosticInfo info)
    {
        DiagnosticDescriptor d = ById(info.Id);
        Location location = Location.Create(info.FilePath, default(TextSpan), default(LinePositionSpan));
        // Descriptors with a {0}: {1} format take the file and the message separately.
        object[] args = d.MessageFormat.ToString().Contains("{1}") ? new object[] { info.FilePath, info.Message } : new object[] { info.Message };
        return Diagnostic.Create(d, location, args);
    }
}
