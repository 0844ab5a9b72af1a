using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

/// <summary>Validation over sequence streams (word, caption) scores whole sequences only.</summary>
public class EvaluationTests
{
    [Fact]
    public void EvaluateStream_SkipsTheOrphanTailBeforeAPartsFirstSequenceStart()
    {
        var net = new Network(new NetworkShape(Vocab: 6, Embedding: 4, Hidden: 5, Layers: 1, Cell: TrainCell.Lstm));
        net.Initialize(1);

        // Three sequences of 4 tokens: starts at 0, 4, 8. Cut into 2 parts of 6: part 1 begins at 6, mid-sequence.
        int[] inputs = { 0, 1, 2, 3, 0, 4, 5, 1, 0, 2, 3, 4 };
        int[] targets = { 1, 2, 3, 5, 4, 5, 1, 5, 2, 3, 4, 5 };
        bool[] reset = { true, false, false, false, true, false, false, false, true, false, false, false };
        var stream = new TokenStream(inputs, targets, reset);

        double loss = Validation.EvaluateStream(net, stream, streams: 2, seqLen: 4, new Workers(1), out long tokens);

        // Part 0 (positions 0..5) scores all 6; part 1 (6..11) skips 6 and 7, before its first start at 8.
        Assert.Equal(10, tokens);
        Assert.True(double.IsFinite(loss) && loss > 0);

        // Without sequence starts (a char stream), every position counts.
        var chars = new TokenStream(inputs, targets, new bool[inputs.Length]);
        Validation.EvaluateStream(net, chars, streams: 2, seqLen: 4, new Workers(1), out long charTokens);
        Assert.Equal(12, charTokens);
    }
}
