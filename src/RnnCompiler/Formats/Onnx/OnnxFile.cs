#if !RNN_GENERATOR // file I/O: not compiled into the Roslyn generator (RS1035)
using System;
using System.IO;
using System.Security;

namespace RnnEmbedded.Compiler.Formats.Onnx;

/// <summary>
/// Reads an ONNX file from disk for the CLI and tests. External tensor data is read only from files directly in the
/// model's own directory: a location that is absolute, contains a directory separator or "..", names a link, or lies
/// outside that directory is an error naming the tensor. Only the declared byte range is read.
/// </summary>
public static class OnnxFile
{
    /// <summary>Reads and imports <paramref name="path"/> (a weight file with our canonical names).</summary>
    /// <exception cref="RnnFormatException">The file cannot be read, is not valid ONNX, or is outside the supported subset.</exception>
    public static WeightFile ReadFile(string path)
    {
        if (path is null)
        {
            throw new ArgumentNullException(nameof(path));
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException or SecurityException)
        {
            throw new RnnFormatException(path, null, "cannot read the file: " + e.Message);
        }

        string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        return OnnxImporter.Import(bytes, path, (tensor, location, offset, length) => ReadExternal(path, directory, tensor, location, offset, length));
    }

    /// <summary>True when <paramref name="path"/> names an ONNX file (by its extension).</summary>
    public static bool IsOnnxPath(string path) => path is not null && path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    private static byte[] ReadExternal(string model, string directory, OnnxTensor tensor, string location, long offset, long length)
    {
        if (Path.IsPathRooted(location) || location.IndexOf('/') >= 0 || location.IndexOf('\\') >= 0
            || location == ".." || location == "." || location.IndexOf(':') >= 0 || location.IndexOf('\0') >= 0)
        {
            throw new RnnFormatException(model, tensor.Name, $"external data location '{location}' is not a plain file name; external data is read only from files directly in the model's directory (no absolute paths, no directories, no '..')");
        }

        string full = Path.GetFullPath(Path.Combine(directory, location));
        if (!string.Equals(Path.GetDirectoryName(full), directory, StringComparison.Ordinal))
        {
            throw new RnnFormatException(model, tensor.Name, $"external data location '{location}' resolves outside the model's directory");
        }

        try
        {
            var info = new FileInfo(full);
            if (!info.Exists)
            {
                throw new RnnFormatException(model, tensor.Name, $"external data file '{location}' does not exist beside the model");
            }

            if ((info.Attributes & FileAttributes.ReparsePoint) != 0)
            {
                throw new RnnFormatException(model, tensor.Name, $"external data file '{location}' is a link; external data is read only from regular files in the model's directory");
            }

            if (offset < 0 || length < 0 || offset > info.Length || length > info.Length - offset)
            {
                throw new RnnFormatException(model, tensor.Name, $"external data range [{offset}, {offset}+{length}) lies outside '{location}' ({info.Length} bytes)");
            }

            var bytes = new byte[length];
            using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read);
            stream.Seek(offset, SeekOrigin.Begin);
            int read = 0;
            while (read < bytes.Length)
            {
                int n = stream.Read(bytes, read, bytes.Length - read);
                if (n <= 0)
                {
                    throw new RnnFormatException(model, tensor.Name, $"external data file '{location}' ended early");
                }

                read += n;
            }

            return bytes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SecurityException)
        {
            throw new RnnFormatException(model, tensor.Name, $"cannot read external data file '{location}': {e.Message}");
        }
    }
}
#endif
