using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnEmbedded.Runtime.CompilerServices;

/// <summary>
/// Pointwise exp, sigmoid, tanh and relu. Span overloads run at <c>Simd.Resolve(width)</c> over any length ≥ 0
/// (full vectors, then one overlapped last vector; lengths below one vector fall to the next narrower width).
/// In place: pass one span. Out of place: <c>destination.Length == source.Length</c> and the two spans are the
/// same memory or do not overlap. The per-value overloads (<see cref="float"/>, <see cref="Vector128{T}"/>,
/// <see cref="Vector256{T}"/>, <see cref="Vector512{T}"/>) are the same functions for generated code to inline.
/// Accuracy (docs/kernels.md): |sigmoid − σ| and |tanh − tanh| ≤ 1e-6 absolute on all finite inputs; exp is
/// within a few ulp on [−87.3, 88.3] and clamps outside it (finite, never NaN, for ±∞).
/// </summary>
[SkipLocalsInit]
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Activations
{
    // ---- span kernels ---------------------------------------------------------------------------------

    /// <summary>In place: values[i] = e^x.</summary>
    /// <param name="values">The values to transform, any length.</param>
    /// <param name="width">The widest vector width to use (see <see cref="Simd.Resolve"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Exp(Span<float> values, VectorWidth width) => Apply<ExpFunction>(values, values, width);

    /// <summary>destination[i] = e^x of source[i].</summary>
    /// <param name="source">The inputs, any length.</param>
    /// <param name="destination">The outputs: same length as <paramref name="source"/>, the same memory or not overlapping it.</param>
    /// <param name="width">The widest vector width to use (see <see cref="Simd.Resolve"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Exp(ReadOnlySpan<float> source, Span<float> destination, VectorWidth width) => Apply<ExpFunction>(source, destination, width);

    /// <summary>In place: values[i] = σ(x) = 1 / (1 + e^−x).</summary>
    /// <param name="values">The values to transform, any length.</param>
    /// <param name="width">The widest vector width to use (see <see cref="Simd.Resolve"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sigmoid(Span<float> values, VectorWidth width) => Apply<SigmoidFunction>(values, values, width);

    /// <summary>destination[i] = σ(x) = 1 / (1 + e^−x) of source[i].</summary>
    /// <param name="source">The inputs, any length.</param>
    /// <param name="destination">The outputs: same length as <paramref name="source"/>, the same memory or not overlapping it.</param>
    /// <param name="width">The widest vector width to use (see <see cref="Simd.Resolve"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sigmoid(ReadOnlySpan<float> source, Span<float> destination, VectorWidth width) => Apply<SigmoidFunction>(source, destination, width);

    /// <summary>In place: values[i] = tanh(x).</summary>
    /// <param name="values">The values to transform, any length.</param>
    /// <param name="width">The widest vector width to use (see <see cref="Simd.Resolve"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tanh(Span<float> values, VectorWidth width) => Apply<TanhFunction>(values, values, width);

    /// <summary>destination[i] = tanh(x) of source[i].</summary>
    /// <param name="source">The inputs, any length.</param>
    /// <param name="destination">The outputs: same length as <paramref name="source"/>, the same memory or not overlapping it.</param>
    /// <param name="width">The widest vector width to use (see <see cref="Simd.Resolve"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tanh(ReadOnlySpan<float> source, Span<float> destination, VectorWidth width) => Apply<TanhFunction>(source, destination, width);

    /// <summary>In place: values[i] = max(x, 0).</summary>
    /// <param name="values">The values to transform, any length.</param>
    /// <param name="width">The widest vector width to use (see <see cref="Simd.Resolve"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Relu(Span<float> values, VectorWidth width) => Apply<ReluFunction>(values, values, width);

    /// <summary>destination[i] = max(x, 0) of source[i].</summary>
    /// <param name="source">The inputs, any length.</param>
    /// <param name="destination">The outputs: same length as <paramref name="source"/>, the same memory or not overlapping it.</param>
    /// <param name="width">The widest vector width to use (see <see cref="Simd.Resolve"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Relu(ReadOnlySpan<float> source, Span<float> destination, VectorWidth width) => Apply<ReluFunction>(source, destination, width);

    /// <summary>In place: values = act(values).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Apply(ActivationKind activation, Span<float> values, VectorWidth width) => Apply(activation, values, values, width);

    /// <summary>destination = act(source).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Apply(ActivationKind activation, ReadOnlySpan<float> source, Span<float> destination, VectorWidth width)
    {
        switch (activation)
        {
            case ActivationKind.Tanh:
                Apply<TanhFunction>(source, destination, width);
                break;
            case ActivationKind.Relu:
                Apply<ReluFunction>(source, destination, width);
                break;
            case ActivationKind.Sigmoid:
                Apply<SigmoidFunction>(source, destination, width);
                break;
            default:
                ThrowHelper.OutOfRange(nameof(activation), $"{(int)activation} is not an ActivationKind (Tanh, Relu or Sigmoid).");
                break;
        }
    }

    // ---- per-value functions (inlinable) -------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Exp(float x) => VectorMath.Exp<ScalarOps, float>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Exp(Vector128<float> x) => VectorMath.Exp<V128Ops, Vector128<float>>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Exp(Vector256<float> x) => VectorMath.Exp<V256Ops, Vector256<float>>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Exp(Vector512<float> x) => VectorMath.Exp<V512Ops, Vector512<float>>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Sigmoid(float x) => VectorMath.Sigmoid<ScalarOps, float>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Sigmoid(Vector128<float> x) => VectorMath.Sigmoid<V128Ops, Vector128<float>>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Sigmoid(Vector256<float> x) => VectorMath.Sigmoid<V256Ops, Vector256<float>>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Sigmoid(Vector512<float> x) => VectorMath.Sigmoid<V512Ops, Vector512<float>>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Tanh(float x) => VectorMath.Tanh<ScalarOps, float>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Tanh(Vector128<float> x) => VectorMath.Tanh<V128Ops, Vector128<float>>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Tanh(Vector256<float> x) => VectorMath.Tanh<V256Ops, Vector256<float>>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Tanh(Vector512<float> x) => VectorMath.Tanh<V512Ops, Vector512<float>>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Relu(float x) => VectorMath.Relu<ScalarOps, float>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Relu(Vector128<float> x) => VectorMath.Relu<V128Ops, Vector128<float>>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Relu(Vector256<float> x) => VectorMath.Relu<V256Ops, Vector256<float>>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Relu(Vector512<float> x) => VectorMath.Relu<V512Ops, Vector512<float>>(x);

    // ---- loops ----------------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Apply<TFunction>(ReadOnlySpan<float> source, Span<float> destination, VectorWidth width)
        where TFunction : IUnaryFunction
    {
        if (destination.Length != source.Length)
        {
            ThrowHelper.Length(nameof(destination), $"length {destination.Length} must equal source length {source.Length}.");
        }

        if (source.Overlaps(destination, out int offset) && offset != 0)
        {
            ThrowHelper.Overlap(nameof(destination), nameof(source));
        }

        width = Simd.Resolve(width);
        int n = source.Length;
        ref float x = ref MemoryMarshal.GetReference(source);
        ref float y = ref MemoryMarshal.GetReference(destination);
        if (width == VectorWidth.V512 && n >= Vector512<float>.Count)
        {
            Loop<TFunction, V512Ops, Vector512<float>>(ref x, ref y, (nuint)n);
        }
        else if (width >= VectorWidth.V256 && n >= Vector256<float>.Count)
        {
            Loop<TFunction, V256Ops, Vector256<float>>(ref x, ref y, (nuint)n);
        }
        else if (width >= VectorWidth.V128 && n >= Vector128<float>.Count)
        {
            Loop<TFunction, V128Ops, Vector128<float>>(ref x, ref y, (nuint)n);
        }
        else if (n > 0)
        {
            Loop<TFunction, ScalarOps, float>(ref x, ref y, (nuint)n);
        }
    }

    // n ≥ TOps.Count. The overlapped last vector is loaded before the loop, so in-place use stays correct.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Loop<TFunction, TOps, TV>(ref float x, ref float y, nuint n)
        where TFunction : IUnaryFunction
        where TOps : ISimdOps<TV>
        where TV : struct
    {
        nuint count = (nuint)TOps.Count;
        nuint last = n - count;
        TV tail = TOps.Load(ref x, last);
        for (nuint k = 0; k < last; k += count)
        {
            TOps.Store(TFunction.Invoke<TOps, TV>(TOps.Load(ref x, k)), ref y, k);
        }

        TOps.Store(TFunction.Invoke<TOps, TV>(tail), ref y, last);
    }
}
