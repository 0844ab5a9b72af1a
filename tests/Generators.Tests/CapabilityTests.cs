using Microsoft.CodeAnalysis;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Tests.Infrastructure;
using RnnEmbedded.Tests.Reference;

namespace RnnEmbedded.Tests;

/// <summary>
/// Capabilities are types (docs/architecture.md): a generated struct implements only the interfaces its model
/// supports, so misuse is a compile error and no generated member throws for a capability the model lacks.
/// </summary>
public class CapabilityTests
{
    private static ModelSpec Fixture(string name) => ModelLoader.Load(ParityFixture.Load(name).WeightsPath);

    private static string Emit(string fixture, string typeName) =>
        CSharpEmitter.Emit(Fixture(fixture), new EmitOptions { TypeName = typeName });

    [Fact]
    public void NoGeneratedMember_ThrowsForAMissingCapability()
    {
        var names = ParityFixture.Names.ToList();
        Assert.Contains("gru_dense", names); // the list covers dense, bidirectional and caption models
        Assert.Contains("lstm_bidir_2layer", names);
        Assert.Contains("caption_lstm", names);
        foreach (string name in names)
        {
            string source = Emit(name, "Cap.M");
            Assert.DoesNotContain("NotSupportedException", source);
            Assert.DoesNotContain("InvalidOperationException", source);
        }
    }

    [Theory]
    [InlineData("lstm_1layer", "ITokenModel", "ITokenSequenceModel")]
    [InlineData("gru_dense", "IDenseModel", "IDenseSequenceModel")]
    [InlineData("lstm_bidir_2layer", "ITokenSequenceModel", null)]
    [InlineData("rnn_dense_bidir", "IDenseSequenceModel", null)]
    [InlineData("caption_lstm", "ICaptionModel", "ITokenSequenceModel")]
    public void GeneratedStruct_ImplementsExactlyItsCapabilities(string fixture, string first, string? second)
    {
        Type type = InMemoryCompiler.EmitAndLoad(InMemoryCompiler.CreateCompilation("Cap_" + fixture, Emit(fixture, "Cap.M")))
            .GetType("Cap.M")!;
        var names = type.GetInterfaces().Select(i => i.Name.Split('`')[0]).ToHashSet();
        Assert.Contains(first, names);
        if (second is not null)
        {
            Assert.Contains(second, names);
        }

        bool bidirectional = Fixture(fixture).Bidirectional;
        bool token = Fixture(fixture).HasTokenInput;
        Assert.Equal(!bidirectional && token, names.Contains("ITokenModel"));
        Assert.Equal(!bidirectional && !token, names.Contains("IDenseModel"));
        Assert.Equal(token, names.Contains("ITokenSequenceModel"));
        Assert.Equal(!token, names.Contains("IDenseSequenceModel"));
        Assert.Equal(Fixture(fixture).Vocabulary is not null, names.Contains("IVocabularyModel"));
        Assert.Equal(!bidirectional, type.GetMethods().Any(m => m.Name == "Step"));
    }

    private static IEnumerable<Diagnostic> CompileUse(string fixture, string use)
    {
        string program = """
            using System;
            using RnnEmbedded.Runtime;
            static class Use
            {
                static void NeedToken<T>() where T : struct, ITokenModel<T> { }
                static void Go()
                {
                    Span<float> output = stackalloc float[1024];
                    USE;
                }
            }
            """.Replace("USE", use, StringComparison.Ordinal);
        return InMemoryCompiler.CreateCompilation("Use_" + fixture, Emit(fixture, "Cap.M"), program)
            .GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void TokenDecoders_RejectADenseModel_AtCompileTime()
    {
        Assert.Empty(CompileUse("lstm_1layer", "NeedToken<Cap.M>()")); // the control: a token model is accepted
        Assert.Contains(CompileUse("gru_dense", "NeedToken<Cap.M>()"), d => d.Id == "CS0315");
        Assert.Contains(
            CompileUse("gru_dense", "new KeystrokeEngine<Cap.M>(CharVocabulary.FromModel<Cap.M>())"),
            d => d.Id == "CS0315");
    }

    [Fact]
    public void Step_OnABidirectionalModel_IsACompileError()
    {
        Assert.Empty(CompileUse("lstm_1layer", "new Cap.M().Step(1, output)")); // the control
        Assert.Contains(CompileUse("lstm_bidir_2layer", "new Cap.M().Step(1, output)"), d => d.Id == "CS1061");
        Assert.Empty(CompileUse("lstm_bidir_2layer", "Cap.M.Run(new int[] { 1, 2 }, output)"));
    }
}
