namespace RnnEmbedded.Compiler.Formats;

/// <summary>
/// Bit-exact widening of 16-bit floats to float32 (netstandard2.0 has no System.Half).
/// Every F16 and BF16 value is exactly representable as a float32, so no rounding happens.
/// </summary>
public static class FloatConversion
{
    /// <summary>IEEE 754 binary16 (1 sign, 5 exponent, 10 mantissa bits) → float32. NaN payloads are kept.</summary>
    public static float HalfToSingle(ushort bits)
    {
        uint sign = (uint)(bits & 0x8000) << 16;
        int exponent = (bits >> 10) & 0x1F;
        uint mantissa = (uint)bits & 0x3FF;

        if (exponent == 0)
        {
            // Zero or subnormal: mantissa × 2^-24, exact in float32 (mantissa < 2^10).
            float magnitude = mantissa * 5.9604644775390625e-8f; // 2^-24
            return sign != 0 ? -magnitude : magnitude;
        }

        if (exponent == 0x1F)
        {
            // ±Inf (mantissa 0) or NaN (payload moved to the top of the float32 mantissa).
            return BitsToSingle(sign | 0x7F800000u | (mantissa << 13));
        }

        // Normal: rebias the exponent from 15 to 127.
        return BitsToSingle(sign | ((uint)(exponent + 112) << 23) | (mantissa << 13));
    }

    /// <summary>bfloat16 (the top 16 bits of a float32) → float32.</summary>
    public static float BFloat16ToSingle(ushort bits) => BitsToSingle((uint)bits << 16);

    /// <summary>Reinterprets 32 bits as a float32.</summary>
    public static unsafe float BitsToSingle(uint bits) => *(float*)&bits;

    /// <summary>Reinterprets a float32 as its 32 bits.</summary>
    public static unsafe uint SingleToBits(float value) => *(uint*)&value;
}
