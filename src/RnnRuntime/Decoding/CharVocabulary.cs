using System.Runtime.CompilerServices;

namespace RnnEmbedded.Runtime;

/// <summary>What a <see cref="CharVocabulary"/> does with a character the model never saw.</summary>
public enum UnknownCharAction
{
    /// <summary>Drop the character: it produces no token (and no model step). The default.</summary>
    Skip = 0,

    /// <summary>Replace it by a fixed token id (<see cref="UnknownCharPolicy.Id"/>).</summary>
    MapTo = 1,

    /// <summary>Throw an <see cref="ArgumentException"/> naming the character and its position.</summary>
    Throw = 2,
}

/// <summary>The unseen-character policy of a <see cref="CharVocabulary"/>. <c>default</c> is <see cref="Skip"/>.</summary>
public readonly record struct UnknownCharPolicy
{
    private readonly int _id; // the MapTo id; 0 for the other actions, so default(UnknownCharPolicy) == Skip

    private UnknownCharPolicy(UnknownCharAction action, int id)
    {
        Action = action;
        _id = id;
    }

    /// <summary>What happens to a character the vocabulary lacks.</summary>
    public UnknownCharAction Action { get; }

    /// <summary>The replacement id for <see cref="UnknownCharAction.MapTo"/>; −1 otherwise.</summary>
    public int Id => Action == UnknownCharAction.MapTo ? _id : -1;

    /// <summary>Drop unseen characters (the default).</summary>
    public static UnknownCharPolicy Skip => default;

    /// <summary>Throw an <see cref="ArgumentException"/> on an unseen character.</summary>
    public static UnknownCharPolicy Throw => new(UnknownCharAction.Throw, 0);

    /// <summary>Map every unseen character to token <paramref name="id"/> (checked against the vocabulary when used).</summary>
    public static UnknownCharPolicy MapTo(int id)
    {
        if (id < 0)
        {
            ThrowHelper.OutOfRange(nameof(id), id, "the replacement token id must be ≥ 0.");
        }

        return new UnknownCharPolicy(UnknownCharAction.MapTo, id);
    }
}

/// <summary>
/// A character vocabulary: token t is one Unicode code point — one UTF-16 code unit, or a surrogate pair for code
/// points above U+FFFF (emoji). Code point → id through a 128-entry table for ASCII and a binary search in a sorted
/// table for the rest; id → text by slicing one contiguous buffer. Immutable and thread-safe; lookups allocate
/// nothing.
/// </summary>
/// <remarks>
/// Characters the vocabulary lacks follow <see cref="UnknownPolicy"/> (default <see cref="UnknownCharAction.Skip"/>:
/// dropped, so a keyboard never fails on an emoji). A surrogate pair is looked up as one code point; a lone
/// surrogate is an unknown character. Rules checked at construction (ArgumentException naming the argument): at
/// least one token; every token exactly one code point; no code point twice; offsets start at 0, never decrease
/// and end at the text length; a MapTo id inside the vocabulary.
/// </remarks>
public sealed class CharVocabulary
{
    private const int AsciiCount = 128;

    private readonly char[] _text;         // all tokens concatenated (1 or 2 UTF-16 units each)
    private readonly int[] _offsets;       // (V + 1,) token t is _text[_offsets[t].._offsets[t + 1]]
    private readonly int[] _ascii;         // (128,) code point → id, −1 if absent
    private readonly int[] _otherKeys;     // non-ASCII code points, sorted ascending
    private readonly int[] _otherIds;      // ids parallel to _otherKeys

    /// <summary>A vocabulary whose tokens are the code points of <paramref name="chars"/>, in order (a surrogate pair is one token).</summary>
    public CharVocabulary(ReadOnlySpan<char> chars, UnknownCharPolicy unknownPolicy = default)
        : this(chars, SplitCodePoints(chars), unknownPolicy, nameof(chars))
    {
    }

    /// <summary>
    /// A vocabulary from token texts and V + 1 offsets (token t is <c>text[offsets[t]..offsets[t + 1]]</c>), the layout
    /// of <see cref="IVocabularyModel{TSelf}.VocabularyText"/>.
    /// </summary>
    public CharVocabulary(ReadOnlySpan<char> text, ReadOnlySpan<int> offsets, UnknownCharPolicy unknownPolicy = default)
        : this(text, offsets.ToArray(), unknownPolicy, nameof(offsets))
    {
    }

    private CharVocabulary(ReadOnlySpan<char> text, int[] offsets, UnknownCharPolicy unknownPolicy, string argument)
    {
        if (offsets.Length < 2)
        {
            ThrowHelper.Argument(argument, "a character vocabulary needs at least one token.");
        }

        if (offsets[0] != 0)
        {
            ThrowHelper.Argument(argument, $"offsets[0] is {offsets[0]}; it must be 0.");
        }

        int count = offsets.Length - 1;
        for (int t = 0; t < count; t++)
        {
            int length = offsets[t + 1] - offsets[t];
            if (length < 0)
            {
                ThrowHelper.Argument(argument, $"offsets are not monotonic at token {t} ({offsets[t]} then {offsets[t + 1]}).");
            }

            if (offsets[t + 1] > text.Length)
            {
                break; // reported below as a length mismatch
            }

            bool oneCodePoint = (length == 1 && !char.IsSurrogate(text[offsets[t]]))
                || (length == 2 && char.IsSurrogatePair(text[offsets[t]], text[offsets[t] + 1]));
            if (!oneCodePoint)
            {
                ThrowHelper.Argument(
                    argument,
                    $"token {t} is {length} UTF-16 units long and not one code point; every token of a character vocabulary is one character (a surrogate pair counts as one).");
            }
        }

        if (offsets[count] != text.Length)
        {
            ThrowHelper.Argument(argument, $"the last offset is {offsets[count]}; it must equal the text length {text.Length}.");
        }

        _text = text.ToArray();
        _offsets = offsets;
        _ascii = new int[AsciiCount];
        Array.Fill(_ascii, -1);
        int others = 0;
        for (int t = 0; t < count; t++)
        {
            if (CodePointOf(t) >= AsciiCount)
            {
                others++;
            }
        }

        _otherKeys = new int[others];
        _otherIds = new int[others];
        int o = 0;
        for (int t = 0; t < count; t++)
        {
            int cp = CodePointOf(t);
            if (cp < AsciiCount)
            {
                if (_ascii[cp] >= 0)
                {
                    ThrowDuplicate(argument, cp, _ascii[cp], t);
                }

                _ascii[cp] = t;
            }
            else
            {
                _otherKeys[o] = cp;
                _otherIds[o] = t;
                o++;
            }
        }

        Array.Sort(_otherKeys, _otherIds);
        for (int i = 1; i < _otherKeys.Length; i++)
        {
            if (_otherKeys[i] == _otherKeys[i - 1])
            {
                ThrowDuplicate(argument, _otherKeys[i], Math.Min(_otherIds[i - 1], _otherIds[i]), Math.Max(_otherIds[i - 1], _otherIds[i]));
            }
        }

        if (unknownPolicy.Action == UnknownCharAction.MapTo && unknownPolicy.Id >= count)
        {
            ThrowHelper.OutOfRange(nameof(unknownPolicy), unknownPolicy.Id, $"the MapTo id must be a token id in [0, {count}).");
        }

        HasSurrogatePairs = _text.Length != count;
        UnknownPolicy = unknownPolicy;
    }

    /// <summary>The character vocabulary a compiled model carries.</summary>
    public static CharVocabulary FromModel<TModel>(UnknownCharPolicy unknownPolicy = default)
        where TModel : struct, IVocabularyModel<TModel>
    {
        if (TModel.VocabularyKind != ModelVocabularyKind.Characters)
        {
            ThrowHelper.Argument(nameof(TModel), $"{typeof(TModel).Name} has vocabulary kind {TModel.VocabularyKind}; a CharVocabulary needs Characters.");
        }

        return new CharVocabulary(TModel.VocabularyText, TModel.VocabularyOffsets, unknownPolicy);
    }

    /// <summary>V, the number of tokens.</summary>
    public int Count => _offsets.Length - 1;

    /// <summary>What lookups do with a character the vocabulary lacks (see <see cref="WithUnknownPolicy"/>).</summary>
    public UnknownCharPolicy UnknownPolicy { get; }

    /// <summary>True when some token is a surrogate pair (a code point above U+FFFF), i.e. two UTF-16 units.</summary>
    public bool HasSurrogatePairs { get; }

    /// <summary>All tokens concatenated, in id order.</summary>
    public ReadOnlySpan<char> Text => _text;

    /// <summary>V + 1 offsets into <see cref="Text"/>.</summary>
    public ReadOnlySpan<int> Offsets => _offsets;

    /// <summary>A copy of this vocabulary with another unseen-character policy.</summary>
    public CharVocabulary WithUnknownPolicy(UnknownCharPolicy unknownPolicy) => new(_text, _offsets, unknownPolicy);

    /// <summary>True and the id when the code point <paramref name="codePoint"/> is in the vocabulary (no policy applied).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryGetId(int codePoint, out int id)
    {
        if ((uint)codePoint < AsciiCount)
        {
            id = _ascii[codePoint];
            return id >= 0;
        }

        int index = _otherKeys.AsSpan().BinarySearch(codePoint);
        if (index >= 0)
        {
            id = _otherIds[index];
            return true;
        }

        id = -1;
        return false;
    }

    /// <summary>True and the id when <paramref name="c"/> is in the vocabulary (no policy applied). A lone surrogate never is.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryGetId(char c, out int id)
    {
        if (char.IsSurrogate(c))
        {
            id = -1;
            return false;
        }

        return TryGetId((int)c, out id);
    }

    /// <summary>The id of <paramref name="c"/>, or the policy's answer: −1 for Skip, the MapTo id, or an exception.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Map(char c)
    {
        if (TryGetId(c, out int id))
        {
            return id;
        }

        return Unknown(c, -1);
    }

    /// <summary>
    /// The id of the code point starting at <paramref name="position"/> (a surrogate pair counts as one), or the
    /// policy's answer (−1 for Skip); advances <paramref name="position"/> past it.
    /// </summary>
    public int MapAt(ReadOnlySpan<char> text, ref int position)
    {
        if ((uint)position >= (uint)text.Length)
        {
            ThrowHelper.OutOfRange(nameof(position), position, "position must be inside text.");
        }

        char c = text[position];
        int start = position;
        if (char.IsHighSurrogate(c) && position + 1 < text.Length && char.IsLowSurrogate(text[position + 1]))
        {
            position += 2;
            int codePoint = char.ConvertToUtf32(c, text[start + 1]);
            return TryGetId(codePoint, out int pairId) ? pairId : Unknown(codePoint, start);
        }

        position++;
        return TryGetId(c, out int id) ? id : Unknown(c, start);
    }

    /// <summary>The text of token <paramref name="id"/>: one UTF-16 unit, or two for a surrogate pair.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ReadOnlySpan<char> GetText(int id)
    {
        if ((uint)id >= (uint)Count)
        {
            ThrowHelper.Token(nameof(id), id, Count);
        }

        return _text.AsSpan(_offsets[id], _offsets[id + 1] - _offsets[id]);
    }

    /// <summary>The character of token <paramref name="id"/>; throws for a surrogate-pair token (use <see cref="GetText"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public char GetChar(int id)
    {
        ReadOnlySpan<char> text = GetText(id);
        if (text.Length != 1)
        {
            ThrowHelper.Argument(nameof(id), "the token is a surrogate pair (two UTF-16 units); use GetText.");
        }

        return text[0];
    }

    /// <summary>
    /// Encodes <paramref name="text"/> into <paramref name="ids"/> under the unseen-character policy; returns the
    /// count written. Throws when <paramref name="ids"/> is too short for the result.
    /// </summary>
    public int Encode(ReadOnlySpan<char> text, Span<int> ids)
    {
        int count = 0;
        int position = 0;
        while (position < text.Length)
        {
            int id = MapAt(text, ref position);
            if (id < 0)
            {
                continue;
            }

            if (count == ids.Length)
            {
                ThrowHelper.Argument(nameof(ids), "ids is too short for the encoded text.");
            }

            ids[count++] = id;
        }

        return count;
    }

    /// <summary>UTF-16 units <see cref="Decode"/> writes for <paramref name="ids"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GetDecodedLength(ReadOnlySpan<int> ids)
    {
        int length = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if ((uint)id >= (uint)Count)
            {
                ThrowHelper.Token(nameof(ids), id, Count);
            }

            length += _offsets[id + 1] - _offsets[id];
        }

        return length;
    }

    /// <summary>Writes the characters of <paramref name="ids"/> into <paramref name="text"/>; returns the UTF-16 units written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Decode(ReadOnlySpan<int> ids, Span<char> text)
    {
        int required = GetDecodedLength(ids);
        if (text.Length < required)
        {
            ThrowHelper.TooShort(nameof(text), text.Length, required);
        }

        int written = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            int begin = _offsets[id];
            int length = _offsets[id + 1] - begin;
            text[written] = _text[begin];
            if (length == 2)
            {
                text[written + 1] = _text[begin + 1];
            }

            written += length;
        }

        return written;
    }

    private int CodePointOf(int id)
    {
        int begin = _offsets[id];
        return _offsets[id + 1] - begin == 2 ? char.ConvertToUtf32(_text[begin], _text[begin + 1]) : _text[begin];
    }

    /// <summary>The id of the surrogate pair (<paramref name="high"/>, <paramref name="low"/>), or the policy's answer.</summary>
    internal int MapPair(char high, char low)
    {
        int codePoint = char.ConvertToUtf32(high, low);
        return TryGetId(codePoint, out int id) ? id : Unknown(codePoint, -1);
    }

    private int Unknown(int codePoint, int position)
    {
        switch (UnknownPolicy.Action)
        {
            case UnknownCharAction.MapTo:
                return UnknownPolicy.Id;
            case UnknownCharAction.Throw:
                ThrowUnknown(codePoint, position);
                return -1;
            default:
                return -1;
        }
    }

    private static void ThrowUnknown(int codePoint, int position) =>
        throw new ArgumentException(
            position >= 0
                ? $"character U+{codePoint:X4} at position {position} is not in the vocabulary (policy Throw)."
                : $"character U+{codePoint:X4} is not in the vocabulary (policy Throw).",
            position >= 0 ? "text" : "c");

    private static void ThrowDuplicate(string argument, int codePoint, int first, int second) =>
        throw new ArgumentException(
            $"character U+{codePoint:X4} appears at ids {first} and {second}; a vocabulary must not repeat a token.", argument);

    /// <summary>Offsets splitting <paramref name="chars"/> into code points (a valid surrogate pair is one token).</summary>
    private static int[] SplitCodePoints(ReadOnlySpan<char> chars)
    {
        if (chars.IsEmpty)
        {
            ThrowHelper.Argument(nameof(chars), "a character vocabulary needs at least one character.");
        }

        int count = 0;
        for (int i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }

            count++;
        }

        var offsets = new int[count + 1];
        int t = 0;
        for (int i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }

            offsets[++t] = i + 1;
        }

        return offsets;
    }
}
