using System.Numerics;

namespace RnnEmbedded.Runtime;

/// <summary>
/// The decoding runtime's random number generator: xoshiro128** 1.1 (Blackman &amp; Vigna, 2018,
/// https://prng.di.unimi.it/xoshiro128starstar.c), seeded from one 64-bit seed through SplitMix64
/// (https://prng.di.unimi.it/splitmix64.c). Pure integer arithmetic, so the same seed gives the same
/// sequence on every platform and runtime. A mutable value type: copy it to fork a stream, pass it by
/// <c>ref</c> to advance it.
/// </summary>
/// <remarks>
/// Seeding: <c>x = seed</c>; two SplitMix64 outputs a, b; state = (lo32(a), hi32(a), lo32(b), hi32(b)).
/// (An all-zero state, which SplitMix64 never produces from two consecutive outputs in practice, is replaced
/// by the seed-0 state so the generator can never get stuck.)
/// Step: <c>result = rotl(s1 · 5, 7) · 9; t = s1 &lt;&lt; 9; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
/// s3 = rotl(s3, 11)</c>.
/// Derived values: <see cref="NextSingle"/> = (next &gt;&gt; 8) · 2⁻²⁴ in [0, 1);
/// <see cref="NextDouble"/> = ((next &gt;&gt; 5) · 2²⁶ + (next &gt;&gt; 6)) · 2⁻⁵³ in [0, 1) (two draws);
/// <see cref="NextInt32(int)"/> = Lemire's multiply-shift with rejection (unbiased).
/// </remarks>
public struct Xoshiro128StarStar
{
    private uint _s0;
    private uint _s1;
    private uint _s2;
    private uint _s3;

    /// <summary>Seeds the four state words from two SplitMix64 outputs of <paramref name="seed"/>.</summary>
    public Xoshiro128StarStar(ulong seed)
    {
        ulong x = seed;
        ulong a = SplitMix64(ref x);
        ulong b = SplitMix64(ref x);
        _s0 = (uint)a;
        _s1 = (uint)(a >> 32);
        _s2 = (uint)b;
        _s3 = (uint)(b >> 32);
        if ((_s0 | _s1 | _s2 | _s3) == 0)
        {
            this = new Xoshiro128StarStar(0);
        }
    }

    /// <summary>Uses the given state words directly (for tests against the reference C code). Not all zero.</summary>
    public Xoshiro128StarStar(uint s0, uint s1, uint s2, uint s3)
    {
        if ((s0 | s1 | s2 | s3) == 0)
        {
            ThrowHelper.Argument(nameof(s0), "the xoshiro128** state must not be all zero.");
        }

        _s0 = s0;
        _s1 = s1;
        _s2 = s2;
        _s3 = s3;
    }

    /// <summary>One SplitMix64 step: advances <paramref name="x"/> by the golden gamma and returns the mixed value.</summary>
    public static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 32 random bits.</summary>
    public uint NextUInt32()
    {
        uint result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        uint t = _s1 << 9;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 11);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 24 random bits (one draw).</summary>
    public float NextSingle() => (NextUInt32() >> 8) * (1.0f / 16777216.0f);

    /// <summary>Uniform in [0, 1) with 53 random bits (two draws).</summary>
    public double NextDouble()
    {
        uint a = NextUInt32() >> 5;
        uint b = NextUInt32() >> 6;
        return ((a * 67108864.0) + b) * (1.0 / 9007199254740992.0);
    }

    /// <summary>Uniform integer in [0, <paramref name="maxExclusive"/>), unbiased (Lemire 2019).</summary>
    public int NextInt32(int maxExclusive)
    {
        if (maxExclusive <= 0)
        {
            ThrowHelper.OutOfRange(nameof(maxExclusive), maxExclusive, "maxExclusive must be positive.");
        }

        uint n = (uint)maxExclusive;
        ulong m = (ulong)NextUInt32() * n;
        uint low = (uint)m;
        if (low < n)
        {
            uint threshold = (uint)(-(int)n) % n;
            while (low < threshold)
            {
                m = (ulong)NextUInt32() * n;
                low = (uint)m;
            }
        }

        return (int)(m >> 32);
    }
}
