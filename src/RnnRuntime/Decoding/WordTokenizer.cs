namespace RnnEmbedded.Runtime;

/// <summary>
/// The word splitter used by <see cref="WordVocabulary"/>: walks a span without allocating.
/// </summary>
/// <remarks>
/// Rules: whitespace (<see cref="char.IsWhiteSpace(char)"/>) separates tokens and is dropped; every punctuation or
/// symbol character (<see cref="char.IsPunctuation(char)"/>, <see cref="char.IsSymbol(char)"/>) is a token of its
/// own; any other run of characters is a word. One exception keeps contractions whole: an apostrophe (' or ’)
/// with a letter or digit on both sides belongs to the word ("don't" is one token, "'quoted'" is three).
/// Lower-casing, when a vocabulary asks for it, is <see cref="char.ToLowerInvariant(char)"/> per character,
/// applied at lookup time (the input is never copied).
/// </remarks>
public static class WordTokenizer
{
    /// <summary>
    /// Finds the next token at or after <paramref name="position"/>; on success sets <paramref name="start"/> and
    /// <paramref name="length"/> and moves <paramref name="position"/> past the token.
    /// </summary>
    public static bool Next(ReadOnlySpan<char> text, ref int position, out int start, out int length)
    {
        int i = position;
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }

        if (i >= text.Length)
        {
            position = text.Length;
            start = text.Length;
            length = 0;
            return false;
        }

        start = i;
        if (IsSeparateSymbol(text[i]))
        {
            position = i + 1;
            length = 1;
            return true;
        }

        i++;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c))
            {
                break;
            }

            if (IsSeparateSymbol(c))
            {
                bool innerApostrophe = (c == '\'' || c == '\u2019')
                    && i + 1 < text.Length
                    && char.IsLetterOrDigit(text[i - 1])
                    && char.IsLetterOrDigit(text[i + 1]);
                if (!innerApostrophe)
                {
                    break;
                }
            }

            i++;
        }

        position = i;
        length = i - start;
        return true;
    }

    /// <summary>The number of tokens <see cref="Next"/> finds in <paramref name="text"/>.</summary>
    public static int Count(ReadOnlySpan<char> text)
    {
        int position = 0;
        int count = 0;
        while (Next(text, ref position, out _, out _))
        {
            count++;
        }

        return count;
    }

    private static bool IsSeparateSymbol(char c) => char.IsPunctuation(c) || char.IsSymbol(c);
}
