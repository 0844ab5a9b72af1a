using RnnEmbedded.Runtime;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

/// <summary>
/// The seq2seq backward pass against finite differences: every parameter of both stacks, the encoder's through the
/// hand-over of its final state (h, and c for LSTM) to the decoder, with right-aligned sources of different lengths.
/// </summary>
public class Seq2SeqGradientCheckTests
{
    private const float Epsilon = 3e-3f;
    private const double AbsoluteTolerance = 2e-3;
    private const double RelativeTolerance = 2e-2;

    [Theory]
    [InlineData(TrainCell.Lstm, false, false, false, 1, 1)]
    [InlineData(TrainCell.Lstm, false, false, false, 2, 2)]
    [InlineData(TrainCell.Lstm, true, true, false, 2, 1)]
    [InlineData(TrainCell.Lstm, true, false, false, 1, 2)]
    [InlineData(TrainCell.Gru, false, false, false, 1, 1)]
    [InlineData(TrainCell.Gru, false, false, false, 2, 2)]
    [InlineData(TrainCell.Gru, false, false, true, 2, 2)]
    [InlineData(TrainCell.RnnTanh, false, false, false, 2, 1)]
    [InlineData(TrainCell.RnnRelu, false, false, false, 1, 2)]
    public void Backward_MatchesFiniteDifferences_BothStacks(TrainCell cell, bool peepholes, bool cifg, bool resetBefore, int layers, int threads)
    {
        var encoder = new NetworkShape(Vocab: 6, Embedding: 4, Hidden: 5, Layers: layers, Cell: cell, Peepholes: peepholes, Cifg: cifg,
            GruResetBefore: resetBefore, Head: false);
        var shape = new NetworkShape(Vocab: 7, Embedding: 3, Hidden: 5, Layers: layers, Cell: cell, Peepholes: peepholes, Cifg: cifg,
            GruResetBefore: resetBefore, Encoder: encoder);
        var net = new Network(shape);
        net.Initialize(42);
        var rng = new Xoshiro128StarStar(7);
        foreach (Parameter p in net.Parameters)
        {
            // Non-zero biases and peepholes so every term of the backward pass is exercised (CIFG keeps p_f at zero).
            if (p.Cols == 1 || p.Name.Contains("peephole", StringComparison.Ordinal))
            {
                for (int i = 0; i < p.Value.Length; i++)
                {
                    p.Value[i] = cifg && p.Name.Contains("peephole", StringComparison.Ordinal) && i / shape.Hidden == 1 ? 0f : 0.3f * (2f * rng.NextSingle() - 1f);
                }
            }
        }

        net.RefreshTransposed();
        var pairs = new List<SequencePair>
        {
            new([1, 2, 3, 4, 5], [2, 3, 4]), // the longest source fills the encoder window
            new([5, 0], [6]),
            new([3], [4, 4, 2]),
            new([2, 2, 1, 0], [5, 6]),
        };
        var window = new Seq2SeqWindow(net, batch: 3, sourceSteps: 5, targetSteps: 4, startToken: 0, stopToken: 1, new Workers(threads))
        {
            Dropout = layers > 1 ? 0.25f : 0f,
        };
        int[] indices = [0, 2, 3];
        ulong? seed = layers > 1 ? 99UL : null;

        double Loss()
        {
            window.Fill(pairs, indices);
            return window.Forward(seed);
        }

        net.ZeroGrad();
        double loss = Loss();
        Assert.Equal(3 + 1 + 3 + 1 + 2 + 1, window.TargetCount);
        window.Backward(1f);
        int checkedCount = 0, encoderChecked = 0;
        foreach (Parameter p in net.Parameters)
        {
            float[] analytic = (float[])p.Grad.Clone();
            int stride = Math.Max(1, p.Value.Length / 20);
            for (int i = 0; i < p.Value.Length; i += stride)
            {
                float saved = p.Value[i];
                p.Value[i] = saved + Epsilon;
                net.RefreshTransposed();
                double plus = Loss();
                p.Value[i] = saved - Epsilon;
                net.RefreshTransposed();
                double minus = Loss();
                p.Value[i] = saved;
                net.RefreshTransposed();
                double numeric = (plus - minus) / (2 * Epsilon);
                double diff = Math.Abs(numeric - analytic[i]);
                Assert.True(diff <= AbsoluteTolerance + RelativeTolerance * Math.Abs(numeric), $"{p.Name}[{i}]: analytic {analytic[i]}, numeric {numeric}");
                checkedCount++;
                if (p.Name.StartsWith("encoder.", StringComparison.Ordinal) && Math.Abs(numeric) > 1e-3)
                {
                    encoderChecked++; // the encoder's gradient is not trivially zero: it arrives through the hand-over
                }
            }
        }

        Assert.True(checkedCount > 80, $"{checkedCount} values checked");
        Assert.True(encoderChecked > 10, $"{encoderChecked} encoder values with a gradient");
        Assert.True(double.IsFinite(loss) && loss > 0);
    }
}
