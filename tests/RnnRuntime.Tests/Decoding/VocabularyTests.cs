using RnnEmbedded.Runtime;

namespace RnnEmbedded.Tests.Decoding;

public class CharVocabularyTests
{
    [Fact]
    public void EncodeDecode_RoundTrips_AsciiAndNonAscii()
    {
        var vocabulary = new CharVocabulary("ab é€\n");
        const string text = "a é€b\nba";
        var ids = new int[text.Length];
        Assert.Equal(text.Length, vocabulary.Encode(text, ids));
        Assert.Equal([0, 2, 3, 4, 1, 5, 1, 0], ids);
        var chars = new char[ids.Length];
        vocabulary.Decode(ids, chars);
        Assert.Equal(text, new string(chars));
    }

    [Fact]
    public void FromModel_UsesTheModelsTextAndOffsets()
    {
        CharVocabulary vocabulary = CharVocabulary.FromModel<TinyCharModel>();
        Assert.Equal(6, vocabulary.Count);
        Assert.Equal('\n', vocabulary.GetChar(5));
        Assert.True(vocabulary.TryGetId(' ', out int space));
        Assert.Equal(3, space);
    }

    [Fact]
    public void FromModel_RejectsAWordModel()
    {
        var ex = Assert.Throws<ArgumentException>(() => CharVocabulary.FromModel<TinyCaptionModel>());
        Assert.Equal("TModel", ex.ParamName);
    }

    [Fact]
    public void UnknownChars_DefaultPolicyIsSkip()
    {
        var vocabulary = new CharVocabulary("ab");
        Assert.Equal(UnknownCharAction.Skip, vocabulary.UnknownPolicy.Action);
        Assert.Equal(UnknownCharPolicy.Skip, default(UnknownCharPolicy));
        Assert.Equal(-1, UnknownCharPolicy.Skip.Id);
        Assert.Equal(7, UnknownCharPolicy.MapTo(7).Id);
        var ids = new int[4];
        Assert.Equal(2, vocabulary.Encode("a?b", ids));
        Assert.Equal([0, 1], ids[..2]);
        Assert.Equal(-1, vocabulary.Map('?'));
    }

    [Fact]
    public void UnknownChars_MapToAndThrowPolicies()
    {
        var mapped = new CharVocabulary("ab_", UnknownCharPolicy.MapTo(2));
        var ids = new int[3];
        Assert.Equal(3, mapped.Encode("a€b", ids));
        Assert.Equal([0, 2, 1], ids);

        var strict = new CharVocabulary("ab", UnknownCharPolicy.Throw);
        var ex = Assert.Throws<ArgumentException>(() => strict.Encode("ab€", new int[3]));
        Assert.Equal("text", ex.ParamName);
        Assert.Contains("position 2", ex.Message);
        Assert.Contains("U+20AC", ex.Message);
    }

    [Fact]
    public void Constructor_RejectsDuplicates_AsciiAndNonAscii()
    {
        var ex = Assert.Throws<ArgumentException>(() => new CharVocabulary("abca"));
        Assert.Equal("chars", ex.ParamName);
        Assert.Contains("ids 0 and 3", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new CharVocabulary("é€xé"));
        Assert.Contains("ids 0 and 3", ex.Message);
    }

    [Fact]
    public void Constructor_RejectsEmptyAndInconsistentOffsets()
    {
        Assert.Equal("chars", Assert.Throws<ArgumentException>(() => new CharVocabulary("")).ParamName);
        Assert.Equal("offsets", Assert.Throws<ArgumentException>(() => new CharVocabulary("ab", [0])).ParamName);
        Assert.Contains("monotonic", Assert.Throws<ArgumentException>(() => new CharVocabulary("ab", [0, 1, 0])).Message);
        Assert.Contains("not one code point", Assert.Throws<ArgumentException>(() => new CharVocabulary("abc", [0, 1, 3])).Message);
        Assert.Contains("text length", Assert.Throws<ArgumentException>(() => new CharVocabulary("abc", [0, 1, 2])).Message);
        Assert.Contains("must be 0", Assert.Throws<ArgumentException>(() => new CharVocabulary("abc", [1, 2, 3])).Message);
        Assert.Equal("unknownPolicy", Assert.Throws<ArgumentOutOfRangeException>(() => new CharVocabulary("ab", UnknownCharPolicy.MapTo(2))).ParamName);
    }

    [Fact]
    public void Lookups_RejectOutOfRangeIdsAndShortBuffers()
    {
        var vocabulary = new CharVocabulary("ab");
        Assert.Equal("id", Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary.GetChar(2)).ParamName);
        Assert.Equal("ids", Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary.Decode([0, -1], new char[2])).ParamName);
        Assert.Equal("text", Assert.Throws<ArgumentException>(() => vocabulary.Decode([0, 1], new char[1])).ParamName);
        Assert.Equal("ids", Assert.Throws<ArgumentException>(() => vocabulary.Encode("abab", new int[3])).ParamName);
    }

    [Fact]
    public void Lookups_AllocateNothing()
    {
        var vocabulary = new CharVocabulary("abcdefghijklmnopqrstuvwxyz .é€");
        const string text = "hello wörld é€";
        var ids = new int[text.Length];
        var chars = new char[text.Length];
        vocabulary.Encode(text, ids);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            int n = vocabulary.Encode(text, ids);
            vocabulary.Decode(ids.AsSpan(0, n), chars);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

public class WordVocabularyTests
{
    private static readonly string[] s_corpus =
    [
        "A dog runs on the grass.",
        "A cat sits on a mat.",
        "The dog and the cat play!",
        "Don't feed the dog, please.",
    ];

    [Fact]
    public void Build_OrdersByCountThenOrdinal_AfterTheSpecialTokens()
    {
        WordVocabulary vocabulary = WordVocabulary.Build(s_corpus, maxWords: 6);
        Assert.Equal(9, vocabulary.Count);
        Assert.Equal(0, vocabulary.StartToken);
        Assert.Equal(1, vocabulary.StopToken);
        Assert.Equal(2, vocabulary.UnknownToken);
        string[] words = Enumerable.Range(0, vocabulary.Count).Select(i => vocabulary.GetWord(i).ToString()).ToArray();

        // Counts: the 4; ".", a, dog 3 (ordinal: '.' < 'a' < 'd'); cat, on 2; then "!", ",", … once each.
        Assert.Equal(["<start>", "<stop>", "<unk>", "the", ".", "a", "dog", "cat", "on"], words);
    }

    [Fact]
    public void Build_IsDeterministic()
    {
        WordVocabulary a = WordVocabulary.Build(s_corpus, 100);
        WordVocabulary b = WordVocabulary.Build(s_corpus.Reverse(), 100);
        Assert.Equal(a.Text.ToString(), b.Text.ToString());
        Assert.Equal(a.Offsets.ToArray(), b.Offsets.ToArray());
    }

    [Fact]
    public void Encode_WritesStartWordsUnknownStop()
    {
        WordVocabulary vocabulary = WordVocabulary.Build(s_corpus, maxWords: 6);
        var ids = new int[10];
        int n = vocabulary.Encode("The zebra, on a DOG.", ids);
        Assert.Equal([0, 3, 2, 2, 8, 5, 6, 4, 1], ids[..n]);
    }

    [Fact]
    public void Tokenizer_SplitsWhitespaceAndPunctuation_KeepsInnerApostrophes()
    {
        const string text = "  Don't stop-now, 'ok'?\tyes\n";
        var tokens = new List<string>();
        int position = 0;
        while (WordTokenizer.Next(text, ref position, out int start, out int length))
        {
            tokens.Add(text.Substring(start, length));
        }

        Assert.Equal(["Don't", "stop", "-", "now", ",", "'", "ok", "'", "?", "yes"], tokens);
        Assert.Equal(tokens.Count, WordTokenizer.Count(text));
    }

    [Fact]
    public void DecodeThenEncode_RoundTrips()
    {
        WordVocabulary vocabulary = WordVocabulary.Build(s_corpus, 100);
        const string sentence = "the cat, the dog and a mat!";
        var ids = new int[20];
        int n = vocabulary.Encode(sentence, ids);
        var text = new char[vocabulary.GetDecodedLength(ids.AsSpan(0, n))];
        int written = vocabulary.Decode(ids.AsSpan(0, n), text);
        Assert.Equal("the cat , the dog and a mat !", new string(text, 0, written));
        var again = new int[20];
        int m = vocabulary.Encode(new string(text, 0, written), again);
        Assert.Equal(ids[..n], again[..m]);
    }

    [Fact]
    public void Lowercase_CanBeTurnedOff()
    {
        WordVocabulary cased = WordVocabulary.Build(s_corpus, 100, lowercase: false);
        Assert.True(cased.TryGetId("The", out int upper));
        Assert.True(cased.TryGetId("the", out int lower));
        Assert.NotEqual(upper, lower);
        Assert.False(cased.TryGetId("THE", out _));

        WordVocabulary folded = WordVocabulary.Build(s_corpus, 100);
        Assert.True(folded.TryGetId("THE", out int id));
        Assert.Equal("the", folded.GetWord(id).ToString());
    }

    [Fact]
    public void Lowercase_RejectsUpperCaseStoredWords()
    {
        var ex = Assert.Throws<ArgumentException>(() => new WordVocabulary("catDog", [0, 3, 6], lowercase: true));
        Assert.Equal("lowercase", ex.ParamName);
        Assert.Contains("token 1", ex.Message);
        var cased = new WordVocabulary("catDog", [0, 3, 6], lowercase: false);
        Assert.True(cased.TryGetId("Dog", out int id));
        Assert.Equal(1, id);
    }

    [Fact]
    public void FromModel_UsesTheModelsSpecialTokens()
    {
        WordVocabulary vocabulary = WordVocabulary.FromModel<TinyCaptionModel>();
        Assert.Equal(6, vocabulary.Count);
        Assert.True(vocabulary.Lowercase); // every stored word is lower case
        Assert.Equal("cat", vocabulary.GetWord(4).ToString());
        var ids = new int[5];
        int n = vocabulary.Encode("A Cat eats", ids);
        Assert.Equal([0, 3, 4, 2, 1], ids[..n]);
        Assert.Equal("TModel", Assert.Throws<ArgumentException>(() => WordVocabulary.FromModel<TinyCharModel>()).ParamName);
    }

    [Fact]
    public void Constructor_RejectsEmptyDuplicateAndInconsistentVocabularies()
    {
        Assert.Equal("offsets", Assert.Throws<ArgumentException>(() => new WordVocabulary("", [0])).ParamName);
        var dup = Assert.Throws<ArgumentException>(() => new WordVocabulary("catdogcat", [0, 3, 6, 9]));
        Assert.Equal("text", dup.ParamName);
        Assert.Contains("tokens 0 and 2", dup.Message);
        Assert.Contains("monotonic", Assert.Throws<ArgumentException>(() => new WordVocabulary("catdog", [0, 4, 3, 6])).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => new WordVocabulary("catdog", [0, 3, 3, 6])).Message);
        Assert.Contains("text length", Assert.Throws<ArgumentException>(() => new WordVocabulary("catdog", [0, 3, 5])).Message);
        Assert.Equal("stopToken", Assert.Throws<ArgumentOutOfRangeException>(() => new WordVocabulary("catdog", [0, 3, 6], stopToken: 2)).ParamName);
        Assert.Equal("corpus", Assert.Throws<ArgumentException>(() => WordVocabulary.Build("   ", 10)).ParamName);
        Assert.Equal("maxWords", Assert.Throws<ArgumentOutOfRangeException>(() => WordVocabulary.Build("a b", 0)).ParamName);
    }

    [Fact]
    public void UnknownWord_WithoutUnkToken_Throws_AndShortBuffersAreRejected()
    {
        var vocabulary = new WordVocabulary("catdog", [0, 3, 6]);
        Assert.Equal("word", Assert.Throws<ArgumentException>(() => vocabulary.EncodeWords("cat bird", new int[2])).ParamName);
        Assert.Equal("ids", Assert.Throws<ArgumentException>(() => vocabulary.EncodeWords("cat dog cat", new int[2])).ParamName);
        Assert.Equal("text", Assert.Throws<ArgumentException>(() => vocabulary.Decode([0, 1], new char[6])).ParamName);
        Assert.Equal("ids", Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary.Decode([0, 2], new char[20])).ParamName);
    }

    [Fact]
    public void EncodeAndLookup_AllocateNothing()
    {
        WordVocabulary vocabulary = WordVocabulary.Build(s_corpus, 100);
        const string sentence = "The Dog sits on the zebra.";
        var ids = new int[16];
        var text = new char[64];
        vocabulary.Encode(sentence, ids);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            int n = vocabulary.Encode(sentence, ids);
            vocabulary.Decode(ids.AsSpan(0, n), text);
            vocabulary.TryGetId("dog", out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
