using System.Runtime.CompilerServices;

namespace RnnEmbedded.Runtime;

/// <summary>
/// Numerically stable softmax, log-softmax and log-sum-exp over spans.
/// </summary>
/// <remarks>
/// Every function subtracts the maximum before exponentiating, so no input overflows
/// (<c>TensorPrimitives.SoftMax</c> does not, and overflows above ~88).
/// Logits may be −∞ (a masked token: probability 0, log-probability −∞). NaN or +∞ is rejected with an
/// <see cref="ArgumentException"/> naming the argument and index. When every logit is −∞ the distribution
/// is undefined: <see cref="Apply(ReadOnlySpan{float}, Span{float})"/> and <see cref="LogSoftmax"/> throw,
/// while <see cref="LogSumExp"/> returns −∞ (the log of an empty sum). Empty spans are rejected.
/// Sums are accumulated in <see cref="double"/>.
/// </remarks>
public static class Softmax
{
    /// <summary>The largest element. Throws on empty input, NaN or +∞.</summary>
    public static float Max(ReadOnlySpan<float> values) => CheckedMax(values, nameof(values), out _);

    /// <summary>Index of the largest element (the first one on ties). Throws on empty input, NaN or +∞.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        CheckedMax(values, nameof(values), out int index);
        return index;
    }

    /// <summary>log Σ exp(values[i]), computed as m + log Σ exp(values[i] − m) with m the max. All −∞ → −∞.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float LogSumExp(ReadOnlySpan<float> values)
    {
        float max = CheckedMax(values, nameof(values), out _);
        if (float.IsNegativeInfinity(max))
        {
            return float.NegativeInfinity;
        }

        return max + (float)Math.Log(SumExp(values, max));
    }

    /// <summary>probs[i] = exp(logits[i] − m) / Σ exp(logits[j] − m). In place when both spans are the same memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(ReadOnlySpan<float> logits, Span<float> probs)
    {
        if (probs.Length != logits.Length)
        {
            ThrowHelper.Length(nameof(probs), probs.Length, logits.Length);
        }

        float max = CheckedMax(logits, nameof(logits), out _);
        if (float.IsNegativeInfinity(max))
        {
            ThrowHelper.AllNegativeInfinity(nameof(logits));
        }

        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            float e = MathF.Exp(logits[i] - max);
            probs[i] = e;
            sum += e;
        }

        // sum ≥ 1 because the max contributes exp(0) = 1.
        float scale = (float)(1.0 / sum);
        for (int i = 0; i < probs.Length; i++)
        {
            probs[i] *= scale;
        }
    }

    /// <summary>In-place softmax.</summary>
    public static void Apply(Span<float> values) => Apply(values, values);

    /// <summary>logProbs[i] = logits[i] − LogSumExp(logits). In place when both spans are the same memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LogSoftmax(ReadOnlySpan<float> logits, Span<float> logProbs)
    {
        if (logProbs.Length != logits.Length)
        {
            ThrowHelper.Length(nameof(logProbs), logProbs.Length, logits.Length);
        }

        float max = CheckedMax(logits, nameof(logits), out _);
        if (float.IsNegativeInfinity(max))
        {
            ThrowHelper.AllNegativeInfinity(nameof(logits));
        }

        float lse = max + (float)Math.Log(SumExp(logits, max));
        for (int i = 0; i < logits.Length; i++)
        {
            logProbs[i] = logits[i] - lse;
        }
    }

    /// <summary>Σ exp(values[i] − max) in double; −∞ entries contribute 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double SumExp(ReadOnlySpan<float> values, float max)
    {
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            sum += MathF.Exp(values[i] - max);
        }

        return sum;
    }

    /// <summary>Max and its first index; rejects empty input, NaN and +∞ (one compare per element).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    internal static float CheckedMax(ReadOnlySpan<float> values, string argument, out int index)
    {
        if (values.IsEmpty)
        {
            ThrowHelper.Empty(argument);
        }

        float max = float.NegativeInfinity;
        index = 0;
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (!(v <= float.MaxValue))
            {
                // NaN and +∞ fail the compare; −∞ passes.
                ThrowHelper.BadLogit(argument, i, v);
            }

            if (v > max)
            {
                max = v;
                index = i;
            }
        }

        return max;
    }
}
