namespace RnnEmbedded.Compiler.Emit;

/// <summary>What to generate for one model.</summary>
public sealed class EmitOptions
{
    /// <summary>Fully qualified name of the generated struct, e.g. "Demo.CharModel" (namespace optional).</summary>
    public required string TypeName { get; init; }

    /// <summary>Widest vector path the generated code may use: 512, 256, 128 or 0 (scalar).</summary>
    public int MaxVectorWidth { get; init; } = 512;

    /// <summary>The weight file as the user named it, for the header comment.</summary>
    public string SourceName { get; init; } = "";

    /// <summary>
    /// The version written into <c>[GeneratedCode]</c>; null means this assembly's informational version
    /// (<see cref="ModelPlanner.AssemblyVersion"/>).
    /// </summary>
    public string? GeneratorVersion { get; init; }

    /// <summary>How the streamed matrices are stored (docs/model-format.md, "Weight types"); float32 by default.</summary>
    public RnnEmbedded.Compiler.Model.WeightType WeightType { get; init; }
    /// <summary>
    /// Where the weights go: <see cref="WeightStorage.Literals"/> (the default: one self-contained source file, as
    /// <c>rnn compile</c> writes) or <see cref="WeightStorage.Resource"/> (a blob embedded as a manifest resource,
    /// what RnnEmbedded.targets does; docs/generator.md).
    /// </summary>
    public WeightStorage Storage { get; init; } = WeightStorage.Literals;

    /// <summary>The weight blob's manifest resource name (resource storage); null means <see cref="DefaultResourceName"/>.</summary>
    public string? ResourceName { get; init; }

    /// <summary><c>{TypeName}.rnnweights</c>: unique in an assembly because type names are.</summary>
    public static string DefaultResourceName(string typeName) => typeName + ".rnnweights";
}
