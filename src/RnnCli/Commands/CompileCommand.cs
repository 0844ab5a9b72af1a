using System.CommandLine;
using System.Text;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Cli.Commands;

/// <summary>
/// <c>rnn compile FILE --class NAME --out DIR [--max-vector-width N]</c>: writes the C# the source generator would
/// generate for a weight file to <c>DIR/NAME.g.cs</c>, for projects that check generated code in or do not use the
/// generator.
/// </summary>
public static class CompileCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The .safetensors weight file." };
        var className = new Option<string>("--class") { Description = "Fully qualified name of the generated struct: Demo.CharModel.", Required = true };
        var outDir = new Option<string>("--out") { Description = "Directory to write <class>.g.cs into (created if missing).", Required = true };
        var width = new Option<int>("--max-vector-width")
        {
            Description = "Widest vector path the generated code may use: 512, 256, 128 or 0 (scalar).",
            DefaultValueFactory = _ => 512,
        };
        var command = new Command("compile", "Write the C# struct the source generator generates for a weight file.")
        {
            file,
            className,
            outDir,
            width,
        };
        command.SetAction(parseResult =>
        {
            string path = parseResult.GetValue(file)!;
            string name = parseResult.GetValue(className)!;
            string written = Execute(path, name, parseResult.GetValue(outDir)!, parseResult.GetValue(width));
            parseResult.InvocationConfiguration.Output.WriteLine(written);
            return Cli.ExitOk;
        });
        return command;
    }

    /// <summary>Generates the source for <paramref name="path"/> and writes it; returns the file written.</summary>
    public static string Execute(string path, string className, string outDir, int maxVectorWidth)
    {
        if (maxVectorWidth is not (512 or 256 or 128 or 0))
        {
            throw new CommandException($"--max-vector-width: {maxVectorWidth} must be 512, 256, 128 or 0 (scalar)");
        }

        ModelSpec spec = ModelLoader.Load(path);
        string source;
        try
        {
            source = CSharpEmitter.Emit(spec, new EmitOptions
            {
                TypeName = className,
                MaxVectorWidth = maxVectorWidth,
                SourceName = Path.GetFileName(path),
            });
        }
        catch (CSharpEmitter.EmitException e)
        {
            string option = e.Code == "bad-name" ? "--class: " : "";
            throw new CommandException($"{option}{path}: {e.Message}");
        }

        Directory.CreateDirectory(outDir);
        string target = Path.Combine(outDir, className + ".g.cs");
        File.WriteAllText(target, source, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return target;
    }
}
