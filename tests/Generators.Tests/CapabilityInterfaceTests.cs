using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Tests.Infrastructure;

namespace RnnEmbedded.Tests;

/// <summary>
/// Capability interfaces (docs/architecture.md): every snapshot model is compiled against the runtime; it must
/// implement exactly its interfaces and carry no member that throws for a missing capability.
/// </summary>
public class CapabilityInterfaceTests
{
    public static TheoryData<string> Names() => new(SnapshotModels.All.Keys.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Names))]
    public void CapabilityInterfaces_Compile_AndNoMemberThrowsForAMissingCapability(string name)
    {
        ModelPlan plan = ModelPlanner.Plan(SnapshotModels.All[name](), new EmitOptions { TypeName = "Caps." + name });
        string source = SourceWriter.Write(plan);

        Assert.DoesNotContain("NotSupportedException", source);
        Assert.DoesNotContain("InvalidOperationException", source);
        Assembly assembly = InMemoryCompiler.EmitAndLoad(InMemoryCompiler.CreateCompilation("Caps_" + name, source));
        Type type = assembly.GetType("Caps." + name, throwOnError: true)!;

        string[] declared = type.GetInterfaces().Where(i => i.Namespace == "RnnEmbedded.Runtime")
            .Select(i => i.Name.Split('`')[0]).Order(StringComparer.Ordinal).ToArray();
        string[] expected = Implied(plan.Surface.Interfaces).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, declared);
        Assert.Equal(plan.Surface.TokenStep, type.GetMethod("Step", [typeof(int), typeof(Span<float>)]) is not null);
        Assert.Equal(plan.Surface.DenseStep, type.GetMethod("Step", [typeof(ReadOnlySpan<float>), typeof(Span<float>)]) is not null);
        Assert.Equal(plan.Surface.State, type.GetMethod("CopyHiddenState") is not null);
    }

    /// <summary>The listed interfaces plus those they extend.</summary>
    private static IEnumerable<string> Implied(IEnumerable<string> listed)
    {
        var all = new HashSet<string>(listed) { "IRecurrentModel" };
        if (all.Contains("ICaptionModel"))
        {
            all.Add("ITokenModel");
        }

        if (all.Contains("ISequenceToSequenceModel"))
        {
            all.Add("ITokenModel");
            all.Add("IVocabularyModel");
        }

        return all;
    }
}
