using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Tests.Infrastructure;

namespace RnnEmbedded.Tests;

/// <summary>
/// <see cref="EmitOptions.CapabilityInterfaces"/>: until the runtime ships the capability interfaces
/// (docs/architecture.md), they are declared here as the runtime will declare them, and every snapshot model is
/// compiled against them: it must implement exactly its interfaces and carry no member that throws for a missing
/// capability.
/// </summary>
public class CapabilityInterfaceTests
{
    private const string Interfaces = """
        namespace RnnEmbedded.Runtime.Next
        {
            using System;
            public interface IRecurrentModel<TSelf> where TSelf : struct, IRecurrentModel<TSelf>
            {
                static abstract int InputSize { get; }
                static abstract int OutputSize { get; }
                static abstract ModelTask Task { get; }
                void Reset();
            }
            public interface ITokenModel<TSelf> : IRecurrentModel<TSelf> where TSelf : struct, ITokenModel<TSelf>
            {
                void Step(int token, Span<float> output);
            }
            public interface IDenseModel<TSelf> : IRecurrentModel<TSelf> where TSelf : struct, IDenseModel<TSelf>
            {
                void Step(ReadOnlySpan<float> input, Span<float> output);
            }
            public interface ITokenSequenceModel<TSelf> : IRecurrentModel<TSelf> where TSelf : struct, ITokenSequenceModel<TSelf>
            {
                static abstract void Run(ReadOnlySpan<int> tokens, Span<float> outputs);
            }
            public interface IDenseSequenceModel<TSelf> : IRecurrentModel<TSelf> where TSelf : struct, IDenseSequenceModel<TSelf>
            {
                static abstract void Run(ReadOnlySpan<float> inputs, Span<float> outputs);
            }
            public interface IVocabularyModel<TSelf> : IRecurrentModel<TSelf> where TSelf : struct, IVocabularyModel<TSelf>
            {
                static abstract ModelVocabularyKind VocabularyKind { get; }
                static abstract ReadOnlySpan<char> VocabularyText { get; }
                static abstract ReadOnlySpan<int> VocabularyOffsets { get; }
                static abstract int StartToken { get; }
                static abstract int StopToken { get; }
                static abstract int UnknownToken { get; }
            }
            public interface ICaptionModel<TSelf> : ITokenModel<TSelf> where TSelf : struct, ICaptionModel<TSelf>
            {
                static abstract int ImageFeatureSize { get; }
                void StepImage(ReadOnlySpan<float> features, Span<float> output);
            }
            public enum ModelTask { Generic, CharLm, WordLm, Caption }
            public enum ModelVocabularyKind { None, Characters, Words }
        }
        """;

    public static TheoryData<string> Names() => new(SnapshotModels.All.Keys.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Names))]
    public void CapabilityInterfaces_Compile_AndNoMemberThrowsForAMissingCapability(string name)
    {
        ModelPlan plan = ModelPlanner.Plan(SnapshotModels.All[name](), new EmitOptions { TypeName = "Caps." + name, CapabilityInterfaces = true });
        // The stand-in interfaces live in RnnEmbedded.Runtime.Next; the real runtime keeps its kernels.
        string source = SourceWriter.Write(plan).Replace(
            "using RnnRuntime = global::RnnEmbedded.Runtime;", "using RnnRuntime = global::RnnEmbedded.Runtime.Next;");

        Assert.DoesNotContain("NotSupportedException", source);
        Assert.DoesNotContain("InvalidOperationException", source);
        Assembly assembly = InMemoryCompiler.EmitAndLoad(InMemoryCompiler.CreateCompilation("Caps_" + name, source, Interfaces));
        Type type = assembly.GetType("Caps." + name, throwOnError: true)!;

        string[] declared = type.GetInterfaces().Where(i => i.Namespace == "RnnEmbedded.Runtime.Next")
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

        return all;
    }
}
