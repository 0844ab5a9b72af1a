using RnnEmbedded.Runtime;

namespace RnnEmbedded.Tests.Decoding;

public class KeystrokeEngineTests
{
    private static readonly CharVocabulary s_vocabulary = CharVocabulary.FromModel<TinyCharModel>();

    private static KeystrokeEngine<TinyCharModel> NewEngine(KeystrokeOptions? options = null, CharVocabulary? vocabulary = null) =>
        new(vocabulary ?? s_vocabulary, options ?? new KeystrokeOptions { ResetAfter = "\n" });

    private static string RandomText(ref Xoshiro128StarStar rng, int length, string alphabet)
    {
        var chars = new char[length];
        for (int i = 0; i < length; i++)
        {
            chars[i] = alphabet[rng.NextInt32(alphabet.Length)];
        }

        return new string(chars);
    }

    private static string Text(KeystrokeEngine<TinyCharModel> engine)
    {
        var buffer = new char[engine.TextLength];
        engine.CopyText(buffer);
        return new string(buffer);
    }

    [Fact]
    public void TypeThenBackspace_LeavesStateBitIdentical()
    {
        var rng = new Xoshiro128StarStar(11);
        for (int trial = 0; trial < 50; trial++)
        {
            KeystrokeEngine<TinyCharModel> engine = NewEngine(new KeystrokeOptions { ResetAfter = "\n", HistoryCapacity = 32 });
            string prefix = RandomText(ref rng, rng.NextInt32(20), "abc .\n?");
            string typed = RandomText(ref rng, 1 + rng.NextInt32(32), "abc .\n?");
            engine.Type(prefix);
            byte[] state = TinyNet.Bytes(engine.State);
            float[] logits = engine.Logits.ToArray();

            engine.Type(typed);
            for (int i = 0; i < typed.Length; i++)
            {
                Assert.True(engine.Backspace());
            }

            Assert.Equal(state, TinyNet.Bytes(engine.State));
            Assert.Equal(logits, engine.Logits.ToArray());
            Assert.Equal(prefix, Text(engine));
        }
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("")]
    public void RandomTypingAndBackspacing_AlwaysEqualsTypingTheTextFromScratch(string resetAfter)
    {
        var rng = new Xoshiro128StarStar(21);
        var options = new KeystrokeOptions { HistoryCapacity = 3, TextCapacity = 64, ResetAfter = resetAfter, Primer = "." };
        KeystrokeEngine<TinyCharModel> engine = NewEngine(options);
        var text = new System.Text.StringBuilder();
        for (int op = 0; op < 400; op++)
        {
            bool backspace = text.Length > 0 && (text.Length > 50 || rng.NextInt32(3) == 0);
            if (backspace)
            {
                int count = 1 + rng.NextInt32(Math.Min(text.Length, 6));
                for (int i = 0; i < count; i++)
                {
                    Assert.True(engine.Backspace());
                }

                text.Length -= count;
            }
            else
            {
                char c = "abc .\n?"[rng.NextInt32(7)];
                engine.Type(c);
                text.Append(c);
            }

            KeystrokeEngine<TinyCharModel> fresh = NewEngine(options);
            fresh.Type(text.ToString());
            Assert.Equal(TinyNet.Bytes(fresh.State), TinyNet.Bytes(engine.State));
            Assert.Equal(fresh.Logits.ToArray(), engine.Logits.ToArray());
            Assert.Equal(text.ToString(), Text(engine));
            Assert.True(engine.IsExact);
        }
    }

    [Fact]
    public void Typing_CostsOneModelStep_AndBackspaceNone()
    {
        KeystrokeEngine<TinyCharModel> engine = NewEngine();
        engine.Type("ab c");
        int steps = TinyCharModel.StepCount;
        engine.Type('a');
        Assert.Equal(steps + 1, TinyCharModel.StepCount);
        engine.Backspace();
        engine.Backspace();
        Assert.Equal(steps + 1, TinyCharModel.StepCount);
        engine.Type('?'); // unseen, skipped: no step
        Assert.Equal(steps + 1, TinyCharModel.StepCount);
    }

    [Fact]
    public void State_EqualsSteppingTheModelDirectly()
    {
        KeystrokeEngine<TinyCharModel> engine = NewEngine(new KeystrokeOptions());
        const string text = "ab ca.b";
        engine.Type(text);
        var model = default(TinyCharModel);
        var logits = new float[TinyCharModel.V];
        foreach (char c in text)
        {
            model.Step(s_vocabulary.Map(c), logits);
        }

        Assert.Equal(TinyNet.Bytes(model), TinyNet.Bytes(engine.State));
        var probs = new float[TinyCharModel.V];
        var expected = new float[TinyCharModel.V];
        engine.NextCharDistribution(probs);
        Softmax.Apply(logits, expected);
        Assert.Equal(expected, probs);
    }

    [Fact]
    public void BackspaceBeyondHistory_RePrimesFromTheText_Exactly()
    {
        var options = new KeystrokeOptions { HistoryCapacity = 4, TextCapacity = 64 };
        KeystrokeEngine<TinyCharModel> engine = NewEngine(options);
        const string text = "abc ab.cab ba cabc";
        engine.Type(text);
        for (int i = 0; i < 11; i++)
        {
            engine.Backspace();
        }

        KeystrokeEngine<TinyCharModel> fresh = NewEngine(options);
        fresh.Type(text.AsSpan(0, text.Length - 11));
        Assert.Equal(TinyNet.Bytes(fresh.State), TinyNet.Bytes(engine.State));
        Assert.Equal(fresh.Logits.ToArray(), engine.Logits.ToArray());
        Assert.Equal(text[..^11], Text(engine));
        Assert.True(engine.IsExact);
        Assert.True(engine.HistoryCount > 0); // the ring was refilled by the re-prime
    }

    [Fact]
    public void BackspaceBeyondHistory_RePrimesFromTheLastReset()
    {
        var options = new KeystrokeOptions { HistoryCapacity = 2, TextCapacity = 8, ResetAfter = "\n" };
        KeystrokeEngine<TinyCharModel> engine = NewEngine(options);
        engine.Type("cccccc\nab ca"); // the text ring keeps "c\nab ca" only
        for (int i = 0; i < 4; i++)
        {
            engine.Backspace();
        }

        KeystrokeEngine<TinyCharModel> fresh = NewEngine(options);
        fresh.Type("\na");
        Assert.Equal(TinyNet.Bytes(fresh.State), TinyNet.Bytes(engine.State));
        Assert.True(engine.IsExact);
    }

    [Fact]
    public void LosingTextWithoutAReset_IsReportedAsInexact()
    {
        KeystrokeEngine<TinyCharModel> engine = NewEngine(new KeystrokeOptions { HistoryCapacity = 2, TextCapacity = 4 });
        engine.Type("abcab");
        Assert.False(engine.IsExact);
        Assert.Equal("bcab", Text(engine));
    }

    [Fact]
    public void ResetCharacter_ReturnsToTheInitialState_AndBackspaceUndoesIt()
    {
        KeystrokeEngine<TinyCharModel> engine = NewEngine(new KeystrokeOptions { ResetAfter = "\n", Primer = "." });
        byte[] initial = TinyNet.Bytes(engine.State);
        float[] initialLogits = engine.Logits.ToArray();
        var primed = default(TinyCharModel);
        var primedLogits = new float[TinyCharModel.V];
        primed.Step(4, primedLogits);
        Assert.Equal(TinyNet.Bytes(primed), initial);
        Assert.Equal(primedLogits, initialLogits);

        engine.Type("ab c");
        byte[] beforeNewline = TinyNet.Bytes(engine.State);
        engine.Type('\n');
        Assert.Equal(initial, TinyNet.Bytes(engine.State));
        Assert.Equal(initialLogits, engine.Logits.ToArray());
        engine.Backspace();
        Assert.Equal(beforeNewline, TinyNet.Bytes(engine.State));
    }

    [Fact]
    public void Completions_EqualExhaustiveSearchOverTheWord()
    {
        var options = new KeystrokeOptions { CompletionBeamWidth = 27, MaxCompletionLength = 3, MaxCompletions = 5 };
        KeystrokeEngine<TinyCharModel> engine = NewEngine(options);
        engine.Type("ab c");

        var chars = new char[5 * 3];
        var lengths = new int[5];
        var scores = new float[5];
        int found = engine.Completions(chars, lengths, scores);

        var logits = engine.Logits.ToArray();
        List<Exhaustive.Hypothesis> all = Exhaustive.Search(engine.State, logits, 3, t => t >= 3, 2, 0);

        // The engine lists each word once (hypotheses differing only in the closing boundary merge, the best
        // score kept), drawn from the best 2n hypotheses.
        var expected = new List<(string Word, float Score)>();
        foreach (Exhaustive.Hypothesis h in all.Take(2 * 5))
        {
            int length = h.Tokens[^1] >= 3 ? h.Tokens.Length - 1 : h.Tokens.Length;
            string word = new(h.Tokens.Take(length).Select(t => s_vocabulary.GetChar(t)).ToArray());
            if (expected.Count < 5 && !expected.Exists(e => e.Word == word))
            {
                expected.Add((word, (float)h.Score));
            }
        }

        Assert.Equal(expected.Count, found);
        for (int r = 0; r < found; r++)
        {
            Assert.Equal(expected[r].Word, new string(chars, r * 3, lengths[r]));
            Assert.InRange(scores[r], expected[r].Score - 1e-4, expected[r].Score + 1e-4);
            Assert.True(lengths[r] >= 1);
        }

        var distinct = new HashSet<string>();
        for (int r = 0; r < found; r++)
        {
            Assert.True(distinct.Add(new string(chars, r * 3, lengths[r])), "a completion was listed twice");
        }
    }

    [Fact]
    public void Completions_OfARecentState_ComeFromTheCache_AndEqualAFreshSearch()
    {
        var options = new KeystrokeOptions { ResetAfter = "\n", MaxCompletions = 3 };
        KeystrokeEngine<TinyCharModel> engine = NewEngine(options);
        int stride = engine.CompletionStride;
        (string[] Words, float[] Scores) Complete(KeystrokeEngine<TinyCharModel> e, int n)
        {
            var chars = new char[n * stride];
            var lengths = new int[n];
            var scores = new float[n];
            int found = e.Completions(chars, lengths, scores);
            return (Enumerable.Range(0, found).Select(r => new string(chars, r * stride, lengths[r])).ToArray(), scores[..found]);
        }

        engine.Type("ab c");
        (string[] Words, float[] Scores) first = Complete(engine, 3);
        Assert.NotEmpty(first.Words);
        engine.Type("ab");
        Complete(engine, 3);
        engine.Backspace();
        engine.Backspace();

        int steps = TinyCharModel.StepCount;
        (string[] Words, float[] Scores) again = Complete(engine, 3);
        Assert.Equal(steps, TinyCharModel.StepCount); // the state is back to one already searched: no search
        Assert.Equal(first.Words, again.Words);
        Assert.Equal(first.Scores, again.Scores);

        (string[] Words, float[] Scores) two = Complete(engine, 2); // another count is another list: searched
        Assert.True(TinyCharModel.StepCount > steps);
        Assert.Equal(first.Words.Take(2), two.Words);

        KeystrokeEngine<TinyCharModel> fresh = NewEngine(options);
        fresh.Type("ab c");
        (string[] Words, float[] Scores) expected = Complete(fresh, 3);
        Assert.Equal(expected.Words, again.Words);
        Assert.Equal(expected.Scores, again.Scores);

        engine.Type('\n'); // a reset returns to the initial state, whose list a fresh engine computes alike
        KeystrokeEngine<TinyCharModel> initial = NewEngine(options);
        Assert.Equal(Complete(initial, 3).Words, Complete(engine, 3).Words);
    }

    [Fact]
    public void Completions_EqualTheUnprunedSearch_AndTheDistinctBoundSavesSteps()
    {
        // The engine's search also drops hypotheses below the n-th distinct word; a plain BeamSearch (no such bound)
        // with the engine's settings, its 2n results merged the engine's way, must list the same words and scores.
        var options = new KeystrokeOptions { CompletionBeamWidth = 3, MaxCompletionLength = 7, MaxCompletions = 2 };
        var rng = new Xoshiro128StarStar(5);
        int saved = 0;
        for (int trial = 0; trial < 60; trial++)
        {
            KeystrokeEngine<TinyCharModel> engine = NewEngine(options);
            engine.Type(RandomText(ref rng, rng.NextInt32(12), "abc ."));
            var plain = new BeamSearch<TinyCharModel>(3, 7, 4) { MinLength = 2 };
            foreach (char c in options.WordBoundaries)
            {
                if (s_vocabulary.TryGetId(c, out int id))
                {
                    plain.AddStopToken(id);
                }
            }

            var tokens = new int[4 * 7];
            var lengths = new int[4];
            var scores = new float[4];
            int steps = TinyCharModel.StepCount;
            int searched = plain.Search(engine.State, engine.Logits, tokens, lengths, scores);
            int plainSteps = TinyCharModel.StepCount - steps;
            var expected = new List<(string Word, float Score)>();
            for (int r = 0; r < searched && expected.Count < 2; r++)
            {
                int count = lengths[r] - (plain.IsStopToken(tokens[(r * 7) + lengths[r] - 1]) ? 1 : 0);
                string word = new(tokens.AsSpan(r * 7, count).ToArray().Select(t => s_vocabulary.GetChar(t)).ToArray());
                if (!expected.Exists(e => e.Word == word))
                {
                    expected.Add((word, scores[r]));
                }
            }

            var chars = new char[2 * 7];
            var found = new int[2];
            var engineScores = new float[2];
            steps = TinyCharModel.StepCount;
            int n = engine.Completions(chars, found, engineScores);
            saved += plainSteps - (TinyCharModel.StepCount - steps);
            Assert.Equal(expected.Count, n);
            for (int r = 0; r < n; r++)
            {
                Assert.Equal(expected[r].Word, new string(chars, r * 7, found[r]));
                Assert.Equal(expected[r].Score, engineScores[r]); // bit for bit
            }
        }

        Assert.True(saved > 0, "the distinct-word bound never dropped a hypothesis");
    }

    [Fact]
    public void Completions_IncludeTruncatedWords_WithinTheBuffer()
    {
        var options = new KeystrokeOptions { CompletionBeamWidth = 9, MaxCompletionLength = 2, MaxCompletions = 18 };
        KeystrokeEngine<TinyCharModel> engine = NewEngine(options);
        engine.Type("ca");
        var chars = new char[18 * 2];
        var lengths = new int[18];
        int found = engine.Completions(chars, lengths, new float[18]);

        // Every hypothesis: 3 one-char words × 3 boundaries (listed once per word), plus 9 truncated two-char words.
        Assert.Equal(12, found);
        Assert.Equal(3, lengths.Count(l => l == 1));
        Assert.Equal(9, lengths.Count(l => l == 2));
        var truncated = new HashSet<string>();
        for (int r = 0; r < found; r++)
        {
            string word = new(chars, r * 2, lengths[r]);
            Assert.All(word, c => Assert.Contains(c, "abc"));
            if (word.Length == 2)
            {
                truncated.Add(word);
            }
        }

        Assert.Equal(9, truncated.Count);
    }

    [Fact]
    public void TopNextChars_AreTheMostProbable_InOrder()
    {
        KeystrokeEngine<TinyCharModel> engine = NewEngine();
        engine.Type("ba");
        var probs = new float[TinyCharModel.V];
        engine.NextCharDistribution(probs);
        int[] order = Enumerable.Range(0, probs.Length).OrderByDescending(i => probs[i]).ThenBy(i => i).ToArray();
        var topChars = new char[3];
        var topProbs = new float[3];
        Assert.Equal(3, engine.TopNextChars(topChars, topProbs));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(s_vocabulary.GetChar(order[i]), topChars[i]);
            Assert.Equal(probs[order[i]], topProbs[i]);
        }
    }

    [Fact]
    public void CurrentWord_IsTheTextAfterTheLastBoundary()
    {
        KeystrokeEngine<TinyCharModel> engine = NewEngine();
        engine.Type("ab ca");
        var word = new char[8];
        Assert.Equal("ca", new string(word, 0, engine.CopyCurrentWord(word)));
        engine.Type(' ');
        Assert.Equal(0, engine.CopyCurrentWord(word));
    }

    [Fact]
    public void ThrowPolicy_RejectsUnseenCharsBeforeChangingAnything()
    {
        KeystrokeEngine<TinyCharModel> engine = NewEngine(vocabulary: s_vocabulary.WithUnknownPolicy(UnknownCharPolicy.Throw));
        engine.Type("ab");
        byte[] state = TinyNet.Bytes(engine.State);
        Assert.Throws<ArgumentException>(() => engine.Type('?'));
        Assert.Equal("ab", Text(engine));
        Assert.Equal(state, TinyNet.Bytes(engine.State));
    }

    [Fact]
    public void Backspace_OnEmptyText_ReturnsFalse()
    {
        KeystrokeEngine<TinyCharModel> engine = NewEngine();
        Assert.False(engine.Backspace());
        engine.Type('a');
        engine.Clear();
        Assert.False(engine.Backspace());
    }

    [Fact]
    public void KeystrokeAndCompletions_AllocateNothing_AfterWarmUp()
    {
        KeystrokeEngine<TinyCharModel> engine = NewEngine(new KeystrokeOptions { HistoryCapacity = 8, TextCapacity = 16, ResetAfter = "\n" });
        var chars = new char[3 * 16];
        var lengths = new int[3];
        var scores = new float[3];
        var probs = new float[TinyCharModel.V];
        var top = new char[3];
        const string text = "abc ab.\ncab ba cabc ";
        foreach (char c in text)
        {
            engine.Type(c);
            engine.Completions(chars, lengths, scores);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 5; round++)
        {
            foreach (char c in text)
            {
                engine.Type(c);
                engine.NextCharDistribution(probs);
                engine.TopNextChars(top, probs.AsSpan(0, 3));
                engine.Completions(chars, lengths, scores);
            }

            for (int i = 0; i < 12; i++)
            {
                engine.Backspace(); // beyond the 8-entry history: re-primes too
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void BadOptionsAndArguments_AreRejected_NamingThem()
    {
        Assert.Equal("HistoryCapacity", Assert.Throws<ArgumentOutOfRangeException>(() => NewEngine(new KeystrokeOptions { HistoryCapacity = 0 })).ParamName);
        Assert.Equal("TextCapacity", Assert.Throws<ArgumentOutOfRangeException>(() => NewEngine(new KeystrokeOptions { HistoryCapacity = 8, TextCapacity = 4 })).ParamName);
        Assert.Equal("MaxCompletionLength", Assert.Throws<ArgumentOutOfRangeException>(() => NewEngine(new KeystrokeOptions { MaxCompletionLength = 1 })).ParamName);
        Assert.Equal("CompletionBeamWidth", Assert.Throws<ArgumentOutOfRangeException>(() => NewEngine(new KeystrokeOptions { CompletionBeamWidth = 0 })).ParamName);
        Assert.Equal("vocabulary", Assert.Throws<ArgumentException>(() => NewEngine(vocabulary: new CharVocabulary("abc"))).ParamName);
        KeystrokeEngine<TinyCharModel> engine = NewEngine();
        Assert.Equal("probs", Assert.Throws<ArgumentException>(() => engine.NextCharDistribution(new float[5])).ParamName);
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => engine.Completions(new char[160], new int[9], new float[9])).ParamName);
        Assert.Equal("chars", Assert.Throws<ArgumentException>(() => engine.Completions(new char[10], new int[3], new float[3])).ParamName);
    }
}
