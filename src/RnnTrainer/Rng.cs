namespace RnnEmbedded.Trainer;

/// <summary>
/// A small deterministic generator (xoshiro256**, seeded by SplitMix64) whose whole state is four ulongs, so a
/// checkpoint can store it and a resumed run draws exactly the same numbers.
/// </summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;

    public Rng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    public ulong[] State
    {
        get => new[] { _s0, _s1, _s2, _s3 };
        set
        {
            if (value is null || value.Length != 4)
            {
                throw new ArgumentException("An Rng state is four ulongs.", nameof(value));
            }

            (_s0, _s1, _s2, _s3) = (value[0], value[1], value[2], value[3]);
        }
    }

    public ulong NextULong()
    {
        ulong result = RotL(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotL(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 24 bits.</summary>
    public float NextFloat() => (NextULong() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform in [0, 1) with 53 bits.</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Standard normal (Box–Muller).</summary>
    public float NextGaussian()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }

    private static ulong RotL(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
