using System;

namespace RnnEmbedded.Compiler.Formats;

/// <summary>
/// A weight file (or the model it describes) broke a rule. The message always names the file, the tensor
/// when there is one, and the rule: "model.safetensors: tensor 'rnn.weight_hh_l0': shape [4, 3] ... ".
/// </summary>
public sealed class RnnFormatException : Exception
{
    public RnnFormatException(string fileName, string? tensorName, string rule)
        : base(Format(fileName, tensorName, rule))
    {
        FileName = fileName;
        TensorName = tensorName;
        Rule = rule;
    }

    /// <summary>The file as the caller named it.</summary>
    public string FileName { get; }

    /// <summary>The tensor (or metadata key) at fault, or null when the fault is file-wide.</summary>
    public string? TensorName { get; }

    /// <summary>The rule broken, as a sentence.</summary>
    public string Rule { get; }

    private static string Format(string fileName, string? tensorName, string rule) =>
        tensorName is null ? $"{fileName}: {rule}" : $"{fileName}: tensor '{tensorName}': {rule}";
}
