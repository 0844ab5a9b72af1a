using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Tests.Infrastructure;

namespace RnnEmbedded.Tests;

/// <summary>The C# example in README.md compiles against a generated Demo.CharModel and runs.</summary>
public class ReadmeExampleTests
{
    private static string ReadmePath([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "README.md"));

    [Fact]
    public void ReadmeExample_CompilesAndRuns()
    {
        string readme = File.ReadAllText(ReadmePath());
        Match m = Regex.Match(readme, @"<!-- readme-example[^>]*-->\s*```csharp\n(?<code>.*?)```", RegexOptions.Singleline);
        Assert.True(m.Success, "README.md has no marked C# example");

        // A character model whose vocabulary covers printable ASCII, random weights.
        string chars = new(Enumerable.Range(32, 95).Select(i => (char)i).ToArray());
        ModelSpec spec = TestModels.Lstm(vocab: chars.Length, e: 8, h: 16);
        spec = new ModelSpec
        {
            InputKind = spec.InputKind,
            InputSize = spec.InputSize,
            Embedding = spec.Embedding,
            Layers = spec.Layers,
            Head = spec.Head,
            Task = ModelTask.CharLm,
            Vocabulary = new Vocabulary(ModelVocabularyKind.Characters, chars.Select(c => c.ToString()).ToArray()),
        };
        string model = CSharpEmitter.Emit(spec, new EmitOptions { TypeName = "Demo.CharModel" });

        CSharpCompilation compilation = InMemoryCompiler.CreateCompilation("Readme", model, "using System;\n" + m.Groups["code"].Value)
            .WithOptions(new CSharpCompilationOptions(OutputKind.ConsoleApplication, allowUnsafe: true));
        Assembly asm = InMemoryCompiler.EmitAndLoad(compilation);

        var output = new StringWriter();
        TextWriter original = Console.Out;
        Console.SetOut(output);
        try
        {
            asm.EntryPoint!.Invoke(null, new object[] { Array.Empty<string>() });
        }
        finally
        {
            Console.SetOut(original);
        }

        string printed = output.ToString().TrimEnd('\n', '\r');
        Assert.Single(printed);
        Assert.Contains(printed[0], chars);
    }
}
