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

            byte[]? bytes = DecodeCarrier(request.CarrierText, out string? carrierError);
            if (bytes is null)
            {
                return Fail(hint, Diagnostics.BadCarrier, file, carrierError!);
            }

            ct.ThrowIfCancellationRequested();
            ModelSpec spec;
            try
            {
                spec = ModelBuilder.Build(SafeTensorsReader.Read(bytes, file));
            }
            catch (RnnFormatException e)
            {
                return Fail(hint, Diagnostics.InvalidWeightFile, file, e.Message);
            }

            ct.ThrowIfCancellationRequested();
            string source;
            try
            {
                source = CSharpEmitter.Emit(spec, new EmitOptions
                {
                    TypeName = request.ClassName,
                    MaxVectorWidth = width,
                    SourceName = System.IO.Path.GetFileName(file),
                    WeightType = weightType,
                });
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

            if (spec.Bidirectional)
            {
                diagnostics.Add(new DiagnosticInfo(Diagnostics.BidirectionalRunOnly.Id, file, $"{request.ClassName} is bidirectional: it has no Step; use the static {request.ClassName}.Run over whole sequences"));
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
