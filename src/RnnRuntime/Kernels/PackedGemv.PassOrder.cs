using System.Runtime.CompilerServices;

namespace RnnEmbedded.Runtime.CompilerServices;

// Panel order of the single-vector product (docs/benchmarks.md, "The GRU H=512 step: panel order").
//
// A recurrent step multiplies by the same W_hh every step. When W is bigger than L2 (H=512: 3 MB for a GRU, 4 MB for
// an LSTM, against 2 MB of L2 per core on the Xeon of the benchmarks), a pass that always runs front to back finds
// none of W in L2: the lines left there by the previous pass are its last ones, and each is evicted before this
// pass reaches it, so every step streams all of W from L3. Walking the panels back to front on every other call
// starts each pass where the previous one ended, on the lines still in L2: measured 1.5x faster for a 1536 x 512
// matrix, 1.4x for 2048 x 512. Each panel's rows are computed the same way in either order, so the result is
// bit-for-bit the same; only the order of the panels changes.
//
// The direction is kept per thread (each core has its own L2) and per matrix (a step may multiply by several), in
// a small table keyed by the matrix's address. It is a hint: a lost entry (more than Slots big matrices per thread,
// or a managed matrix the GC moved) costs one pass in the wrong direction, never a wrong result.
public static partial class PackedGemv
{
    // Matrices smaller than this fit in any L2 (or in L1), so their order does not matter and they skip the table.
    private const int AlternateMinFloats = 256 * 1024 / sizeof(float);

    [ThreadStatic]
    private static PassOrderTable t_passOrder;

    /// <summary>
    /// Whether this call walks the matrix at <paramref name="w"/> (<paramref name="length"/> floats) back to front:
    /// false for a matrix below 256 KB; otherwise the opposite of this thread's previous call on the same matrix.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe bool NextPassBackward(ref float w, int length) =>
        length >= AlternateMinFloats && t_passOrder.Next((nint)Unsafe.AsPointer(ref w));

    private struct PassOrderTable
    {
        private const int Slots = 4;

        private nint _key0;
        private nint _key1;
        private nint _key2;
        private nint _key3;
        private int _backward; // bit i: slot i's next pass runs back to front
        private int _victim; // the slot a new matrix takes (round robin)

        // Returns the direction of this pass over `key` and flips it for the next one.
        public bool Next(nint key)
        {
            int slot = key == _key0 ? 0 : key == _key1 ? 1 : key == _key2 ? 2 : key == _key3 ? 3 : -1;
            if (slot < 0)
            {
                slot = _victim;
                _victim = (_victim + 1) % Slots;
                switch (slot)
                {
                    case 0: _key0 = key; break;
                    case 1: _key1 = key; break;
                    case 2: _key2 = key; break;
                    default: _key3 = key; break;
                }

                _backward &= ~(1 << slot); // a new matrix starts front to back
            }

            int bit = 1 << slot;
            bool backward = (_backward & bit) != 0;
            _backward ^= bit;
            return backward;
        }
    }
}
