using System.Diagnostics.CodeAnalysis;

namespace RnnEmbedded.Runtime;

/// <summary>Throw helpers used by generated models, so their hot paths stay small and allocation-free.</summary>
public static class ModelGuard
{
    [DoesNotReturn]
    public static void ThrowToken(int token, int vocabularySize) =>
        throw new ArgumentOutOfRangeException(nameof(token), token, $"token must be in [0, {vocabularySize}).");

    [DoesNotReturn]
    public static void ThrowOutput(string argument, int length, int required) =>
        throw new ArgumentException($"{argument} has {length} elements; the model writes {required}.", argument);

    [DoesNotReturn]
    public static void ThrowInput(string argument, int length, int required) =>
        throw new ArgumentException($"{argument} has {length} elements; the model needs {required} per step.", argument);
}
