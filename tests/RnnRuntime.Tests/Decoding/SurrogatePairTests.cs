using RnnEmbedded.Runtime;

namespace RnnEmbedded.Tests.Decoding;

/// <summary>Character tokens above U+FFFF (one code point, two UTF-16 units), which the model format allows.</summary>
public class SurrogatePairTests
{
    private const string Grin = "\U0001F600";
    private static readonly CharVocabulary s_vocabulary = CharVocabulary.FromModel<EmojiCharModel>();

    [Fact]
    public void Vocabulary_TreatsAPairAsOneToken()
    {
        Assert.Equal(4, s_vocabulary.Count);
        Assert.True(s_vocabulary.HasSurrogatePairs);
        Assert.Equal(Grin, s_vocabulary.GetText(2).ToString());
        Assert.True(s_vocabulary.TryGetId(0x1F600, out int id));
        Assert.Equal(2, id);
        Assert.Equal("id", Assert.Throws<ArgumentException>(() => s_vocabulary.GetChar(2)).ParamName);

        string text = "a" + Grin + "b " + Grin;
        var ids = new int[8];
        int n = s_vocabulary.Encode(text, ids);
        Assert.Equal([0, 2, 1, 3, 2], ids[..n]);
        var chars = new char[s_vocabulary.GetDecodedLength(ids.AsSpan(0, n))];
        Assert.Equal(text.Length, s_vocabulary.Decode(ids.AsSpan(0, n), chars));
        Assert.Equal(text, new string(chars));

        // The same vocabulary from a plain string of distinct characters.
        var fromString = new CharVocabulary("ab" + Grin + " ");
        Assert.Equal(s_vocabulary.Offsets.ToArray(), fromString.Offsets.ToArray());
    }

    [Fact]
    public void LoneSurrogatesAndUnknownPairs_FollowTheUnknownPolicy()
    {
        var ids = new int[8];
        Assert.Equal(2, s_vocabulary.Encode("a\uD83Db", ids)); // lone high surrogate skipped
        Assert.Equal([0, 1], ids[..2]);
        CharVocabulary strict = s_vocabulary.WithUnknownPolicy(UnknownCharPolicy.Throw);
        var ex = Assert.Throws<ArgumentException>(() => strict.Encode("a\U0001F601", ids));
        Assert.Contains("U+1F601", ex.Message);
        Assert.Contains("position 1", ex.Message);
    }

    [Fact]
    public void Construction_RejectsTokensThatAreNotOneCodePoint()
    {
        Assert.Contains("not one code point", Assert.Throws<ArgumentException>(() => new CharVocabulary("ab", [0, 2])).Message);
        Assert.Contains("not one code point", Assert.Throws<ArgumentException>(() => new CharVocabulary("a\uD83D", [0, 1, 2])).Message);
        Assert.Contains("not one code point", Assert.Throws<ArgumentException>(() => new CharVocabulary("a\uDE00b")).Message);
        Assert.Contains("U+1F600", Assert.Throws<ArgumentException>(() => new CharVocabulary(Grin + "a" + Grin)).Message);
    }

    [Fact]
    public void Keystrokes_StepOncePerCodePoint_AndBackspaceRestoresEachUnit()
    {
        var engine = new KeystrokeEngine<EmojiCharModel>(s_vocabulary, new KeystrokeOptions { HistoryCapacity = 16, MaxCompletionLength = 4 });
        engine.Type('a');
        byte[] afterA = TinyNet.Bytes(engine.State);
        engine.Type(Grin);
        engine.Type('b');

        var model = default(EmojiCharModel);
        var logits = new float[EmojiCharModel.V];
        foreach (int t in new[] { 0, 2, 1 })
        {
            model.Step(t, logits);
        }

        Assert.Equal(TinyNet.Bytes(model), TinyNet.Bytes(engine.State));
        Assert.Equal(4, engine.TextLength);
        for (int i = 0; i < 3; i++)
        {
            engine.Backspace();
        }

        Assert.Equal(afterA, TinyNet.Bytes(engine.State));
    }

    [Fact]
    public void Reprime_PairsSurrogatesAgain()
    {
        var options = new KeystrokeOptions { HistoryCapacity = 2, TextCapacity = 32, MaxCompletionLength = 4 };
        var engine = new KeystrokeEngine<EmojiCharModel>(s_vocabulary, options);
        string text = "a" + Grin + "b" + Grin + Grin + "ab";
        engine.Type(text);
        for (int i = 0; i < 4; i++)
        {
            engine.Backspace(); // beyond the 2-entry history: re-primes
        }

        var fresh = new KeystrokeEngine<EmojiCharModel>(s_vocabulary, options);
        fresh.Type(text.AsSpan(0, text.Length - 4));
        Assert.Equal(TinyNet.Bytes(fresh.State), TinyNet.Bytes(engine.State));
    }

    [Fact]
    public void Completions_DecodePairs_IntoADoubledStride()
    {
        var engine = new KeystrokeEngine<EmojiCharModel>(
            s_vocabulary, new KeystrokeOptions { CompletionBeamWidth = 9, MaxCompletionLength = 3, MaxCompletions = 6 });
        engine.Type("a");
        Assert.Equal(6, engine.CompletionStride);
        var chars = new char[6 * 6];
        var lengths = new int[6];
        var scores = new float[6];
        int found = engine.Completions(chars, lengths, scores);

        List<Exhaustive.Hypothesis> expected = Exhaustive.Search(engine.State, engine.Logits.ToArray(), 3, t => t == 3, 2, 0);
        Assert.Equal(6, found);
        for (int r = 0; r < found; r++)
        {
            int[] tokens = expected[r].Tokens;
            int count = tokens[^1] == 3 ? tokens.Length - 1 : tokens.Length;
            string word = string.Concat(tokens.Take(count).Select(t => s_vocabulary.GetText(t).ToString()));
            Assert.Equal(word, new string(chars, r * 6, lengths[r]));
        }

        Assert.Throws<InvalidOperationException>(() => engine.TopNextChars(new char[2], new float[2]));
        var ids = new int[2];
        Assert.Equal(2, engine.TopNextTokens(ids, new float[2]));
    }

    [Fact]
    public void GeneratedText_EncodesBackToTheGeneratedTokens()
    {
        var options = new SamplingOptions { Seed = 4 };
        var a = new TextGenerator<EmojiCharModel>(options);
        var b = new TextGenerator<EmojiCharModel>(options);
        a.PrimeText("a" + Grin, s_vocabulary);
        b.PrimeText("a" + Grin, s_vocabulary);
        Assert.Equal(TinyNet.Bytes(a.Model), TinyNet.Bytes(b.Model));

        var tokens = new int[30];
        a.Generate(tokens);
        var text = new char[80];
        int written = b.GenerateText(text, s_vocabulary);
        var ids = new int[80];
        int n = s_vocabulary.Encode(text.AsSpan(0, written), ids);
        Assert.True(n >= tokens.Length);
        Assert.Equal(tokens, ids[..tokens.Length]);
        Assert.Contains(2, tokens); // the pair token really occurs
    }
}
