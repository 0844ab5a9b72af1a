using System.Buffers;
using System.ComponentModel;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnEmbedded.Runtime.CompilerServices;

/// <summary>
/// The pointwise half of a recurrent step with gate pre-activation clipping (ONNX <c>clip</c>): the
/// <see cref="CellKernels"/> equations with every activation's input bounded to [−<see cref="Bound"/>,
/// <see cref="Bound"/>] first — RNN the pre-activation; LSTM i, f, g, o after their bias and peephole terms (o with the
/// new cell's); GRU r, z and the whole candidate pre-activation. The cell state is never clipped. Arguments and buffer
/// rules as the <see cref="CellKernels"/> method of the same name. The clamped values go to a scratch copy (the stack
/// up to <see cref="StackLimit"/> floats, else a pooled array), then the vectorized kernels run on it; the peephole
/// output gate and the GRU gates are assembled around <see cref="Activations"/> and <see cref="CellKernels.GruCombine"/>.
/// </summary>
[SkipLocalsInit]
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct GateClip
{
    /// <summary>Scratch buffers up to this many floats live on the stack.</summary>
    public const int StackLimit = 1024;

    /// <summary>A clip to [−<paramref name="bound"/>, <paramref name="bound"/>].</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bound"/> is not a positive finite number.</exception>
    public GateClip(float bound)
    {
        if (!(bound > 0f) || float.IsInfinity(bound))
        {
            throw new ArgumentOutOfRangeException(nameof(bound), bound, "A clip bound is a positive finite number.");
        }

        Bound = bound;
    }

    /// <summary>The bound: activation inputs are clamped to [−Bound, Bound].</summary>
    public float Bound { get; }

    // ---- RNN ------------------------------------------------------------------------------------------

    /// <summary>RNN relu: h (H,) = relu(clip(preactivation (H,))).</summary>
    public void Relu(ReadOnlySpan<float> preactivation, Span<float> h, VectorWidth width)
    {
        ClampInto(preactivation, h, nameof(h));
        Activations.Relu(h, width);
    }

    /// <summary>RNN tanh: h (H,) = tanh(clip(preactivation (H,))).</summary>
    public void Tanh(ReadOnlySpan<float> preactivation, Span<float> h, VectorWidth width)
    {
        ClampInto(preactivation, h, nameof(h));
        Activations.Tanh(h, width);
    }

    /// <summary>RNN sigmoid: h (H,) = σ(clip(preactivation (H,))).</summary>
    public void Sigmoid(ReadOnlySpan<float> preactivation, Span<float> h, VectorWidth width)
    {
        ClampInto(preactivation, h, nameof(h));
        Activations.Sigmoid(h, width);
    }

    // ---- LSTM -----------------------------------------------------------------------------------------

    /// <summary>As <see cref="CellKernels.Lstm"/> with gates (4H,) i, f, g, o clipped.</summary>
    public void Lstm(ReadOnlySpan<float> gates, Span<float> c, Span<float> h, VectorWidth width)
    {
        CheckLength(gates.Length, 4 * c.Length, nameof(gates), "4·H (i, f, g, o)");
        float[]? rented = null;
        Span<float> g = Scratch(gates.Length, stackalloc float[StackLimit], ref rented);
        ClampInto(gates, g, nameof(gates));
        CellKernels.Lstm(g, c, h, width);
        Return(rented);
    }

    /// <summary>As <see cref="CellKernels.LstmCifg"/> with gates (3H,) i, g, o clipped (f = 1 − σ(clip(i))).</summary>
    public void LstmCifg(ReadOnlySpan<float> gates, Span<float> c, Span<float> h, VectorWidth width)
    {
        CheckLength(gates.Length, 3 * c.Length, nameof(gates), "3·H (i, g, o)");
        float[]? rented = null;
        Span<float> g = Scratch(gates.Length, stackalloc float[StackLimit], ref rented);
        ClampInto(gates, g, nameof(gates));
        CellKernels.LstmCifg(g, c, h, width);
        Return(rented);
    }

    /// <summary>
    /// As <see cref="CellKernels.LstmPeephole"/>, clipped: i = σ(clip(i + p_i⊙c)), f = σ(clip(f + p_f⊙c)),
    /// g = tanh(clip(g)), c' = f⊙c + i⊙g, o = σ(clip(o + p_o⊙c')), h' = o⊙tanh(c').
    /// </summary>
    public void LstmPeephole(ReadOnlySpan<float> gates, ReadOnlySpan<float> peepholes, Span<float> c, Span<float> h, VectorWidth width) =>
        Peephole(gates, peepholes, c, h, width, cifg: false);

    /// <summary>As <see cref="CellKernels.LstmCifgPeephole"/>, clipped as <see cref="LstmPeephole"/> (gates (3H,) i, g, o).</summary>
    public void LstmCifgPeephole(ReadOnlySpan<float> gates, ReadOnlySpan<float> peepholes, Span<float> c, Span<float> h, VectorWidth width) =>
        Peephole(gates, peepholes, c, h, width, cifg: true);

    // ---- GRU ------------------------------------------------------------------------------------------

    /// <summary>
    /// As <see cref="CellKernels.GruResetAfter"/>, clipped: r = σ(clip(gi_r + gh_r)), z = σ(clip(gi_z + gh_z)),
    /// n = tanh(clip(gi_n + r⊙gh_n)), h' = (1 − z)⊙n + z⊙h.
    /// </summary>
    public void GruResetAfter(ReadOnlySpan<float> gi, ReadOnlySpan<float> gh, Span<float> h, VectorWidth width)
    {
        int n = h.Length;
        CheckLength(gi.Length, 3 * n, nameof(gi), "3·H (r, z, n)");
        CheckLength(gh.Length, 3 * n, nameof(gh), "3·H (r, z, n)");
        float[]? rented = null;
        Span<float> s = Scratch(3 * n, stackalloc float[StackLimit], ref rented); // (3H,) r, z, then n's pre-activation
        float bound = Bound;
        for (int j = 0; j < 2 * n; j++)
        {
            s[j] = Clamp(gi[j] + gh[j], bound);
        }

        Activations.Sigmoid(s.Slice(0, 2 * n), width);
        for (int j = 0; j < n; j++)
        {
            s[(2 * n) + j] = Clamp(MathF.FusedMultiplyAdd(s[j], gh[(2 * n) + j], gi[(2 * n) + j]), bound);
        }

        CellKernels.GruCombine(s.Slice(2 * n, n), s.Slice(n, n), h, width);
        Return(rented);
    }

    /// <summary>
    /// As <see cref="CellKernels.GruResetBeforeGates"/>, clipped: z = σ(clip(gi_z + gh_z)), rh = σ(clip(gi_r + gh_r))⊙h.
    /// </summary>
    public void GruResetBeforeGates(ReadOnlySpan<float> gi, ReadOnlySpan<float> gh, ReadOnlySpan<float> h, Span<float> z, Span<float> rh, VectorWidth width)
    {
        int n = h.Length;
        if (gi.Length != 2 * n && gi.Length != 3 * n)
        {
            throw new ArgumentException($"length {gi.Length} must be 2·H = {2 * n} (r, z) or 3·H = {3 * n} (r, z, n).", nameof(gi));
        }

        if (gh.Length != 2 * n && gh.Length != 3 * n)
        {
            throw new ArgumentException($"length {gh.Length} must be 2·H = {2 * n} (r, z) or 3·H = {3 * n} (r, z, n).", nameof(gh));
        }

        CheckLength(z.Length, n, nameof(z), "H");
        CheckLength(rh.Length, n, nameof(rh), "H");
        float[]? rented = null;
        Span<float> s = Scratch(2 * n, stackalloc float[StackLimit], ref rented); // (2H,) r, z
        float bound = Bound;
        for (int j = 0; j < 2 * n; j++)
        {
            s[j] = Clamp(gi[j] + gh[j], bound);
        }

        Activations.Sigmoid(s, width);
        for (int j = 0; j < n; j++)
        {
            rh[j] = s[j] * h[j];
        }

        s.Slice(n, n).CopyTo(z);
        Return(rented);
    }

    /// <summary>As <see cref="CellKernels.GruCombine"/> with the candidate pre-activation clipped: h' = (1 − z)⊙tanh(clip(nPre)) + z⊙h.</summary>
    public void GruCombine(ReadOnlySpan<float> nPre, ReadOnlySpan<float> z, Span<float> h, VectorWidth width)
    {
        CheckLength(nPre.Length, h.Length, nameof(nPre), "H");
        float[]? rented = null;
        Span<float> s = Scratch(nPre.Length, stackalloc float[StackLimit], ref rented);
        ClampInto(nPre, s, nameof(nPre));
        CellKernels.GruCombine(s, z, h, width);
        Return(rented);
    }

    private void Peephole(ReadOnlySpan<float> gates, ReadOnlySpan<float> peepholes, Span<float> c, Span<float> h, VectorWidth width, bool cifg)
    {
        int n = c.Length;
        int blocks = cifg ? 3 : 4;
        CheckLength(gates.Length, blocks * n, nameof(gates), cifg ? "3·H (i, g, o)" : "4·H (i, f, g, o)");
        CheckLength(peepholes.Length, 3 * n, nameof(peepholes), "3·H (p_i, p_f, p_o)");
        CheckLength(h.Length, n, nameof(h), "H");
        float[]? rented = null;
        Span<float> s = Scratch((blocks + 1) * n, stackalloc float[StackLimit], ref rented);
        Span<float> g = s.Slice(0, blocks * n); // i, (f,) g clipped with the old cell's peephole terms; o unused here
        Span<float> o = s.Slice(blocks * n, n); // (H,) the output gate
        float bound = Bound;
        for (int j = 0; j < n; j++)
        {
            g[j] = Clamp(MathF.FusedMultiplyAdd(peepholes[j], c[j], gates[j]), bound); // i
        }

        if (!cifg)
        {
            for (int j = 0; j < n; j++)
            {
                g[n + j] = Clamp(MathF.FusedMultiplyAdd(peepholes[n + j], c[j], gates[n + j]), bound); // f
            }
        }

        int gBlock = cifg ? n : 2 * n;
        int oBlock = cifg ? 2 * n : 3 * n;
        for (int j = 0; j < n; j++)
        {
            g[gBlock + j] = Clamp(gates[gBlock + j], bound);
            g[oBlock + j] = 0f;
        }

        // c' = f⊙c + i⊙g (h receives a value with o unclipped and is rewritten below).
        if (cifg)
        {
            CellKernels.LstmCifg(g, c, h, width);
        }
        else
        {
            CellKernels.Lstm(g, c, h, width);
        }

        for (int j = 0; j < n; j++)
        {
            o[j] = Clamp(MathF.FusedMultiplyAdd(peepholes[(2 * n) + j], c[j], gates[oBlock + j]), bound); // o sees the new cell
        }

        Activations.Sigmoid(o, width);
        Activations.Tanh(c, h, width);
        for (int j = 0; j < n; j++)
        {
            h[j] *= o[j];
        }

        Return(rented);
    }

    private void ClampInto(ReadOnlySpan<float> source, Span<float> destination, string name)
    {
        CheckLength(source.Length, destination.Length, name, "the destination's length");
        float bound = Bound;
        int j = 0;
        if (Vector.IsHardwareAccelerated && source.Length >= Vector<float>.Count)
        {
            // Compare-and-select, not Min/Max: NaN passes through as in Clamp (both comparisons false), so every width
            // gives Clamp's bits.
            var hi = new Vector<float>(bound);
            var lo = new Vector<float>(-bound);
            ReadOnlySpan<Vector<float>> xs = MemoryMarshal.Cast<float, Vector<float>>(source);
            Span<Vector<float>> ys = MemoryMarshal.Cast<float, Vector<float>>(destination);
            for (int v = 0; v < xs.Length; v++)
            {
                Vector<float> x = xs[v];
                ys[v] = Vector.ConditionalSelect(Vector.GreaterThan(x, hi), hi, Vector.ConditionalSelect(Vector.LessThan(x, lo), lo, x));
            }

            j = xs.Length * Vector<float>.Count;
        }

        for (; j < source.Length; j++)
        {
            destination[j] = Clamp(source[j], bound);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Clamp(float x, float bound) => x > bound ? bound : x < -bound ? -bound : x;

    private static Span<float> Scratch(int length, Span<float> stack, ref float[]? rented)
    {
        if (length <= stack.Length)
        {
            return stack.Slice(0, length);
        }

        rented = ArrayPool<float>.Shared.Rent(length);
        return rented.AsSpan(0, length);
    }

    private static void Return(float[]? rented)
    {
        if (rented is not null)
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    private static void CheckLength(int actual, int expected, string name, string rule)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"length {actual} must be {rule} = {expected}.", name);
        }
    }
}
