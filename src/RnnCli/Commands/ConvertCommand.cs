using System.CommandLine;
using System.Globalization;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Cli.Commands;

/// <summary>
/// <c>rnn convert FILE --out OUT.safetensors</c>: reads an ONNX model (.onnx) or a safetensors weight file (PyTorch
/// state_dict names, or a training checkpoint's model) and writes the model as safetensors with our canonical names
/// and metadata (docs/model-format.md): <c>embedding.weight</c>, <c>rnn.weight_ih_l0</c>, …, <c>head.weight</c>.
/// ONNX external data is read only from files directly in the model's directory.
/// </summary>
public static class ConvertCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The .onnx model or .safetensors weight file." };
        var output = new Option<string>("--out") { Description = "The .safetensors file to write (canonical names).", Required = true };
        var command = new Command("convert", "Convert an ONNX model or a safetensors weight file to safetensors with canonical names.")
        {
            file,
            output,
        };
        command.SetAction(parseResult =>
        {
            string summary = Execute(parseResult.GetValue(file)!, parseResult.GetValue(output)!);
            parseResult.InvocationConfiguration.Output.WriteLine(summary);
            return Cli.ExitOk;
        });
        return command;
    }

    /// <summary>Converts <paramref name="path"/> to <paramref name="outPath"/>; returns the line printed.</summary>
    public static string Execute(string path, string outPath)
    {
        if (!outPath.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            throw new CommandException($"--out: '{outPath}' must end in .safetensors (convert writes safetensors)");
        }

        if (string.Equals(Path.GetFullPath(path), Path.GetFullPath(outPath), StringComparison.Ordinal))
        {
            throw new CommandException($"--out: '{outPath}' is the input file; write the conversion elsewhere");
        }

        ModelSpec spec = TrainingCheckpoint.LoadModel(path); // ONNX, safetensors, or a checkpoint's model
        (IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string> metadata) = ModelWriter.ToTensors(spec);
        byte[] bytes = SafeTensorsWriter.Write(tensors, metadata);

        // The written file must build the model that was read (the canonical names and metadata say it all).
        ModelSpec again = ModelBuilder.Build(SafeTensorsReader.Read(bytes, outPath));
        string? difference = ModelSpecComparer.FirstDifference(spec, again);
        if (difference is not null)
        {
            throw new CommandException($"{path}: the converted model differs from the source ({difference}); nothing written");
        }

        string temp = outPath + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, outPath, overwrite: true);
        return $"{outPath}: {tensors.Count} tensors, {spec.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)} parameters, {bytes.Length.ToString("N0", CultureInfo.InvariantCulture)} bytes (from {path})";
    }
}
