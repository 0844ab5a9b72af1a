using System.Buffers.Binary;
using System.ComponentModel;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnEmbedded.Runtime.CompilerServices;

/// <summary>
/// A generated model's weights, embedded in its assembly as a manifest resource (docs/generator.md, "Weights:
/// manifest resources"): <see cref="Open"/> finds the resource once (the generated struct keeps its address in a
/// static field), <see cref="Span{T}"/> views a tensor inside it. The resource sits 8-byte aligned in the loaded
/// image; a blob of at most <see cref="AlignDefaultLimit"/> bytes is copied once into 64-byte-aligned native memory
/// (cache-line-aligned panels: up to 1.9× faster steps where the weights live in L1/L2), a larger one is read in
/// place with no copy; <see cref="AlignSwitch"/> overrides the choice either way. A host that hands out a copying
/// stream always gets the aligned copy. No allocation after the first call. Called only by generated code.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static unsafe class EmbeddedWeights
{
    /// <summary>The blob's first 8 bytes: "RNNWGT01" (format version 1).</summary>
    public const ulong Magic = 0x31305447574E4E52; // "RNNWGT01" little-endian

    /// <summary>The blob header's size; the first tensor starts here.</summary>
    public const int HeaderSize = 64;

    /// <summary>
    /// The AppContext switch that chooses between an aligned copy and zero-copy: <c>true</c> copies every blob that
    /// is not 64-byte aligned in the image (it is 8-byte aligned in practice) once into 64-byte-aligned native memory;
    /// <c>false</c> reads every blob in place. Unset, blobs up to <see cref="AlignDefaultLimit"/> bytes are copied.
    /// An app sets it with <c>&lt;RuntimeHostConfigurationOption Include="RnnEmbedded.AlignWeights"
    /// Value="false" /&gt;</c> (docs/generator.md).
    /// </summary>
    public const string AlignSwitch = "RnnEmbedded.AlignWeights";

    /// <summary>
    /// Without <see cref="AlignSwitch"/>, a misaligned blob of at most this many bytes (64 MiB) is copied to
    /// 64-byte-aligned memory and a larger one is read in place: small models' weights stay in the caches, where
    /// split cache-line loads cost up to 1.9× per step; large ones stream from memory, where alignment is worth
    /// 1–3 % and a copy would double their footprint (docs/generator.md, "Alignment").
    /// </summary>
    public const long AlignDefaultLimit = 64L << 20;

    /// <summary>
    /// Finds the weights resource <paramref name="resourceName"/> in <paramref name="assembly"/>, checks its header
    /// against what the generated code was planned for, and returns the address of its first byte.
    /// </summary>
    /// <param name="assembly">The generated model's assembly.</param>
    /// <param name="resourceName">The manifest resource's logical name.</param>
    /// <param name="length">The blob's length in bytes, header included.</param>
    /// <param name="fingerprint">The layout fingerprint the blob's header must carry.</param>
    /// <returns>The blob's address; valid for the life of the process.</returns>
    /// <exception cref="InvalidOperationException">The resource is missing, or was packed for another layout.</exception>
    public static nint Open(Assembly assembly, string resourceName, long length, ulong fingerprint)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentNullException.ThrowIfNull(resourceName);
        Stream? stream = assembly.GetManifestResourceStream(resourceName);
        if (stream is null)
        {
            throw new InvalidOperationException(
                $"The weights resource '{resourceName}' is not in assembly '{assembly.GetName().Name}'. RnnEmbedded.targets embeds it " +
                "for every RnnModel item; a model compiled another way must embed the .rnnweights file under this name (docs/generator.md).");
        }

        byte* data;
        bool align = AppContext.TryGetSwitch(AlignSwitch, out bool set) ? set : stream.Length <= AlignDefaultLimit;
        if (stream is UnmanagedMemoryStream unmanaged && ((nint)unmanaged.PositionPointer % 64 == 0 || !align))
        {
            data = unmanaged.PositionPointer; // the resource inside the loaded image: read in place
        }
        else
        {
            data = CopyOnce(stream);
        }

        long actual = stream.Length;
        stream.Dispose(); // an UnmanagedMemoryStream over the image does not own the memory
        if (actual != length || actual < HeaderSize || BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(data, 8)) != Magic
            || BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(data + 8, 8)) != fingerprint)
        {
            throw new InvalidOperationException(
                $"The weights resource '{resourceName}' in assembly '{assembly.GetName().Name}' ({actual} bytes) does not match the generated " +
                $"code ({length} bytes, layout {fingerprint:x16}): it was packed by another version of RnnEmbedded. Rebuild the project.");
        }

        return (nint)data;
    }

    /// <summary><paramref name="count"/> elements of <typeparamref name="T"/> at <paramref name="byteOffset"/> of a blob from <see cref="Open"/>.</summary>
    /// <typeparam name="T">float, ushort (bfloat16) or sbyte (int8).</typeparam>
    /// <param name="blob">The address <see cref="Open"/> returned.</param>
    /// <param name="byteOffset">The tensor's offset in the blob (a multiple of 64).</param>
    /// <param name="count">The tensor's element count.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<T> Span<T>(nint blob, long byteOffset, int count)
        where T : unmanaged =>
        new((byte*)blob + byteOffset, count);

    private static byte* CopyOnce(Stream stream)
    {
        long length = stream.Length;
        var copy = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(length, 1), 64); // never freed: lives as long as the type
        var target = new UnmanagedMemoryStream(copy, length, length, FileAccess.Write);
        stream.CopyTo(target);
        return copy;
    }
}
