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
}
