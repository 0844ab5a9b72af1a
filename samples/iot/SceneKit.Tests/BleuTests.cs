namespace SceneKit.Tests;

public sealed class BleuTests
{
    private const double Tolerance = 1e-12;

    private static string[] W(string s) => s.Split(' ');

    [Fact]
    public void Score_MatchesNltkCorpusBleuDocExample()
    {
        // NLTK's corpus_bleu docstring (nltk/translate/bleu_score.py): 0.5920778868801042, unigram-only 28/29.
        string[] hyp1 = W("It is a guide to action which ensures that the military always obeys the commands of the party");
        string[] ref1a = W("It is a guide to action that ensures that the military will forever heed Party commands");
        string[] ref1b = W("It is the guiding principle which guarantees the military forces always being under the command of the Party");
        string[] ref1c = W("It is the practical guide for the army always to heed the directions of the party");
        string[] hyp2 = W("he read the book because he was interested in world history");
        string[] ref2a = W("he was interested in world history because he read the book");
        BleuScore s = Bleu.Score([hyp1, hyp2], [[ref1a, ref1b, ref1c], [ref2a]]);
        Assert.Equal(0.5920778868801042, s.Bleu, Tolerance);
        Assert.Equal(28.0 / 29.0, s.Precisions[0], Tolerance);
        Assert.Equal(1.0, s.BrevityPenalty);
        Assert.Equal(0.0, s.ExactMatch);
    }

    [Fact]
    public void Score_ClipsRepeatedWords_PapineniExample()
    {
        // Papineni et al. 2002, section 2.1: "the the the the the the the" has modified unigram precision 2/7.
        BleuScore s = Bleu.Score([W("the the the the the the the")], [[W("the cat is on the mat"), W("there is a cat on the mat")]]);
        Assert.Equal(2.0 / 7.0, s.Precisions[0], Tolerance);
        Assert.Equal(0.0, s.Bleu); // no matching 2-gram → p_2 = 0 → BLEU 0 (no smoothing)
    }

    [Fact]
    public void Score_ShortCandidate_AppliesBrevityPenalty()
    {
        BleuScore s = Bleu.Score([W("a b c d")], [[W("a b c d e f g h")]]);
        Assert.All(s.Precisions, p => Assert.Equal(1.0, p));
        Assert.Equal(Math.Exp(1 - 8.0 / 4.0), s.BrevityPenalty, Tolerance);
        Assert.Equal(Math.Exp(-1), s.Bleu, Tolerance);
        Assert.Equal(4, s.CandidateLength);
        Assert.Equal(8, s.ReferenceLength);
    }

    [Fact]
    public void Score_EffectiveReferenceLength_PicksClosestThenShorter()
    {
        // Candidate length 6; references 4 and 8 are equally close: the shorter (4) counts, so c > r and BP = 1.
        BleuScore s = Bleu.Score([W("a b c d e f")], [[W("a b c d"), W("a b c d e f g h")]]);
        Assert.Equal(4, s.ReferenceLength);
        Assert.Equal(1.0, s.BrevityPenalty);
    }

    [Fact]
    public void Score_Strings_IdenticalCaptionsScoreOneAndCountExactMatches()
    {
        string[] refs = ["a small red circle above a large blue square", "a large green triangle on the left"];
        BleuScore same = Bleu.Score(refs, refs);
        Assert.Equal(1.0, same.Bleu, Tolerance);
        Assert.Equal(1.0, same.ExactMatch);

        BleuScore half = Bleu.Score(["A small red circle above a large blue square", "a large green triangle on the right"], refs);
        Assert.Equal(0.5, half.ExactMatch); // case-insensitive on the string overload
        Assert.True(half.Bleu is > 0.8 and < 1.0, $"BLEU {half.Bleu}");
    }

    [Fact]
    public void Score_RejectsMismatchedCounts()
    {
        var e = Assert.Throws<ArgumentException>(() => Bleu.Score(["a"], ["a", "b"]));
        Assert.Equal("references", e.ParamName);
    }
}
