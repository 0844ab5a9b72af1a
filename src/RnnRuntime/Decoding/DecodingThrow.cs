using System.Diagnostics.CodeAnalysis;

namespace RnnEmbedded.Runtime;

/// <summary>Throw helpers for the decoding runtime: keep hot paths small and free of string formatting.</summary>
internal static class DecodingThrow
{
    [DoesNotReturn]
    public static void Argument(string argument, string rule) => throw new ArgumentException(rule, argument);

    [DoesNotReturn]
    public static void OutOfRange(string argument, object? value, string rule) =>
        throw new ArgumentOutOfRangeException(argument, value, rule);

    [DoesNotReturn]
    public static void Token(string argument, int token, int vocabularySize) =>
        throw new ArgumentOutOfRangeException(argument, token, $"{argument} must be a token id in [0, {vocabularySize}).");

    [DoesNotReturn]
    public static void TooShort(string argument, int length, int required) =>
        throw new ArgumentException($"{argument} has {length} elements; at least {required} are needed.", argument);

    [DoesNotReturn]
    public static void Length(string argument, int length, int required) =>
        throw new ArgumentException($"{argument} has {length} elements; exactly {required} are needed.", argument);

    [DoesNotReturn]
    public static void BadLogit(string argument, int index, float value) =>
        throw new ArgumentException(
            $"{argument}[{index}] is {value}; logits must be finite or -Infinity (NaN and +Infinity are rejected).",
            argument);

    [DoesNotReturn]
    public static void AllNegativeInfinity(string argument) =>
        throw new ArgumentException($"every element of {argument} is -Infinity; the distribution is undefined.", argument);

    [DoesNotReturn]
    public static void Empty(string argument) =>
        throw new ArgumentException($"{argument} is empty; at least one element is needed.", argument);
}
