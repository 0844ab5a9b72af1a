// Shared source: the one set of throw helpers, compiled into RnnEmbedded.Runtime (kernels, decoders and the
// ModelGuard that generated code calls) and into RnnEmbedded.Compiler and the generator (PanelPacking).
// Kept out of line so hot paths stay small and free of string formatting.
using System;
using System.Diagnostics.CodeAnalysis;

#if RNN_RUNTIME
namespace RnnEmbedded.Runtime;
#else
namespace RnnEmbedded.Compiler;
#endif

internal static class ThrowHelper
{
    // ---- arguments: "<argument>: <rule>" ----------------------------------------------------------------

    /// <summary>ArgumentException "argument: rule" (a length or shape rule).</summary>
    [DoesNotReturn]
    public static void Length(string argument, string rule) =>
        throw new ArgumentException($"{argument}: {rule}", argument);

    /// <summary>ArgumentOutOfRangeException "argument: rule".</summary>
    [DoesNotReturn]
    public static void OutOfRange(string argument, string rule) =>
        throw new ArgumentOutOfRangeException(argument, $"{argument}: {rule}");

    [DoesNotReturn]
    public static void Overlap(string argument, string other) =>
        throw new ArgumentException($"{argument}: must not overlap {other} (only the documented in-place uses may share memory).", argument);

    // ---- decoding: the rule is the whole message --------------------------------------------------------

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

    // ---- generated models (through ModelGuard) ----------------------------------------------------------

    [DoesNotReturn]
    public static void ModelToken(int token, int vocabularySize) =>
        throw new ArgumentOutOfRangeException(nameof(token), token, $"token must be in [0, {vocabularySize}).");

    [DoesNotReturn]
    public static void ModelOutput(string argument, int length, int required) =>
        throw new ArgumentException($"{argument} has {length} elements; the model writes {required}.", argument);

    [DoesNotReturn]
    public static void ModelInput(string argument, int length, int required) =>
        throw new ArgumentException($"{argument} has {length} elements; the model needs {required} per step.", argument);
}
