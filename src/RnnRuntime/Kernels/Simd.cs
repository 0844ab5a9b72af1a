using System.Runtime.Intrinsics;

namespace RnnEmbedded.Runtime.Kernels;

/// <summary>SIMD register width a kernel runs at. The numeric value is the width in bits (Scalar = 0).</summary>
public enum VectorWidth
{
    Scalar = 0,
    V128 = 128,
    V256 = 256,
    V512 = 512,
}

/// <summary>
/// Which vector widths this machine runs in hardware. Every kernel takes a <see cref="VectorWidth"/> as a
/// <em>cap</em> and runs at <c>Resolve(cap)</c>, so generated code can pass a compile-time constant and still
/// run on a narrower machine (an ARM board reaches the Vector128 path). <see cref="Best"/> folds to a constant
/// in optimized JIT and NativeAOT code, so the width dispatch costs nothing.
/// </summary>
public static class Simd
{
    /// <summary>
    /// The widest width whose <c>VectorNNN.IsHardwareAccelerated</c> is true (fused multiply-add is used where the
    /// ISA has it — FMA3, AVX-512F, AdvSimd — and multiply + add otherwise).
    /// </summary>
    public static VectorWidth Best =>
        Vector512.IsHardwareAccelerated ? VectorWidth.V512
        : Vector256.IsHardwareAccelerated ? VectorWidth.V256
        : Vector128.IsHardwareAccelerated ? VectorWidth.V128
        : VectorWidth.Scalar;

    /// <summary>min(<paramref name="cap"/>, <see cref="Best"/>). Throws for a value that is not a defined width.</summary>
    public static VectorWidth Resolve(VectorWidth cap)
    {
        if (cap != VectorWidth.Scalar && cap != VectorWidth.V128 && cap != VectorWidth.V256 && cap != VectorWidth.V512)
        {
            KernelThrow.UndefinedWidth(cap);
        }

        VectorWidth best = Best;
        return cap < best ? cap : best;
    }

    /// <summary>True when <paramref name="width"/> runs in hardware here (Scalar always does).</summary>
    public static bool IsSupported(VectorWidth width) => width <= Best;
}
