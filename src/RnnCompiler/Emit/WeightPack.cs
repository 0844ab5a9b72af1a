using System;
using System.Globalization;
using System.IO;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Emit;

/// <summary>
/// The build step of the resource route (docs/generator.md, "Weights: manifest resources"): reads a weight file,
/// plans it, writes its weight blob (embedded by RnnEmbedded.targets as a manifest resource) and returns the
/// carrier, a small text file the generator reads instead of the weights: the file's header (shapes and
/// metadata), the data section's length and the blob's name, length and layout fingerprint. No file I/O here:
/// the caller owns the files (this code is also compiled into the generator, which may not touch files).
/// </summary>
public static class WeightPack
{
    /// <summary>Line 1 of a resource-route carrier.</summary>
    public const string CarrierMagic = "rnn-carrier/2";

    /// <summary>
    /// Validates <paramref name="weightFile"/> completely (every format rule, data included), writes its blob to
    /// <paramref name="blob"/> and returns the carrier text.
    /// </summary>
    /// <exception cref="RnnFormatException">The file breaks a format rule.</exception>
    /// <exception cref="CSharpEmitter.EmitException">The model cannot be emitted (bad type name, too large, …).</exception>
    public static string Pack(byte[] weightFile, string sourcePath, string typeName, Stream blob) =>
        Pack(weightFile, sourcePath, typeName, "", blob);

    /// <summary>
    /// As <see cref="Pack(byte[], string, string, Stream)"/>, with the streamed matrices in <paramref name="weightType"/>
    /// (float32, bfloat16, int8 or int8-dynamic; empty means float32; docs/model-format.md, "Weight types"): quantized by the same
    /// planner entries the generator lays out, so the layout fingerprint agrees when both see the same RnnWeightType.
    /// </summary>
    /// <exception cref="CSharpEmitter.EmitException">Also with code "bad-weight-type" for an unknown weight type.</exception>
    public static string Pack(byte[] weightFile, string sourcePath, string typeName, string weightType, Stream blob)
    {
        if (!WeightTypes.TryParse(weightType, out WeightType type))
        {
            throw new CSharpEmitter.EmitException("bad-weight-type", $"WeightType '{weightType}' must be one of {WeightTypes.Names}");
        }

        if (sourcePath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            // ONNX (docs/model-format.md, "ONNX import"): packed as the canonical safetensors it converts to; the build
            // never reads external data.
            WeightFile imported = Formats.Onnx.OnnxImporter.Import(weightFile, sourcePath);
            weightFile = SafeTensorsWriter.Write(imported.Tensors, imported.Metadata);
        }

        ModelSpec spec = ModelBuilder.Build(SafeTensorsReader.Read(weightFile, sourcePath));
        ModelPlan plan = ModelPlanner.Plan(spec, new EmitOptions { TypeName = typeName, Storage = WeightStorage.Resource, WeightType = type });
        WeightLayout.Write(plan, blob);
        long prefix = SafeTensorsReader.HeaderPrefixLength(weightFile);
        var header = new byte[prefix];
        Array.Copy(weightFile, header, prefix);
        return Carrier(sourcePath, header, weightFile.LongLength - prefix, plan.Resource!);
    }

    /// <summary>The carrier's text (one field per line, the header last, in base64).</summary>
    public static string Carrier(string sourcePath, byte[] headerPrefix, long dataLength, WeightResourcePlan resource) =>
        CarrierMagic + "\n" + sourcePath + "\n" + resource.Name + "\n"
        + resource.Length.ToString(CultureInfo.InvariantCulture) + " " + resource.Fingerprint.ToString("x16", CultureInfo.InvariantCulture) + "\n"
        + dataLength.ToString(CultureInfo.InvariantCulture) + "\n"
        + Convert.ToBase64String(headerPrefix) + "\n";

    /// <summary>Parses a carrier written by <see cref="Carrier"/>; returns null and an error naming the problem when it is damaged.</summary>
    public static PackedModel? ParseCarrier(string text, out string? error)
    {
        error = null;
        string[] lines = text.Split('\n');
        if (lines.Length < 6 || lines[0].TrimEnd('\r') != CarrierMagic)
        {
            error = $"the build bridge file does not start with '{CarrierMagic}' and six lines; delete the obj/ folder and rebuild.";
            return null;
        }

        string[] blob = lines[3].TrimEnd('\r').Split(' ');
        if (blob.Length != 2
            || !long.TryParse(blob[0], NumberStyles.None, CultureInfo.InvariantCulture, out long length)
            || !ulong.TryParse(blob[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong fingerprint)
            || !long.TryParse(lines[4].TrimEnd('\r'), NumberStyles.None, CultureInfo.InvariantCulture, out long dataLength))
        {
            error = "the build bridge file's blob line is damaged; delete the obj/ folder and rebuild.";
            return null;
        }

        byte[] header;
        try
        {
            header = Convert.FromBase64String(lines[5].Trim());
        }
        catch (FormatException)
        {
            error = "the build bridge file's header is not base64; delete the obj/ folder and rebuild.";
            return null;
        }

        return new PackedModel(lines[1].TrimEnd('\r'), header, dataLength, new WeightResourcePlan { Name = lines[2].TrimEnd('\r'), Length = length, Fingerprint = fingerprint });
    }
}

/// <summary>What a resource-route carrier says: the weight file, its header prefix and data length, and the blob.</summary>
public sealed class PackedModel
{
    public PackedModel(string sourcePath, byte[] headerPrefix, long dataLength, WeightResourcePlan resource)
    {
        SourcePath = sourcePath;
        HeaderPrefix = headerPrefix;
        DataLength = dataLength;
        Resource = resource;
    }

    public string SourcePath { get; }

    /// <summary>The weight file's first 8 + N bytes (length and JSON header).</summary>
    public byte[] HeaderPrefix { get; }

    public long DataLength { get; }

    /// <summary>The blob as the build step packed it.</summary>
    public WeightResourcePlan Resource { get; }
}
