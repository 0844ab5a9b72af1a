using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace RnnEmbedded.Runtime.CompilerServices;

/// <summary>
/// Loads consecutive stored weights (bfloat16 or int8) and widens them to float32 in registers, so the quantized
/// matrix-vector kernels (<c>PackedGemv.Quantized.cs</c>) stream the narrow matrix once and never convert it
/// first (docs/kernels.md, "Quantized weights"). Each load reads exactly the weights it returns.
/// </summary>
internal interface IWeightWidening<TW>
    where TW : unmanaged
{
    /// <summary>p[0..16) as floats.</summary>
    static abstract Vector512<float> Load16(ref TW p);

    /// <summary>p[0..8) as floats.</summary>
    static abstract Vector256<float> Load8(ref TW p);

    /// <summary>p[0..4) as floats.</summary>
    static abstract Vector128<float> Load4(ref TW p);

    /// <summary>One weight as a float.</summary>
    static abstract float Load1(TW w);
}

/// <summary>
/// bfloat16: the upper 16 bits of a float32, so widening is a zero-extension to 32 bits and a shift left by 16
/// (exact).
/// </summary>
internal readonly struct BFloat16Widening : IWeightWidening<ushort>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(ref ushort p)
    {
        if (Avx512F.IsSupported)
        {
            return Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.LoadUnsafe(ref p)), 16).AsSingle();
        }

        return Vector512.Create(Load8(ref p), Load8(ref Unsafe.Add(ref p, 8)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ref ushort p)
    {
        if (Avx2.IsSupported)
        {
            return Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref p)), 16).AsSingle();
        }

        Vector128<ushort> v = Vector128.LoadUnsafe(ref p);
        return Vector256.Create(
            Vector128.ShiftLeft(Vector128.WidenLower(v), 16).AsSingle(),
            Vector128.ShiftLeft(Vector128.WidenUpper(v), 16).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load4(ref ushort p)
    {
        Vector128<ushort> v = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.As<ushort, byte>(ref p))).AsUInt16();
        if (AdvSimd.IsSupported)
        {
            // zip with zeros: (0, w) pairs are w << 16 on little-endian.
            return AdvSimd.Arm64.IsSupported
                ? AdvSimd.Arm64.ZipLow(Vector128<ushort>.Zero, v).AsSingle()
                : Vector128.ShiftLeft(Vector128.WidenLower(v), 16).AsSingle();
        }

        if (Sse41.IsSupported)
        {
            return Sse2.ShiftLeftLogical(Sse41.ConvertToVector128Int32(v), 16).AsSingle();
        }

        return Vector128.ShiftLeft(Vector128.WidenLower(v), 16).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(ushort w) => BitConverter.Int32BitsToSingle(w << 16);
}

/// <summary>int8: sign-extension to int32 and an exact conversion to float32 (|w| ≤ 127).</summary>
internal readonly struct Int8Widening : IWeightWidening<sbyte>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(ref sbyte p)
    {
        if (Avx512F.IsSupported)
        {
            return Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref p)));
        }

        return Vector512.Create(Load8(ref p), Load8(ref Unsafe.Add(ref p, 8)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ref sbyte p)
    {
        Vector128<sbyte> v = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(ref Unsafe.As<sbyte, byte>(ref p))).AsSByte();
        if (Avx2.IsSupported)
        {
            return Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(v));
        }

        Vector128<short> s = Vector128.WidenLower(v);
        return Vector256.Create(
            Vector128.ConvertToSingle(Vector128.WidenLower(s)),
            Vector128.ConvertToSingle(Vector128.WidenUpper(s)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load4(ref sbyte p)
    {
        Vector128<sbyte> v = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref p))).AsSByte();
        if (Sse41.IsSupported)
        {
            return Sse2.ConvertToVector128Single(Sse41.ConvertToVector128Int32(v));
        }

        return Vector128.ConvertToSingle(Vector128.WidenLower(Vector128.WidenLower(v)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(sbyte w) => w;
}
