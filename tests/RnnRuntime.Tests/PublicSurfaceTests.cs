using System.ComponentModel;
using System.Reflection;
using CompilerModel = RnnEmbedded.Compiler.Model;
using RuntimeApi = RnnEmbedded.Runtime;
using RuntimeServices = RnnEmbedded.Runtime.CompilerServices;

namespace RnnEmbedded.Tests;

/// <summary>The rules of docs/architecture.md, "Namespaces and the public surface", checked on the built assembly.</summary>
public sealed class PublicSurfaceTests
{
    private const string RuntimeNamespace = "RnnEmbedded.Runtime";
    private const string CompilerServicesNamespace = "RnnEmbedded.Runtime.CompilerServices";

    private static readonly Type[] s_exported = typeof(RuntimeApi.IRecurrentModel<>).Assembly.GetExportedTypes();

    [Fact]
    public void ExportedTypes_LiveInTheRuntimeOrCompilerServicesNamespace()
    {
        Assert.NotEmpty(s_exported);
        Assert.All(s_exported, t => Assert.True(
            t.Namespace is RuntimeNamespace or CompilerServicesNamespace,
            $"{t.FullName} is exported from namespace {t.Namespace}; public types belong in {RuntimeNamespace} (apps) or {CompilerServicesNamespace} (generated code)."));
    }

    [Fact]
    public void CompilerServicesTypes_AreHiddenFromIntelliSense()
    {
        Type[] services = s_exported.Where(t => t.Namespace == CompilerServicesNamespace).ToArray();
        Assert.Contains(typeof(RuntimeServices.PackedGemv), services);
        Assert.Contains(typeof(RuntimeServices.ModelGuard), services);
        Assert.All(services, t => Assert.True(
            t.GetCustomAttribute<EditorBrowsableAttribute>()?.State == EditorBrowsableState.Never,
            $"{t.FullName} is for generated code only and needs [EditorBrowsable(EditorBrowsableState.Never)]."));
    }

    [Fact]
    public void VectorWidth_IsVisibleToApps()
    {
        // Every generated struct exposes `public static VectorWidth VectorWidth`, so apps name the type.
        Assert.Equal(RuntimeNamespace, typeof(RuntimeApi.VectorWidth).Namespace);
        Assert.Null(typeof(RuntimeApi.VectorWidth).GetCustomAttribute<EditorBrowsableAttribute>());
    }

    [Fact]
    public void SharedEnums_CompilerAndRuntimeAgreeByNameAndValue()
    {
        // The emitter writes the compiler's member names into code that the runtime's enum must accept.
        AssertSameMembers(typeof(CompilerModel.ModelTask), typeof(RuntimeApi.ModelTask));
        AssertSameMembers(typeof(CompilerModel.ModelVocabularyKind), typeof(RuntimeApi.ModelVocabularyKind));
        AssertSameMembers(typeof(CompilerModel.ActivationKind), typeof(RuntimeServices.ActivationKind));
    }

    private static void AssertSameMembers(Type compiler, Type runtime)
    {
        Assert.NotEqual(compiler, runtime); // one per assembly, compiled from the same source
        Assert.Equal(compiler.Name, runtime.Name);
        Assert.Equal(
            Enum.GetNames(compiler).Select(n => (n, Convert.ToInt32(Enum.Parse(compiler, n)))),
            Enum.GetNames(runtime).Select(n => (n, Convert.ToInt32(Enum.Parse(runtime, n)))));
    }
}
