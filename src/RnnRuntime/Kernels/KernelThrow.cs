using System.Diagnostics.CodeAnalysis;

namespace RnnEmbedded.Runtime.Kernels;

/// <summary>Throw helpers kept out of line so the kernels' fast paths stay small.</summary>
internal static class KernelThrow
{
    [DoesNotReturn]
    public static void Length(string argument, string rule) =>
        throw new ArgumentException($"{argument}: {rule}", argument);

    [DoesNotReturn]
    public static void Overlap(string argument, string other) =>
        throw new ArgumentException($"{argument}: must not overlap {other} (only the documented in-place uses may share memory).", argument);

    [DoesNotReturn]
    public static void OutOfRange(string argument, string rule) =>
        throw new ArgumentOutOfRangeException(argument, $"{argument}: {rule}");

    [DoesNotReturn]
    public static void UndefinedWidth(VectorWidth width) =>
        throw new ArgumentOutOfRangeException("width", $"width: {(int)width} is not a VectorWidth (Scalar, V128, V256 or V512).");

    [DoesNotReturn]
    public static void UndefinedActivation(ActivationKind kind) =>
        throw new ArgumentOutOfRangeException("activation", $"activation: {(int)kind} is not an ActivationKind (Tanh, Relu or Sigmoid).");
}
