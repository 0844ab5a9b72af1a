using System;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using RnnEmbedded.Generators.Model;

namespace RnnEmbedded.Generators;

public sealed partial class RnnGenerator
{
    private const string CarrierMagic = "rnn-carrier/1";

    private static ModelRequest? ToRequest(AdditionalText file, AnalyzerConfigOptionsProvider options, CancellationToken ct)
    {
        AnalyzerConfigOptions o = options.GetOptions(file);
        if (!o.TryGetValue("build_metadata.AdditionalFiles.RnnClassName", out string? className) || string.IsNullOrEmpty(className))
        {
            return null;
        }

        o.TryGetValue("build_metadata.AdditionalFiles.RnnMaxVectorWidth", out string? width);
        o.TryGetValue("build_metadata.AdditionalFiles.RnnSourceFile", out string? source);
        o.TryGetValue("build_metadata.AdditionalFiles.RnnWeightType", out string? weightType);
        string text = file.GetText(ct)?.ToString() ?? "";
        return new ModelRequest(file.Path, className, width ?? "", string.IsNullOrEmpty(source) ? file.Path : source!, text, weightType ?? "");
    }

    /// <summary>
    /// Decodes a carrier: line 1 the magic, line 2 the weight file's path, line 3 the file in base64.
    /// Returns null and sets <paramref name="error"/> when the carrier is damaged.
    /// </summary>
    internal static byte[]? DecodeCarrier(string text, out string? error)
    {
        error = null;
        int first = text.IndexOf('\n');
        int second = first < 0 ? -1 : text.IndexOf('\n', first + 1);
        if (first < 0 || second < 0 || !string.Equals(text.Substring(0, first).TrimEnd('\r'), CarrierMagic, StringComparison.Ordinal))
        {
            error = $"the build bridge file does not start with '{CarrierMagic}'; import RnnEmbedded.targets (see docs/getting-started.md) instead of adding weight files to AdditionalFiles yourself.";
            return null;
        }

        string payload = text.Substring(second + 1).Trim();
        try
        {
            return Convert.FromBase64String(payload);
        }
        catch (FormatException)
        {
            error = "the build bridge file's base64 payload is damaged; delete the obj/ folder and rebuild.";
            return null;
        }
    }
}
