using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace RnnEmbedded.Compiler.Formats;

/// <summary>The kind of a <see cref="JsonValue"/>.</summary>
public enum JsonKind
{
    Object,
    Array,
    String,
    Number,
    True,
    False,
    Null,
}

/// <summary>
/// A parsed JSON value. Objects keep their members in document order (duplicates too, when the parser was
/// told to allow them); numbers keep their raw text so callers can insist on integer form.
/// </summary>
public sealed class JsonValue
{
    private static readonly JsonValue[] s_noItems = new JsonValue[0];
    private static readonly KeyValuePair<string, JsonValue>[] s_noMembers = new KeyValuePair<string, JsonValue>[0];

    private readonly string? _text;         // String: the decoded value; Number: the whole source text
    private readonly int _start;            // Number: raw text start in _text
    private readonly int _length;           // Number: raw text length
    private readonly object? _children;     // Array: IReadOnlyList<JsonValue>; Object: IReadOnlyList<KeyValuePair<..>>

    private JsonValue(JsonKind kind, int offset, string? text = null, int start = 0, int length = 0,
        IReadOnlyList<JsonValue>? items = null, IReadOnlyList<KeyValuePair<string, JsonValue>>? members = null)
    {
        Kind = kind;
        Offset = offset;
        _text = text;
        _start = start;
        _length = length;
        _children = (object?)items ?? members;
    }

    public JsonKind Kind { get; }

    /// <summary>Character offset of the value's first character in the parsed text.</summary>
    public int Offset { get; }

    /// <summary>Object members in document order.</summary>
    public IReadOnlyList<KeyValuePair<string, JsonValue>> Members =>
        Kind == JsonKind.Object ? (IReadOnlyList<KeyValuePair<string, JsonValue>>)_children! : throw WrongKind(JsonKind.Object);

    /// <summary>Array items in document order.</summary>
    public IReadOnlyList<JsonValue> Items => Kind == JsonKind.Array ? (IReadOnlyList<JsonValue>)_children! : throw WrongKind(JsonKind.Array);

    /// <summary>The decoded string.</summary>
    public string StringValue => Kind == JsonKind.String ? _text! : throw WrongKind(JsonKind.String);

    /// <summary>The number exactly as written, e.g. "-1.5e3".</summary>
    public string RawNumber => Kind == JsonKind.Number ? _text!.Substring(_start, _length) : throw WrongKind(JsonKind.Number);

    /// <summary>True for a number written as an integer (no fraction, no exponent).</summary>
    public bool IsIntegerLiteral
    {
        get
        {
            if (Kind != JsonKind.Number)
            {
                return false;
            }

            for (int i = _start; i < _start + _length; i++)
            {
                char c = _text![i];
                if (c == '.' || c == 'e' || c == 'E')
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>True for a number written with a leading minus sign, including "-0".</summary>
    public bool HasMinusSign => Kind == JsonKind.Number && _text![_start] == '-';

    /// <summary>A short human-readable description of the value for error messages ("a string", "the number 1.5").</summary>
    public string Describe()
    {
        switch (Kind)
        {
            case JsonKind.Object:
                return "an object";
            case JsonKind.Array:
                return "an array";
            case JsonKind.String:
                return "a string";
            case JsonKind.Number:
                return _length <= 40 ? "the number " + RawNumber : "a " + _length + "-character number";
            case JsonKind.True:
                return "true";
            case JsonKind.False:
                return "false";
            default:
                return "null";
        }
    }

    /// <summary>
    /// The value as a 64-bit integer when it is written in integer form and fits; false otherwise
    /// (fraction, exponent, out of range, or not a number).
    /// </summary>
    public bool TryGetInt64(out long value)
    {
        value = 0;
        if (Kind != JsonKind.Number || !IsIntegerLiteral)
        {
            return false;
        }

        int i = _start;
        int end = _start + _length;
        bool negative = _text![i] == '-';
        if (negative)
        {
            i++;
        }

        // Accumulate negatively so that long.MinValue fits.
        long acc = 0;
        for (; i < end; i++)
        {
            int digit = _text[i] - '0';
            if (acc < (long.MinValue + digit) / 10)
            {
                return false;
            }

            acc = acc * 10 - digit;
        }

        if (!negative)
        {
            if (acc == long.MinValue)
            {
                return false;
            }

            acc = -acc;
        }

        value = acc;
        return true;
    }

    /// <summary>The value as a double (±Infinity when out of range).</summary>
    public double GetDouble()
    {
        if (Kind != JsonKind.Number)
        {
            throw WrongKind(JsonKind.Number);
        }

        try
        {
            return double.Parse(RawNumber, NumberStyles.Float, CultureInfo.InvariantCulture);
        }
        catch (OverflowException)
        {
            // .NET Framework throws where .NET Core returns ±Infinity.
            return _text![_start] == '-' ? double.NegativeInfinity : double.PositiveInfinity;
        }
    }

    /// <summary>The first member named <paramref name="key"/> (ordinal), or null.</summary>
    public JsonValue? GetMember(string key)
    {
        foreach (KeyValuePair<string, JsonValue> member in Members)
        {
            if (string.Equals(member.Key, key, StringComparison.Ordinal))
            {
                return member.Value;
            }
        }

        return null;
    }

    internal static JsonValue NewString(int offset, string value) => new(JsonKind.String, offset, value);

    internal static JsonValue NewNumber(int offset, string text, int length) => new(JsonKind.Number, offset, text, offset, length);

    internal static JsonValue NewLiteral(JsonKind kind, int offset) => new(kind, offset);

    internal static JsonValue NewArray(int offset, List<JsonValue>? items) =>
        new(JsonKind.Array, offset, items: items is null ? s_noItems : items);

    internal static JsonValue NewObject(int offset, List<KeyValuePair<string, JsonValue>>? members) =>
        new(JsonKind.Object, offset, members: members is null ? s_noMembers : members);

    private InvalidOperationException WrongKind(JsonKind wanted) =>
        new($"JSON value at offset {Offset} is {Describe()}, not {wanted.ToString().ToLowerInvariant()}.");
}

/// <summary>Malformed JSON; <see cref="Offset"/> is the character offset where parsing stopped.</summary>
public sealed class JsonParseException : FormatException
{
    public JsonParseException(int offset, string reason)
        : base($"{reason} at offset {offset}")
    {
        Offset = offset;
        Reason = reason;
    }

    public int Offset { get; }

    public string Reason { get; }
}

/// <summary>
/// A small, strict RFC 8259 JSON parser and string writer (netstandard2.0 has no System.Text.Json).
/// Strict: no comments, no trailing commas, no leading zeros, no NaN, no lone surrogates, no raw control
/// characters in strings, nothing but whitespace after the value. Nesting is limited to <see cref="MaxDepth"/>
/// levels, so hostile input cannot drive it into deep recursion; memory is O(input length).
/// </summary>
public static class Json
{
    /// <summary>Deepest nesting of arrays and objects accepted.</summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// Parses <paramref name="text"/>. Duplicate keys in an object are an error unless
    /// <paramref name="allowDuplicateKeys"/>, in which case every member is kept in document order and the caller
    /// decides.
    /// </summary>
    /// <exception cref="JsonParseException">The text is not one valid JSON value.</exception>
    public static JsonValue Parse(string text, bool allowDuplicateKeys = false)
    {
        if (text is null)
        {
            throw new ArgumentNullException(nameof(text));
        }

        var parser = new Parser(text, allowDuplicateKeys);
        return parser.ParseDocument();
    }

    /// <summary>Writes <paramref name="value"/> as a JSON string literal (with quotes).</summary>
    /// <exception cref="ArgumentException">The string holds a lone surrogate (not valid Unicode).</exception>
    public static void WriteString(StringBuilder builder, string value)
    {
        builder.Append('"');
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            switch (c)
            {
                case '"':
                    builder.Append("\\\"");
                    break;
                case '\\':
                    builder.Append("\\\\");
                    break;
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                case '\b':
                    builder.Append("\\b");
                    break;
                case '\f':
                    builder.Append("\\f");
                    break;
                default:
                    if (c < 0x20 || c == '\u007f')
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                    {
                        builder.Append(c).Append(value[i + 1]);
                        i++;
                    }
                    else if (char.IsSurrogate(c))
                    {
                        throw new ArgumentException($"String has a lone surrogate U+{(int)c:X4} at index {i}; it cannot be written as UTF-8 JSON.", nameof(value));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        builder.Append('"');
    }

    /// <summary>The JSON string literal for <paramref name="value"/>, quotes included.</summary>
    public static string Quote(string value)
    {
        var builder = new StringBuilder(value.Length + 2);
        WriteString(builder, value);
        return builder.ToString();
    }

    /// <summary>A JSON array of strings, e.g. for the <c>rnn.vocab</c> metadata value.</summary>
    public static string StringArray(IEnumerable<string> values)
    {
        var builder = new StringBuilder();
        builder.Append('[');
        bool first = true;
        foreach (string value in values)
        {
            if (!first)
            {
                builder.Append(',');
            }

            WriteString(builder, value);
            first = false;
        }

        return builder.Append(']').ToString();
    }

    private struct Parser
    {
        private readonly string _text;
        private readonly bool _allowDuplicateKeys;
        private int _pos;
        private StringBuilder? _scratch;

        public Parser(string text, bool allowDuplicateKeys)
        {
            _text = text;
            _allowDuplicateKeys = allowDuplicateKeys;
            _pos = 0;
            _scratch = null;
        }

        public JsonValue ParseDocument()
        {
            SkipWhitespace();
            JsonValue value = ParseValue(0);
            SkipWhitespace();
            if (_pos != _text.Length)
            {
                throw Error($"unexpected {Describe(_pos)} after the JSON value");
            }

            return value;
        }

        private JsonValue ParseValue(int depth)
        {
            if (_pos >= _text.Length)
            {
                throw Error("unexpected end of input; expected a value");
            }

            char c = _text[_pos];
            switch (c)
            {
                case '{':
                    return ParseObject(depth + 1);
                case '[':
                    return ParseArray(depth + 1);
                case '"':
                    {
                        int start = _pos;
                        return JsonValue.NewString(start, ParseString());
                    }

                case 't':
                    return ParseLiteral("true", JsonKind.True);
                case 'f':
                    return ParseLiteral("false", JsonKind.False);
                case 'n':
                    return ParseLiteral("null", JsonKind.Null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9'))
                    {
                        return ParseNumber();
                    }

                    throw Error($"unexpected {Describe(_pos)}; expected a value");
            }
        }

        private JsonValue ParseObject(int depth)
        {
            int start = _pos;
            CheckDepth(depth);
            _pos++; // '{'
            SkipWhitespace();
            if (Peek() == '}')
            {
                _pos++;
                return JsonValue.NewObject(start, null);
            }

            var members = new List<KeyValuePair<string, JsonValue>>();
            HashSet<string>? seen = _allowDuplicateKeys ? null : new HashSet<string>(StringComparer.Ordinal);
            while (true)
            {
                if (Peek() != '"')
                {
                    throw Error($"unexpected {Describe(_pos)}; expected a member name in double quotes");
                }

                int keyOffset = _pos;
                string key = ParseString();
                if (seen is not null && !seen.Add(key))
                {
                    throw new JsonParseException(keyOffset, $"duplicate key {Truncate(Quote(key))}");
                }

                SkipWhitespace();
                if (Peek() != ':')
                {
                    throw Error($"unexpected {Describe(_pos)}; expected ':' after a member name");
                }

                _pos++;
                SkipWhitespace();
                JsonValue value = ParseValue(depth);
                members.Add(new KeyValuePair<string, JsonValue>(key, value));
                SkipWhitespace();
                char c = Peek();
                if (c == ',')
                {
                    _pos++;
                    SkipWhitespace();
                    continue;
                }

                if (c == '}')
                {
                    _pos++;
                    return JsonValue.NewObject(start, members);
                }

                throw Error($"unexpected {Describe(_pos)}; expected ',' or '}}' in an object");
            }
        }

        private JsonValue ParseArray(int depth)
        {
            int start = _pos;
            CheckDepth(depth);
            _pos++; // '['
            SkipWhitespace();
            if (Peek() == ']')
            {
                _pos++;
                return JsonValue.NewArray(start, null);
            }

            var items = new List<JsonValue>();
            while (true)
            {
                items.Add(ParseValue(depth));
                SkipWhitespace();
                char c = Peek();
                if (c == ',')
                {
                    _pos++;
                    SkipWhitespace();
                    continue;
                }

                if (c == ']')
                {
                    _pos++;
                    return JsonValue.NewArray(start, items);
                }

                throw Error($"unexpected {Describe(_pos)}; expected ',' or ']' in an array");
            }
        }

        private string ParseString()
        {
            _pos++; // opening quote
            int runStart = _pos;

            // Fast path: no escapes.
            while (_pos < _text.Length)
            {
                char c = _text[_pos];
                if (c == '"')
                {
                    string s = _text.Substring(runStart, _pos - runStart);
                    _pos++;
                    return s;
                }

                if (c == '\\')
                {
                    break;
                }

                if (c < 0x20)
                {
                    throw Error($"control character U+{(int)c:X4} in a string must be escaped");
                }

                _pos++;
            }

            StringBuilder sb = _scratch ??= new StringBuilder();
            sb.Clear();
            sb.Append(_text, runStart, _pos - runStart);
            while (_pos < _text.Length)
            {
                char c = _text[_pos];
                if (c == '"')
                {
                    _pos++;
                    string s = sb.ToString();
                    if (sb.Capacity > 4096)
                    {
                        _scratch = null; // do not keep a large buffer alive
                    }

                    return s;
                }

                if (c < 0x20)
                {
                    throw Error($"control character U+{(int)c:X4} in a string must be escaped");
                }

                if (c != '\\')
                {
                    sb.Append(c);
                    _pos++;
                    continue;
                }

                int escapeStart = _pos;
                _pos++;
                if (_pos >= _text.Length)
                {
                    break;
                }

                char e = _text[_pos++];
                switch (e)
                {
                    case '"':
                        sb.Append('"');
                        break;
                    case '\\':
                        sb.Append('\\');
                        break;
                    case '/':
                        sb.Append('/');
                        break;
                    case 'b':
                        sb.Append('\b');
                        break;
                    case 'f':
                        sb.Append('\f');
                        break;
                    case 'n':
                        sb.Append('\n');
                        break;
                    case 'r':
                        sb.Append('\r');
                        break;
                    case 't':
                        sb.Append('\t');
                        break;
                    case 'u':
                        {
                            char unit = ReadHex4(escapeStart);
                            if (char.IsHighSurrogate(unit))
                            {
                                if (_pos + 1 < _text.Length && _text[_pos] == '\\' && _text[_pos + 1] == 'u')
                                {
                                    int secondStart = _pos;
                                    _pos += 2;
                                    char low = ReadHex4(secondStart);
                                    if (!char.IsLowSurrogate(low))
                                    {
                                        throw new JsonParseException(secondStart, $"high surrogate \\u{(int)unit:X4} is followed by \\u{(int)low:X4}, not a low surrogate");
                                    }

                                    sb.Append(unit).Append(low);
                                }
                                else
                                {
                                    throw new JsonParseException(escapeStart, $"lone high surrogate \\u{(int)unit:X4}");
                                }
                            }
                            else if (char.IsLowSurrogate(unit))
                            {
                                throw new JsonParseException(escapeStart, $"lone low surrogate \\u{(int)unit:X4}");
                            }
                            else
                            {
                                sb.Append(unit);
                            }

                            break;
                        }

                    default:
                        throw new JsonParseException(escapeStart, $"invalid escape \\{Printable(e)} in a string");
                }
            }

            throw Error("unterminated string");
        }

        private char ReadHex4(int escapeStart)
        {
            if (_pos + 4 > _text.Length)
            {
                throw new JsonParseException(escapeStart, "\\u escape needs 4 hex digits");
            }

            int value = 0;
            for (int i = 0; i < 4; i++)
            {
                char h = _text[_pos + i];
                int digit = h >= '0' && h <= '9' ? h - '0'
                    : h >= 'a' && h <= 'f' ? h - 'a' + 10
                    : h >= 'A' && h <= 'F' ? h - 'A' + 10
                    : -1;
                if (digit < 0)
                {
                    throw new JsonParseException(escapeStart, "\\u escape needs 4 hex digits");
                }

                value = value * 16 + digit;
            }

            _pos += 4;
            return (char)value;
        }

        private JsonValue ParseNumber()
        {
            // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
            int start = _pos;
            if (Peek() == '-')
            {
                _pos++;
            }

            char c = Peek();
            if (c == '0')
            {
                _pos++;
                if (IsDigit(Peek()))
                {
                    throw Error("leading zeros are not allowed in a number");
                }
            }
            else if (c >= '1' && c <= '9')
            {
                SkipDigits();
            }
            else
            {
                throw Error("a number needs a digit after '-'");
            }

            if (Peek() == '.')
            {
                _pos++;
                if (!IsDigit(Peek()))
                {
                    throw Error("a number needs a digit after '.'");
                }

                SkipDigits();
            }

            c = Peek();
            if (c == 'e' || c == 'E')
            {
                _pos++;
                c = Peek();
                if (c == '+' || c == '-')
                {
                    _pos++;
                }

                if (!IsDigit(Peek()))
                {
                    throw Error("a number needs a digit in its exponent");
                }

                SkipDigits();
            }

            return JsonValue.NewNumber(start, _text, _pos - start);
        }

        private JsonValue ParseLiteral(string literal, JsonKind kind)
        {
            int start = _pos;
            if (_pos + literal.Length > _text.Length || string.CompareOrdinal(_text, _pos, literal, 0, literal.Length) != 0)
            {
                throw Error($"unexpected {Describe(_pos)}; expected a value");
            }

            _pos += literal.Length;
            return JsonValue.NewLiteral(kind, start);
        }

        private void CheckDepth(int depth)
        {
            if (depth > MaxDepth)
            {
                throw Error($"nesting deeper than {MaxDepth} levels");
            }
        }

        private void SkipDigits()
        {
            while (IsDigit(Peek()))
            {
                _pos++;
            }
        }

        private static bool IsDigit(char c) => c >= '0' && c <= '9';

        private void SkipWhitespace()
        {
            while (_pos < _text.Length)
            {
                char c = _text[_pos];
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                {
                    return;
                }

                _pos++;
            }
        }

        private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

        private string Describe(int pos) => pos >= _text.Length ? "end of input" : "character " + Printable(_text[pos]);

        private JsonParseException Error(string reason) => new(_pos, reason);

        private static string Printable(char c) =>
            c >= 0x20 && c < 0x7f ? "'" + c + "'" : "U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture);

        private static string Truncate(string s) => s.Length <= 80 ? s : s.Substring(0, 77) + "...";
    }
}
