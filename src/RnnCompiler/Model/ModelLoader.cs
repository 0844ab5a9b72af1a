using RnnEmbedded.Compiler.Formats;

namespace RnnEmbedded.Compiler.Model;

#if !RNN_GENERATOR // file I/O: not compiled into the Roslyn generator (RS1035)
/// <summary>Reads a weight file (safetensors, or ONNX by its extension) and builds the model it describes.</summary>
public static class ModelLoader
{
    /// <summary><see cref="SafeTensorsReader.ReadFile"/> then <see cref="ModelBuilder.Build"/>.</summary>
    /// <exception cref="RnnFormatException">The file cannot be read, is not valid safetensors, or does not describe a supported model.</exception>
    public static ModelSpec Load(string path, SafeTensorsReadOptions? options = null) =>
        ModelBuilder.Build(ReadWeights(path, options));

    /// <summary>A safetensors file, or an ONNX file (by its .onnx extension) imported with canonical names (docs/model-format.md).</summary>
    public static WeightFile ReadWeights(string path, SafeTensorsReadOptions? options = null) =>
        Formats.Onnx.OnnxFile.IsOnnxPath(path) ? Formats.Onnx.OnnxFile.ReadFile(path) : SafeTensorsReader.ReadFile(path, options);
}
#endif
