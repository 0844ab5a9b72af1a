using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnEmbedded.Runtime.CompilerServices;

/// <summary>
/// The pointwise half of a recurrent step, after the matrix-vector products have filled the preactivation
/// buffers. H is the cell size (<c>c.Length</c> / <c>h.Length</c>); every buffer length is checked exactly.
/// Gate blocks are contiguous H-long runs in PyTorch order. Outputs must not overlap inputs or each other
/// (checked), except the documented read-write state (<c>c</c>, <c>h</c>). Each kernel runs at
/// <c>Simd.Resolve(width)</c> over any H ≥ 0: full vectors, then one overlapped last vector whose inputs are
/// read before the loop (so read-write state is never updated twice); H below a vector falls to the next
/// narrower width, down to scalar.
/// </summary>
[SkipLocalsInit]
[EditorBrowsable(EditorBrowsableState.Never)]
public static class CellKernels
{
    // ---- RNN ------------------------------------------------------------------------------------------

    /// <summary>Elman RNN, in place: values (H,) holds W_ih x + b_ih + W_hh h + b_hh and receives h' = act(values).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rnn(Span<float> values, ActivationKind activation, VectorWidth width) =>
        Activations.Apply(activation, values, values, width);

    /// <summary>Elman RNN: h (H,) = act(preactivation (H,)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rnn(ReadOnlySpan<float> preactivation, Span<float> h, ActivationKind activation, VectorWidth width) =>
        Activations.Apply(activation, preactivation, h, width);

    // ---- LSTM -----------------------------------------------------------------------------------------

    /// <summary>
    /// LSTM pointwise step. gates (4H,) = preactivations i, f, g, o (W_ih x + b_ih + W_hh h + b_hh);
    /// c (H,) cell state, read and updated in place: c' = σ(f)⊙c + σ(i)⊙tanh(g);
    /// h (H,) output only: h' = σ(o)⊙tanh(c'). With a projection pass a scratch m (H,) as h; the caller then
    /// computes h = W_hr m.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Lstm(ReadOnlySpan<float> gates, Span<float> c, Span<float> h, VectorWidth width) =>
        LstmChecked<LstmPlain>(gates, ReadOnlySpan<float>.Empty, c, h, width);

    /// <summary>
    /// Coupled input-forget LSTM without peepholes: gates (3H,) = i, g, o and f = 1 − σ(i).
    /// c, h as in <see cref="Lstm"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmCifg(ReadOnlySpan<float> gates, Span<float> c, Span<float> h, VectorWidth width) =>
        LstmChecked<LstmCoupled>(gates, ReadOnlySpan<float>.Empty, c, h, width);

    /// <summary>
    /// LSTM with peepholes (ONNX rule). gates (4H,) = i, f, g, o; peepholes (3H,) = p_i, p_f, p_o.
    /// i = σ(i + p_i⊙c), f = σ(f + p_f⊙c), g = tanh(g), c' = f⊙c + i⊙g, o = σ(o + p_o⊙c'), h' = o⊙tanh(c').
    /// c (H,) read-write, h (H,) output only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmPeephole(ReadOnlySpan<float> gates, ReadOnlySpan<float> peepholes, Span<float> c, Span<float> h, VectorWidth width) =>
        LstmChecked<LstmPeep>(gates, peepholes, c, h, width);

    /// <summary>
    /// Coupled input-forget LSTM with peepholes. gates (3H,) = i, g, o; peepholes (3H,) = p_i, p_f, p_o with p_f
    /// unused. i = σ(i + p_i⊙c), f = 1 − i, then as in <see cref="LstmPeephole"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmCifgPeephole(ReadOnlySpan<float> gates, ReadOnlySpan<float> peepholes, Span<float> c, Span<float> h, VectorWidth width) =>
        LstmChecked<LstmCoupledPeep>(gates, peepholes, c, h, width);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LstmChecked<TVariant>(ReadOnlySpan<float> gates, ReadOnlySpan<float> peepholes, Span<float> c, Span<float> h, VectorWidth width)
        where TVariant : ILstmVariant
    {
        int n = c.Length;
        if (h.Length != n)
        {
            ThrowHelper.Length(nameof(h), $"length {h.Length} must equal c.Length {n} (H).");
        }

        int gateCount = TVariant.Cifg ? 3 : 4;
        if (gates.Length != gateCount * n)
        {
            ThrowHelper.Length(nameof(gates), $"length {gates.Length} must be {gateCount}·H = {gateCount * n} ({(TVariant.Cifg ? "i, g, o" : "i, f, g, o")}).");
        }

        if (TVariant.Peephole && peepholes.Length != 3 * n)
        {
            ThrowHelper.Length(nameof(peepholes), $"length {peepholes.Length} must be 3·H = {3 * n} (p_i, p_f, p_o).");
        }

        NoOverlap(c, nameof(c), gates, nameof(gates));
        NoOverlap(h, nameof(h), gates, nameof(gates));
        NoOverlap(c, nameof(c), peepholes, nameof(peepholes));
        NoOverlap(h, nameof(h), peepholes, nameof(peepholes));
        NoOverlap(h, nameof(h), c, nameof(c));

        Lstm<TVariant>(
            ref MemoryMarshal.GetReference(gates),
            ref MemoryMarshal.GetReference(peepholes),
            ref MemoryMarshal.GetReference(c),
            ref MemoryMarshal.GetReference(h),
            n,
            width);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Lstm<TVariant>(ref float gates, ref float peep, ref float c, ref float h, int n, VectorWidth width)
        where TVariant : ILstmVariant
    {
        width = Simd.Resolve(width);
        if (width == VectorWidth.V512 && n >= Vector512<float>.Count)
        {
            LstmLoop<TVariant, V512Ops, Vector512<float>>(ref gates, ref peep, ref c, ref h, (nuint)n);
        }
        else if (width >= VectorWidth.V256 && n >= Vector256<float>.Count)
        {
            LstmLoop<TVariant, V256Ops, Vector256<float>>(ref gates, ref peep, ref c, ref h, (nuint)n);
        }
        else if (width >= VectorWidth.V128 && n >= Vector128<float>.Count)
        {
            LstmLoop<TVariant, V128Ops, Vector128<float>>(ref gates, ref peep, ref c, ref h, (nuint)n);
        }
        else if (n > 0)
        {
            LstmLoop<TVariant, ScalarOps, float>(ref gates, ref peep, ref c, ref h, (nuint)n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LstmLoop<TVariant, TOps, TV>(ref float gates, ref float peep, ref float c, ref float h, nuint n)
        where TVariant : ILstmVariant
        where TOps : ISimdOps<TV>
        where TV : struct
    {
        nuint count = (nuint)TOps.Count;
        nuint last = n - count;
        LstmLanes<TV> tail = LoadLstm<TVariant, TOps, TV>(ref gates, ref peep, ref c, n, last);
        nuint k = last >= 2 * count ? LstmGroups<TVariant, TOps, TV>(ref gates, ref peep, ref c, ref h, n, last) : 0;
        for (; k < last; k += count)
        {
            LstmLanes<TV> lanes = LoadLstm<TVariant, TOps, TV>(ref gates, ref peep, ref c, n, k);
            StepLstm<TVariant, TOps, TV>(in lanes, ref c, ref h, k);
        }

        StepLstm<TVariant, TOps, TV>(in tail, ref c, ref h, last);
    }

    // The 2-vector groups below last, in a method of their own (the JIT's inlining budget is per method: with the
    // single-vector code in the same method, helpers stopped being inlined). Returns the first lane not done.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static nuint LstmGroups<TVariant, TOps, TV>(ref float gates, ref float peep, ref float c, ref float h, nuint n, nuint last)
        where TVariant : ILstmVariant
        where TOps : ISimdOps<TV>
        where TV : struct
    {
        nuint step = 2 * (nuint)TOps.Count;
        nuint k = 0;
        for (; k + step <= last; k += step)
        {
            StepLstm2<TVariant, TOps, TV>(ref gates, ref peep, ref c, ref h, n, k);
        }

        return k;
    }

    /// <summary>
    /// Two vectors of lanes, each function applied to both before the next: the same operations on every lane as
    /// <see cref="StepLstm"/> (so the same bits), but two independent dependency chains side by side, which the
    /// out-of-order core overlaps — one vector's exp → divide → c' → tanh(c') chain is longer than its window.
    /// (Four side by side exceed the JIT's inlining budget.) Both vectors' inputs are read before their outputs
    /// are written (c is read-write).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StepLstm2<TVariant, TOps, TV>(ref float gates, ref float peep, ref float c, ref float h, nuint n, nuint k0)
        where TVariant : ILstmVariant
        where TOps : ISimdOps<TV>
        where TV : struct
    {
        nuint k1 = k0 + (nuint)TOps.Count;
        TV c0 = TOps.Load(ref c, k0);
        TV c1 = TOps.Load(ref c, k1);
        TV i0 = InputGate<TVariant, TOps, TV>(ref gates, ref peep, c0, k0);
        TV i1 = InputGate<TVariant, TOps, TV>(ref gates, ref peep, c1, k1);
        nuint gOffset = TVariant.Cifg ? n : 2 * n;
        TV g0 = VectorMath.Tanh<TOps, TV>(TOps.Load(ref gates, gOffset + k0));
        TV g1 = VectorMath.Tanh<TOps, TV>(TOps.Load(ref gates, gOffset + k1));
        TV f0 = ForgetGate<TVariant, TOps, TV>(ref gates, ref peep, c0, i0, n, k0);
        TV f1 = ForgetGate<TVariant, TOps, TV>(ref gates, ref peep, c1, i1, n, k1);
        c0 = TOps.MultiplyAdd(f0, c0, TOps.Multiply(i0, g0));
        c1 = TOps.MultiplyAdd(f1, c1, TOps.Multiply(i1, g1));
        TV o0 = OutputGate<TVariant, TOps, TV>(ref gates, ref peep, c0, n, k0);
        TV o1 = OutputGate<TVariant, TOps, TV>(ref gates, ref peep, c1, n, k1);
        TOps.Store(c0, ref c, k0);
        TOps.Store(c1, ref c, k1);
        TOps.Store(TOps.Multiply(o0, VectorMath.Tanh<TOps, TV>(c0)), ref h, k0);
        TOps.Store(TOps.Multiply(o1, VectorMath.Tanh<TOps, TV>(c1)), ref h, k1);
    }

    // σ(i [+ p_i⊙c]) at lanes k: StepLstm's i.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV InputGate<TVariant, TOps, TV>(ref float gates, ref float peep, TV c, nuint k)
        where TVariant : ILstmVariant
        where TOps : ISimdOps<TV>
        where TV : struct
    {
        TV i = TOps.Load(ref gates, k);
        return VectorMath.Sigmoid<TOps, TV>(TVariant.Peephole ? TOps.MultiplyAdd(TOps.Load(ref peep, k), c, i) : i);
    }

    // 1 − i (coupled) or σ(f [+ p_f⊙c]) at lanes k: StepLstm's f.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV ForgetGate<TVariant, TOps, TV>(ref float gates, ref float peep, TV c, TV i, nuint n, nuint k)
        where TVariant : ILstmVariant
        where TOps : ISimdOps<TV>
        where TV : struct
    {
        if (TVariant.Cifg)
        {
            return TOps.Subtract(TOps.Create(1f), i);
        }

        TV f = TOps.Load(ref gates, n + k);
        return VectorMath.Sigmoid<TOps, TV>(TVariant.Peephole ? TOps.MultiplyAdd(TOps.Load(ref peep, n + k), c, f) : f);
    }

    // σ(o [+ p_o⊙c']) at lanes k: StepLstm's o.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV OutputGate<TVariant, TOps, TV>(ref float gates, ref float peep, TV cNew, nuint n, nuint k)
        where TVariant : ILstmVariant
        where TOps : ISimdOps<TV>
        where TV : struct
    {
        TV o = TOps.Load(ref gates, (TVariant.Cifg ? 2 * n : 3 * n) + k);
        return VectorMath.Sigmoid<TOps, TV>(TVariant.Peephole ? TOps.MultiplyAdd(TOps.Load(ref peep, (2 * n) + k), cNew, o) : o);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static LstmLanes<TV> LoadLstm<TVariant, TOps, TV>(ref float gates, ref float peep, ref float c, nuint n, nuint k)
        where TVariant : ILstmVariant
        where TOps : ISimdOps<TV>
        where TV : struct
    {
        LstmLanes<TV> lanes = default;
        lanes.I = TOps.Load(ref gates, k);
        if (TVariant.Cifg)
        {
            lanes.G = TOps.Load(ref gates, n + k);
            lanes.O = TOps.Load(ref gates, (2 * n) + k);
        }
        else
        {
            lanes.F = TOps.Load(ref gates, n + k);
            lanes.G = TOps.Load(ref gates, (2 * n) + k);
            lanes.O = TOps.Load(ref gates, (3 * n) + k);
        }

        lanes.C = TOps.Load(ref c, k);
        if (TVariant.Peephole)
        {
            lanes.Pi = TOps.Load(ref peep, k);
            if (!TVariant.Cifg)
            {
                lanes.Pf = TOps.Load(ref peep, n + k);
            }

            lanes.Po = TOps.Load(ref peep, (2 * n) + k);
        }

        return lanes;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StepLstm<TVariant, TOps, TV>(in LstmLanes<TV> l, ref float c, ref float h, nuint k)
        where TVariant : ILstmVariant
        where TOps : ISimdOps<TV>
        where TV : struct
    {
        TV i = VectorMath.Sigmoid<TOps, TV>(TVariant.Peephole ? TOps.MultiplyAdd(l.Pi, l.C, l.I) : l.I);
        TV f = TVariant.Cifg
            ? TOps.Subtract(TOps.Create(1f), i)
            : VectorMath.Sigmoid<TOps, TV>(TVariant.Peephole ? TOps.MultiplyAdd(l.Pf, l.C, l.F) : l.F);
        TV g = VectorMath.Tanh<TOps, TV>(l.G);
        TV cNew = TOps.MultiplyAdd(f, l.C, TOps.Multiply(i, g));
        TV o = VectorMath.Sigmoid<TOps, TV>(TVariant.Peephole ? TOps.MultiplyAdd(l.Po, cNew, l.O) : l.O);
        TV hNew = TOps.Multiply(o, VectorMath.Tanh<TOps, TV>(cNew));
        TOps.Store(cNew, ref c, k);
        TOps.Store(hNew, ref h, k);
    }

    // ---- GRU, reset after (PyTorch) -------------------------------------------------------------------

    /// <summary>
    /// GRU "reset after" (PyTorch, Keras reset_after=True, ONNX linear_before_reset=1). gi (3H,) = W_ih x + b_ih
    /// for r, z, n; gh (3H,) = W_hh h + b_hh for r, z, n; h (H,) read and updated in place:
    /// r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r⊙gh_n), h' = (1 − z)⊙n + z⊙h.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GruResetAfter(ReadOnlySpan<float> gi, ReadOnlySpan<float> gh, Span<float> h, VectorWidth width)
    {
        int n = h.Length;
        if (gi.Length != 3 * n)
        {
            ThrowHelper.Length(nameof(gi), $"length {gi.Length} must be 3·H = {3 * n} (r, z, n).");
        }

        if (gh.Length != 3 * n)
        {
            ThrowHelper.Length(nameof(gh), $"length {gh.Length} must be 3·H = {3 * n} (r, z, n).");
        }

        NoOverlap(h, nameof(h), gi, nameof(gi));
        NoOverlap(h, nameof(h), gh, nameof(gh));

        ref float a = ref MemoryMarshal.GetReference(gi);
        ref float b = ref MemoryMarshal.GetReference(gh);
        ref float hr = ref MemoryMarshal.GetReference(h);
        width = Simd.Resolve(width);
        if (width == VectorWidth.V512 && n >= Vector512<float>.Count)
        {
            GruAfterLoop<V512Ops, Vector512<float>>(ref a, ref b, ref hr, (nuint)n);
        }
        else if (width >= VectorWidth.V256 && n >= Vector256<float>.Count)
        {
            GruAfterLoop<V256Ops, Vector256<float>>(ref a, ref b, ref hr, (nuint)n);
        }
        else if (width >= VectorWidth.V128 && n >= Vector128<float>.Count)
        {
            GruAfterLoop<V128Ops, Vector128<float>>(ref a, ref b, ref hr, (nuint)n);
        }
        else if (n > 0)
        {
            GruAfterLoop<ScalarOps, float>(ref a, ref b, ref hr, (nuint)n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GruAfterLoop<TOps, TV>(ref float gi, ref float gh, ref float h, nuint n)
        where TOps : ISimdOps<TV>
        where TV : struct
    {
        nuint count = (nuint)TOps.Count;
        nuint last = n - count;
        TV tailH = TOps.Load(ref h, last); // the only read-write input
        nuint k = 0;
        for (; k + (2 * count) <= last; k += 2 * count)
        {
            // Two vectors side by side (two independent chains for the out-of-order core, as in StepLstm2).
            nuint k1 = k + count;
            TV h0 = TOps.Load(ref h, k);
            TV h1 = TOps.Load(ref h, k1);
            TV r0 = VectorMath.Sigmoid<TOps, TV>(TOps.Add(TOps.Load(ref gi, k), TOps.Load(ref gh, k)));
            TV r1 = VectorMath.Sigmoid<TOps, TV>(TOps.Add(TOps.Load(ref gi, k1), TOps.Load(ref gh, k1)));
            TV z0 = VectorMath.Sigmoid<TOps, TV>(TOps.Add(TOps.Load(ref gi, n + k), TOps.Load(ref gh, n + k)));
            TV z1 = VectorMath.Sigmoid<TOps, TV>(TOps.Add(TOps.Load(ref gi, n + k1), TOps.Load(ref gh, n + k1)));
            TV n0 = VectorMath.Tanh<TOps, TV>(TOps.MultiplyAdd(r0, TOps.Load(ref gh, (2 * n) + k), TOps.Load(ref gi, (2 * n) + k)));
            TV n1 = VectorMath.Tanh<TOps, TV>(TOps.MultiplyAdd(r1, TOps.Load(ref gh, (2 * n) + k1), TOps.Load(ref gi, (2 * n) + k1)));
            TOps.Store(TOps.MultiplyAdd(z0, TOps.Subtract(h0, n0), n0), ref h, k);
            TOps.Store(TOps.MultiplyAdd(z1, TOps.Subtract(h1, n1), n1), ref h, k1);
        }

        for (; k < last; k += count)
        {
            TOps.Store(GruAfter<TOps, TV>(ref gi, ref gh, TOps.Load(ref h, k), n, k), ref h, k);
        }

        TOps.Store(GruAfter<TOps, TV>(ref gi, ref gh, tailH, n, last), ref h, last);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV GruAfter<TOps, TV>(ref float gi, ref float gh, TV h, nuint n, nuint k)
        where TOps : ISimdOps<TV>
        where TV : struct
    {
        TV r = VectorMath.Sigmoid<TOps, TV>(TOps.Add(TOps.Load(ref gi, k), TOps.Load(ref gh, k)));
        TV z = VectorMath.Sigmoid<TOps, TV>(TOps.Add(TOps.Load(ref gi, n + k), TOps.Load(ref gh, n + k)));
        TV cand = VectorMath.Tanh<TOps, TV>(TOps.MultiplyAdd(r, TOps.Load(ref gh, (2 * n) + k), TOps.Load(ref gi, (2 * n) + k)));
        return TOps.MultiplyAdd(z, TOps.Subtract(h, cand), cand); // (1 − z)⊙n + z⊙h = n + z⊙(h − n)
    }

    // ---- GRU, reset before (Cho et al. 2014, ONNX default): gates, then the caller's W_hn (r⊙h), then combine.

    /// <summary>
    /// GRU "reset before", first half. gi and gh: (2H,) or (3H,), r then z preactivations first (an n block, if
    /// present, is not read). h (H,) read only. Writes z (H,) = σ(gi_z + gh_z) and rh (H,) = σ(gi_r + gh_r)⊙h.
    /// The caller then forms nPre = W_in x + b_in + W_hn rh + b_hn and calls <see cref="GruCombine"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GruResetBeforeGates(ReadOnlySpan<float> gi, ReadOnlySpan<float> gh, ReadOnlySpan<float> h, Span<float> z, Span<float> rh, VectorWidth width)
    {
        int n = h.Length;
        if (gi.Length != 2 * n && gi.Length != 3 * n)
        {
            ThrowHelper.Length(nameof(gi), $"length {gi.Length} must be 2·H = {2 * n} (r, z) or 3·H = {3 * n} (r, z, n).");
        }

        if (gh.Length != 2 * n && gh.Length != 3 * n)
        {
            ThrowHelper.Length(nameof(gh), $"length {gh.Length} must be 2·H = {2 * n} (r, z) or 3·H = {3 * n} (r, z, n).");
        }

        if (z.Length != n)
        {
            ThrowHelper.Length(nameof(z), $"length {z.Length} must equal h.Length {n} (H).");
        }

        if (rh.Length != n)
        {
            ThrowHelper.Length(nameof(rh), $"length {rh.Length} must equal h.Length {n} (H).");
        }

        NoOverlap(z, nameof(z), gi, nameof(gi));
        NoOverlap(z, nameof(z), gh, nameof(gh));
        NoOverlap(z, nameof(z), h, nameof(h));
        NoOverlap(rh, nameof(rh), gi, nameof(gi));
        NoOverlap(rh, nameof(rh), gh, nameof(gh));
        NoOverlap(rh, nameof(rh), h, nameof(h));
        NoOverlap(rh, nameof(rh), z, nameof(z));

        ref float a = ref MemoryMarshal.GetReference(gi);
        ref float b = ref MemoryMarshal.GetReference(gh);
        ref float hr = ref MemoryMarshal.GetReference(h);
        ref float zr = ref MemoryMarshal.GetReference(z);
        ref float rhr = ref MemoryMarshal.GetReference(rh);
        width = Simd.Resolve(width);
        if (width == VectorWidth.V512 && n >= Vector512<float>.Count)
        {
            GruBeforeLoop<V512Ops, Vector512<float>>(ref a, ref b, ref hr, ref zr, ref rhr, (nuint)n);
        }
        else if (width >= VectorWidth.V256 && n >= Vector256<float>.Count)
        {
            GruBeforeLoop<V256Ops, Vector256<float>>(ref a, ref b, ref hr, ref zr, ref rhr, (nuint)n);
        }
        else if (width >= VectorWidth.V128 && n >= Vector128<float>.Count)
        {
            GruBeforeLoop<V128Ops, Vector128<float>>(ref a, ref b, ref hr, ref zr, ref rhr, (nuint)n);
        }
        else if (n > 0)
        {
            GruBeforeLoop<ScalarOps, float>(ref a, ref b, ref hr, ref zr, ref rhr, (nuint)n);
        }
    }

    // Inputs are read-only and outputs write-only, so the overlapped last vector needs no preload.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GruBeforeLoop<TOps, TV>(ref float gi, ref float gh, ref float h, ref float z, ref float rh, nuint n)
        where TOps : ISimdOps<TV>
        where TV : struct
    {
        nuint count = (nuint)TOps.Count;
        nuint last = n - count;
        for (nuint k = 0; ; k += count)
        {
            if (k > last)
            {
                k = last;
            }

            TV r = VectorMath.Sigmoid<TOps, TV>(TOps.Add(TOps.Load(ref gi, k), TOps.Load(ref gh, k)));
            TOps.Store(VectorMath.Sigmoid<TOps, TV>(TOps.Add(TOps.Load(ref gi, n + k), TOps.Load(ref gh, n + k))), ref z, k);
            TOps.Store(TOps.Multiply(r, TOps.Load(ref h, k)), ref rh, k);
            if (k == last)
            {
                break;
            }
        }
    }

    /// <summary>
    /// GRU "reset before", second half: nPre (H,) = W_in x + b_in + W_hn (r⊙h) + b_hn, z (H,) from
    /// <see cref="GruResetBeforeGates"/>, h (H,) read and updated in place: h' = (1 − z)⊙tanh(nPre) + z⊙h.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GruCombine(ReadOnlySpan<float> nPre, ReadOnlySpan<float> z, Span<float> h, VectorWidth width)
    {
        int n = h.Length;
        if (nPre.Length != n)
        {
            ThrowHelper.Length(nameof(nPre), $"length {nPre.Length} must equal h.Length {n} (H).");
        }

        if (z.Length != n)
        {
            ThrowHelper.Length(nameof(z), $"length {z.Length} must equal h.Length {n} (H).");
        }

        NoOverlap(h, nameof(h), nPre, nameof(nPre));
        NoOverlap(h, nameof(h), z, nameof(z));

        ref float a = ref MemoryMarshal.GetReference(nPre);
        ref float b = ref MemoryMarshal.GetReference(z);
        ref float hr = ref MemoryMarshal.GetReference(h);
        width = Simd.Resolve(width);
        if (width == VectorWidth.V512 && n >= Vector512<float>.Count)
        {
            GruCombineLoop<V512Ops, Vector512<float>>(ref a, ref b, ref hr, (nuint)n);
        }
        else if (width >= VectorWidth.V256 && n >= Vector256<float>.Count)
        {
            GruCombineLoop<V256Ops, Vector256<float>>(ref a, ref b, ref hr, (nuint)n);
        }
        else if (width >= VectorWidth.V128 && n >= Vector128<float>.Count)
        {
            GruCombineLoop<V128Ops, Vector128<float>>(ref a, ref b, ref hr, (nuint)n);
        }
        else if (n > 0)
        {
            GruCombineLoop<ScalarOps, float>(ref a, ref b, ref hr, (nuint)n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GruCombineLoop<TOps, TV>(ref float nPre, ref float z, ref float h, nuint n)
        where TOps : ISimdOps<TV>
        where TV : struct
    {
        nuint count = (nuint)TOps.Count;
        nuint last = n - count;
        TV tailH = TOps.Load(ref h, last);
        nuint k = 0;
        for (; k + (2 * count) <= last; k += 2 * count)
        {
            nuint k1 = k + count; // two vectors side by side, as in StepLstm2
            TV c0 = VectorMath.Tanh<TOps, TV>(TOps.Load(ref nPre, k));
            TV c1 = VectorMath.Tanh<TOps, TV>(TOps.Load(ref nPre, k1));
            TOps.Store(TOps.MultiplyAdd(TOps.Load(ref z, k), TOps.Subtract(TOps.Load(ref h, k), c0), c0), ref h, k);
            TOps.Store(TOps.MultiplyAdd(TOps.Load(ref z, k1), TOps.Subtract(TOps.Load(ref h, k1), c1), c1), ref h, k1);
        }

        for (; k < last; k += count)
        {
            TOps.Store(Combine<TOps, TV>(TOps.Load(ref nPre, k), TOps.Load(ref z, k), TOps.Load(ref h, k)), ref h, k);
        }

        TOps.Store(Combine<TOps, TV>(TOps.Load(ref nPre, last), TOps.Load(ref z, last), tailH), ref h, last);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Combine<TOps, TV>(TV nPre, TV z, TV h)
        where TOps : ISimdOps<TV>
        where TV : struct
    {
        TV cand = VectorMath.Tanh<TOps, TV>(nPre);
        return TOps.MultiplyAdd(z, TOps.Subtract(h, cand), cand);
    }

    // ---- helpers --------------------------------------------------------------------------------------

    private static void NoOverlap(ReadOnlySpan<float> output, string outputName, ReadOnlySpan<float> other, string otherName)
    {
        if (output.Overlaps(other))
        {
            ThrowHelper.Overlap(outputName, otherName);
        }
    }

    private interface ILstmVariant
    {
        static abstract bool Peephole { get; }

        static abstract bool Cifg { get; }
    }

    private readonly struct LstmPlain : ILstmVariant
    {
        public static bool Peephole => false;

        public static bool Cifg => false;
    }

    private readonly struct LstmPeep : ILstmVariant
    {
        public static bool Peephole => true;

        public static bool Cifg => false;
    }

    private readonly struct LstmCoupled : ILstmVariant
    {
        public static bool Peephole => false;

        public static bool Cifg => true;
    }

    private readonly struct LstmCoupledPeep : ILstmVariant
    {
        public static bool Peephole => true;

        public static bool Cifg => true;
    }

    // Inputs of one vector of LSTM lanes, loaded together so the overlapped last vector can be read up front.
    private struct LstmLanes<TV>
        where TV : struct
    {
        public TV I;
        public TV F;
        public TV G;
        public TV O;
        public TV C;
        public TV Pi;
        public TV Pf;
        public TV Po;
    }
}
