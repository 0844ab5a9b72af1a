using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Generators.Model;

namespace RnnEmbedded.Generators;

public sealed partial class RnnGenerator
{
    internal static GenerationResult Generate(ModelRequest request, CancellationToken ct)
    {
        var diagnostics = new List<DiagnosticInfo>();
        string hint = HintName(request.ClassName, request.CarrierPath);
        string file = request.SourceFile;
        try
        {
            int width;
            if (request.MaxVectorWidth.Length == 0)
            {
                width = 512;
            }
            else if (!int.TryParse(request.MaxVectorWidth, NumberStyles.None, CultureInfo.InvariantCulture, out width) || (width != 512 && width != 256 && width != 128 && width != 0))
            {
                return Fail(hint, Diagnostics.InvalidWidth, file, $"MaxVectorWidth '{request.MaxVectorWidth}' must be 512, 256, 128 or 0 (scalar)");
            }

            if (!WeightTypes.TryParse(request.WeightType, out WeightType weightType))
            {
                return Fail(hint, Diagnostics.InvalidWeightType, file, $"WeightType '{request.WeightType}' must be one of {WeightTypes.Names}");
            }

            // Resource route (what RnnEmbedded.targets writes): the carrier holds the header only, the weights are a
            // manifest resource. Literal route (carrier/1, the whole file in base64): weights as string literals.
            PackedModel? packed = null;
            byte[]? bytes = null;
            string? carrierError;
            if (request.CarrierText.StartsWith(WeightPack.CarrierMagic, StringComparison.Ordinal))
            {
                packed = WeightPack.ParseCarrier(request.CarrierText, out carrierError);
            }
            else
            {
                bytes = DecodeCarrier(request.CarrierText, out carrierError);
            }

            if (packed is null && bytes is null)
            {
                return Fail(hint, Diagnostics.BadCarrier, file, carrierError!);
            }

            ct.ThrowIfCancellationRequested();
            ModelSpec spec;
            try
            {
                // ONNX by the source's extension (docs/model-format.md, "ONNX import"): external data is never read here.
                spec = ModelBuilder.Build(packed is null
                    ? file.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)
                        ? Compiler.Formats.Onnx.OnnxImporter.Import(bytes!, file)
                        : SafeTensorsReader.Read(bytes!, file)
                    : SafeTensorsReader.ReadHeader(packed.HeaderPrefix, packed.DataLength, file));
            }
            catch (RnnFormatException e)
            {
                return Fail(hint, Diagnostics.InvalidWeightFile, file, e.Message);
            }

            ct.ThrowIfCancellationRequested();
            string source;
            try
            {
                ModelPlan plan = ModelPlanner.Plan(spec, new EmitOptions
                {
                    TypeName = request.ClassName,
                    MaxVectorWidth = width,
                    SourceName = System.IO.Path.GetFileName(file),
                    WeightType = weightType,
                    Storage = packed is null ? WeightStorage.Literals : WeightStorage.Resource,
                    ResourceName = packed?.Resource.Name,
                });
                if (packed is not null && (plan.Resource!.Length != packed.Resource.Length || plan.Resource.Fingerprint != packed.Resource.Fingerprint))
                {
                    return Fail(hint, Diagnostics.BadCarrier, file, $"the weight blob was packed for another layout ({packed.Resource.Length} bytes, {packed.Resource.Fingerprint:x16}; this generator plans {plan.Resource.Length} bytes, {plan.Resource.Fingerprint:x16}): the build step and the generator come from different RnnEmbedded versions; delete the obj/ folder and rebuild.");
                }

                source = SourceWriter.Write(plan);
            }
            catch (CSharpEmitter.EmitException e)
            {
                var descriptor = e.Code switch
                {
                    "bad-name" => Diagnostics.InvalidClassName,
                    "too-large" => Diagnostics.TooLarge,
                    "bad-width" => Diagnostics.InvalidWidth,
                    _ => Diagnostics.Unsupported,
                };
                return Fail(hint, descriptor, file, $"{file}: {e.Message}");
            }

            if (spec.RunOnly)
            {
                string why = spec.Bidirectional ? "is bidirectional" : "runs its layers in reverse";
                diagnostics.Add(new DiagnosticInfo(Diagnostics.BidirectionalRunOnly.Id, file, $"{request.ClassName} {why}: it has no Step; use the static {request.ClassName}.Run over whole sequences"));
            }

            return new GenerationResult(hint, source, new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()));
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            // The generator never throws: anything unexpected becomes a diagnostic.
            return Fail(hint, Diagnostics.Internal, file, $"{file}: {e.GetType().Name}: {e.Message}");
        }
    }

    private static GenerationResult Fail(string hint, Microsoft.CodeAnalysis.DiagnosticDescriptor d, string file, string message) =>
        new(hint, null, new EquatableArray<DiagnosticInfo>(new[] { new DiagnosticInfo(d.Id, file, message) }));

    /// <summary>The class name plus a hash of the carrier's path, so two items can never collide in AddSource.</summary>
    private static string HintName(string className, string carrierPath)
    {
        var sb = new System.Text.StringBuilder(className.Length + 16);
        foreach (char ch in className)
        {
            sb.Append(char.IsLetterOrDigit(ch) || ch == '.' || ch == '_' ? ch : '_');
        }

        uint hash = 2166136261; // FNV-1a: stable across processes, unlike string.GetHashCode
        foreach (char ch in carrierPath)
        {
            hash = unchecked((hash ^ ch) * 16777619);
        }

        return sb.Append('.').Append(hash.ToString("x8", CultureInfo.InvariantCulture)).Append(".g.cs").ToString();
    }
}
