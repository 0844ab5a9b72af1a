using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnEmbedded.Runtime.CompilerServices;

/// <summary>
/// Float storage whose first element sits on a 64-byte boundary, for packed weights. Managed arrays and
/// <c>static ReadOnlySpan&lt;float&gt;</c> data are only 4- or 8-byte aligned, so nearly every 64-byte Vector512
/// load of a panel straddles two cache lines. bench/KernelBench measured the aligned copy 7% faster at V512 on
/// 1024×320 in the quietest run (more in noisier ones; docs/kernels.md). Backed by a pinned-object-heap array (never moves, no native memory to free).
/// Allocate once (e.g. in a static initializer), never on the hot path.
/// </summary>
internal sealed class AlignedBuffer
{
    /// <summary>Byte alignment of <see cref="Span"/>'s first element (one cache line, one Vector512).</summary>
    public const int Alignment = 64;

    private const int SlackFloats = (Alignment / sizeof(float)) - 1;

    private readonly float[] _array;
    private readonly int _offset;

    /// <summary>A zeroed buffer of <paramref name="length"/> floats.</summary>
    public AlignedBuffer(int length)
    {
        if (length < 0 || length > Array.MaxLength - SlackFloats)
        {
            ThrowHelper.OutOfRange(nameof(length), $"{length} must be in [0, {Array.MaxLength - SlackFloats}].");
        }

        _array = GC.AllocateArray<float>(length + SlackFloats, pinned: true);
        Length = length;
        unsafe
        {
            nuint address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
            nuint misalignment = address & (Alignment - 1);
            _offset = misalignment == 0 ? 0 : (int)((Alignment - misalignment) / sizeof(float));
        }
    }

    /// <summary>An aligned copy of <paramref name="source"/>.</summary>
    public AlignedBuffer(ReadOnlySpan<float> source)
        : this(source.Length)
    {
        source.CopyTo(Span);
    }

    /// <summary>Number of floats.</summary>
    public int Length { get; }

    /// <summary>The floats; the first one is 64-byte aligned.</summary>
    public Span<float> Span => MemoryMarshal.CreateSpan(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_array), _offset), Length);
}
