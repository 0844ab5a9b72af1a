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

    public UnknownCharAction Action { get; }

    /// <summary>The replacement id for <see cref="UnknownCharAction.MapTo"/>; −1 otherwise.</summary>
    public int Id => Action == UnknownCharAction.MapTo ? _id : -1;

    public static UnknownCharPolicy Skip => default;

    public static UnknownCharPolicy Throw => new(UnknownCharAction.Throw, 0);

    /// <summary>Map every unseen character to token <paramref name="id"/> (checked against the vocabulary when used).</summary>
    public static UnknownCharPolicy MapTo(int id)
    {
        if (id < 0)
        {
            DecodingThrow.OutOfRange(nameof(id), id, "the replacement token id must be ≥ 0.");
        }

        return new UnknownCharPolicy(UnknownCharAction.MapTo, id);
    }
}

/// <summary>
/// A character vocabulary: token t is one UTF-16 code unit. char → id through a 128-entry table for ASCII and a
/// binary search in a sorted table for the rest; id → char by index. Immutable and thread-safe; lookups allocate
/// nothing.
/// </summary>
/// <remarks>
/// Characters the vocabulary lacks follow <see cref="UnknownPolicy"/> (default <see cref="UnknownCharAction.Skip"/>:
/// dropped, so a keyboard never fails on an emoji). Rules checked at construction (ArgumentException naming the
/// argument): at least one token; every token exactly one UTF-16 code unit; no character twice; offsets start at
/// 0, rise by exactly 1 and end at the text length; a MapTo id inside the vocabulary.
/// </remarks>
public sealed class CharVocabulary
{
    private const int AsciiCount = 128;

    private readonly char[] _chars;        // (V,) id → char
    private readonly int[] _ascii;         // (128,) char → id, −1 if absent
    private readonly char[] _otherChars;   // non-ASCII chars, sorted ascending
    private readonly int[] _otherIds;      // ids parallel to _otherChars

    /// <summary>A vocabulary whose token t is <c>chars[t]</c>.</summary>
    public CharVocabulary(ReadOnlySpan<char> chars, UnknownCharPolicy unknownPolicy = default)
    {
        if (chars.IsEmpty)
        {
            DecodingThrow.Argument(nameof(chars), "a character vocabulary needs at least one character.");
        }

        _chars = chars.ToArray();
        _ascii = new int[AsciiCount];
        Array.Fill(_ascii, -1);
        int others = 0;
        for (int i = 0; i < _chars.Length; i++)
        {
            if (_chars[i] >= AsciiCount)
            {
                others++;
            }
        }

        _otherChars = new char[others];
        _otherIds = new int[others];
        int o = 0;
        for (int id = 0; id < _chars.Length; id++)
        {
            char c = _chars[id];
            if (c < AsciiCount)
            {
                if (_ascii[c] >= 0)
                {
                    ThrowDuplicate(nameof(chars), c, _ascii[c], id);
                }

                _ascii[c] = id;
            }
            else
            {
                _otherChars[o] = c;
                _otherIds[o] = id;
                o++;
            }
        }

        Array.Sort(_otherChars, _otherIds);
        for (int i = 1; i < _otherChars.Length; i++)
        {
            if (_otherChars[i] == _otherChars[i - 1])
            {
                ThrowDuplicate(nameof(chars), _otherChars[i], Math.Min(_otherIds[i - 1], _otherIds[i]), Math.Max(_otherIds[i - 1], _otherIds[i]));
            }
        }

        if (unknownPolicy.Action == UnknownCharAction.MapTo && unknownPolicy.Id >= _chars.Length)
        {
            DecodingThrow.OutOfRange(nameof(unknownPolicy), unknownPolicy.Id, $"the MapTo id must be a token id in [0, {_chars.Length}).");
        }

        UnknownPolicy = unknownPolicy;
    }

    /// <summary>
    /// A vocabulary from token texts and V + 1 offsets (token t is <c>text[offsets[t]..offsets[t + 1]]</c>), the layout
    /// of <see cref="IRecurrentModel{TSelf}.VocabularyText"/>.
    /// </summary>
    public CharVocabulary(ReadOnlySpan<char> text, ReadOnlySpan<int> offsets, UnknownCharPolicy unknownPolicy = default)
        : this(ValidateOffsets(text, offsets), unknownPolicy)
    {
    }

    /// <summary>The character vocabulary a compiled model carries.</summary>
    public static CharVocabulary FromModel<TModel>(UnknownCharPolicy unknownPolicy = default)
        where TModel : struct, IRecurrentModel<TModel>
    {
        if (TModel.VocabularyKind != ModelVocabularyKind.Characters)
        {
            DecodingThrow.Argument(nameof(TModel), $"{typeof(TModel).Name} has vocabulary kind {TModel.VocabularyKind}; a CharVocabulary needs Characters.");
        }

        return new CharVocabulary(TModel.VocabularyText, TModel.VocabularyOffsets, unknownPolicy);
    }

    /// <summary>V, the number of tokens.</summary>
    public int Count => _chars.Length;

    public UnknownCharPolicy UnknownPolicy { get; }

    /// <summary>The tokens' characters in id order.</summary>
    public ReadOnlySpan<char> Characters => _chars;

    /// <summary>A copy of this vocabulary with another unseen-character policy.</summary>
    public CharVocabulary WithUnknownPolicy(UnknownCharPolicy unknownPolicy) => new(_chars, unknownPolicy);

    /// <summary>True and the id when <paramref name="c"/> is in the vocabulary (no policy applied).</summary>
    public bool TryGetId(char c, out int id)
    {
        if (c < AsciiCount)
        {
            id = _ascii[c];
            return id >= 0;
        }

        int index = _otherChars.AsSpan().BinarySearch(c);
        if (index >= 0)
        {
            id = _otherIds[index];
            return true;
        }

        id = -1;
        return false;
    }

    /// <summary>The id of <paramref name="c"/>, or the policy's answer: −1 for Skip, the MapTo id, or an exception.</summary>
    public int Map(char c)
    {
        if (TryGetId(c, out int id))
        {
            return id;
        }

        return Unknown(c, -1);
    }

    /// <summary>The character of token <paramref name="id"/>.</summary>
    public char GetChar(int id)
    {
        if ((uint)id >= (uint)_chars.Length)
        {
            DecodingThrow.Token(nameof(id), id, _chars.Length);
        }

        return _chars[id];
    }

    /// <summary>
    /// Encodes <paramref name="text"/> into <paramref name="ids"/> under the unseen-character policy; returns the
    /// count written. Throws when <paramref name="ids"/> is too short for the result.
    /// </summary>
    public int Encode(ReadOnlySpan<char> text, Span<int> ids)
    {
        int count = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (!TryGetId(c, out int id))
            {
                id = Unknown(c, i);
                if (id < 0)
                {
                    continue;
                }
            }

            if (count == ids.Length)
            {
                DecodingThrow.Argument(nameof(ids), "ids is too short for the encoded text.");
            }

            ids[count++] = id;
        }

        return count;
    }

    /// <summary>Writes the characters of <paramref name="ids"/> into <paramref name="text"/>; returns ids.Length.</summary>
    public int Decode(ReadOnlySpan<int> ids, Span<char> text)
    {
        if (text.Length < ids.Length)
        {
            DecodingThrow.TooShort(nameof(text), text.Length, ids.Length);
        }

        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if ((uint)id >= (uint)_chars.Length)
            {
                DecodingThrow.Token(nameof(ids), id, _chars.Length);
            }

            text[i] = _chars[id];
        }

        return ids.Length;
    }

    private int Unknown(char c, int position)
    {
        switch (UnknownPolicy.Action)
        {
            case UnknownCharAction.MapTo:
                return UnknownPolicy.Id;
            case UnknownCharAction.Throw:
                ThrowUnknown(c, position);
                return -1;
            default:
                return -1;
        }
    }

    private static void ThrowUnknown(char c, int position) =>
        throw new ArgumentException(
            position >= 0
                ? $"character U+{(int)c:X4} at position {position} is not in the vocabulary (policy Throw)."
                : $"character U+{(int)c:X4} is not in the vocabulary (policy Throw).",
            position >= 0 ? "text" : "c");

    private static void ThrowDuplicate(string argument, char c, int first, int second) =>
        throw new ArgumentException(
            $"character U+{(int)c:X4} appears at ids {first} and {second}; a vocabulary must not repeat a token.", argument);

    private static ReadOnlySpan<char> ValidateOffsets(ReadOnlySpan<char> text, ReadOnlySpan<int> offsets)
    {
        if (offsets.Length < 2)
        {
            DecodingThrow.Argument(nameof(offsets), "offsets needs V + 1 ≥ 2 entries (at least one token).");
        }

        if (offsets[0] != 0)
        {
            DecodingThrow.Argument(nameof(offsets), $"offsets[0] is {offsets[0]}; it must be 0.");
        }

        for (int t = 0; t + 1 < offsets.Length; t++)
        {
            int length = offsets[t + 1] - offsets[t];
            if (length != 1)
            {
                DecodingThrow.Argument(
                    nameof(offsets),
                    length < 0
                        ? $"offsets are not monotonic at token {t} ({offsets[t]} then {offsets[t + 1]})."
                        : $"token {t} is {length} characters long; every token of a character vocabulary is exactly one UTF-16 code unit.");
            }
        }

        if (offsets[^1] != text.Length)
        {
            DecodingThrow.Argument(nameof(offsets), $"the last offset is {offsets[^1]}; it must equal the text length {text.Length}.");
        }

        return text;
    }
}
