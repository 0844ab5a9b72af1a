namespace RnnEmbedded.Runtime;

/// <summary>
/// SIMD register width a kernel runs at. The numeric value is the width in bits (Scalar = 0). A generated model's
/// static <c>VectorWidth</c> property reports the width it runs at on this machine: the build's
/// <c>MaxVectorWidth</c> cap, limited by what the hardware accelerates.
/// </summary>
public enum VectorWidth
{
    /// <summary>No vectors: one float at a time.</summary>
    Scalar = 0,

    /// <summary><see cref="System.Runtime.Intrinsics.Vector128{T}"/>: SSE, ARM AdvSimd (NEON).</summary>
    V128 = 128,

    /// <summary><see cref="System.Runtime.Intrinsics.Vector256{T}"/>: AVX2.</summary>
    V256 = 256,

    /// <summary><see cref="System.Runtime.Intrinsics.Vector512{T}"/>: AVX-512F.</summary>
    V512 = 512,
}
