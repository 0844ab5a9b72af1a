using System.ComponentModel;
using System.Runtime.Intrinsics;

namespace RnnEmbedded.Runtime.CompilerServices;

/// <summary>
/// Which vector widths this machine runs in hardware. Every kernel takes a <see cref="VectorWidth"/> as a
/// <em>cap</em> and runs at <c>Resolve(cap)</c>, so generated code can pass a compile-time constant and still
/// run on a narrower machine (an ARM board reaches the Vector128 path). <see cref="Best"/> folds to a constant
/// in optimized JIT and NativeAOT code, so the width dispatch costs nothing.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Simd
{
    /// <summary>
    /// The widest width whose <c>VectorNNN.IsHardwareAccelerated</c> is true (fused multiply-add is used where the
    /// ISA has it — FMA3, AVX-512F, AdvSimd — and multiply + add otherwise).
    /// </summary>
    internal static VectorWidth Best =>
        Vector512.IsHardwareAccelerated ? VectorWidth.V512
        : Vector256.IsHardwareAccelerated ? VectorWidth.V256
        : Vector128.IsHardwareAccelerated ? VectorWidth.V128
        : VectorWidth.Scalar;

    /// <summary>min(<paramref name="cap"/>, <see cref="Best"/>): the width a kernel given <paramref name="cap"/> runs at.</summary>
    /// <param name="cap">The widest width the caller allows.</param>
    /// <returns>The width to run at on this machine.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cap"/> is not a defined <see cref="VectorWidth"/>.</exception>
    public static VectorWidth Resolve(VectorWidth cap)
    {
        if (cap != VectorWidth.Scalar && cap != VectorWidth.V128 && cap != VectorWidth.V256 && cap != VectorWidth.V512)
        {
            ThrowHelper.OutOfRange("width", $"{(int)cap} is not a VectorWidth (Scalar, V128, V256 or V512).");
        }

        VectorWidth best = Best;
        return cap < best ? cap : best;
    }

    /// <summary>True when <paramref name="width"/> runs in hardware here (Scalar always does).</summary>
    internal static bool IsSupported(VectorWidth width) => width <= Best;
}
