using RnnEmbedded.Runtime;
using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

public class GradientCheckTests
{
    [Theory]
    [InlineData(TrainCell.Lstm, 1, 1)]
    [InlineData(TrainCell.Lstm, 2, 2)]
    [InlineData(TrainCell.Gru, 1, 1)]
    [InlineData(TrainCell.Gru, 2, 2)]
    [InlineData(TrainCell.RnnTanh, 2, 1)]
    [InlineData(TrainCell.RnnRelu, 1, 2)]
    public void Backward_MatchesFiniteDifferences_EveryParameter(TrainCell cell, int layers, int threads)
    {
        var shape = new NetworkShape(Vocab: 7, Embedding: 5, Hidden: 6, Layers: layers, Cell: cell);
        CheckGradients(shape, threads, dropout: layers > 1 ? 0.25f : 0f, images: false);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Backward_MatchesFiniteDifferences_LstmVariants(bool peepholes, bool cifg)
    {
        var shape = new NetworkShape(Vocab: 7, Embedding: 5, Hidden: 6, Layers: 2, Cell: TrainCell.Lstm, Peepholes: peepholes, Cifg: cifg);
        CheckGradients(shape, 2, dropout: 0f, images: false);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 2)]
    [InlineData(2, 1)]
    [InlineData(2, 2)]
    public void Backward_MatchesFiniteDifferences_GruResetBefore(int layers, int threads)
    {
        var shape = new NetworkShape(Vocab: 7, Embedding: 5, Hidden: 6, Layers: layers, Cell: TrainCell.Gru, GruResetBefore: true);
        CheckGradients(shape, threads, dropout: 0f, images: false);
    }

    [Theory]
    [InlineData(TrainCell.Lstm, "4:relu", 1)]
    [InlineData(TrainCell.Gru, "5:tanh,3:sigmoid", 2)]
    [InlineData(TrainCell.RnnTanh, "4:identity,4:relu", 2)]
    public void Backward_MatchesFiniteDifferences_HeadLayers(TrainCell cell, string headLayers, int threads)
    {
        var shape = new NetworkShape(Vocab: 7, Embedding: 5, Hidden: 6, Layers: 2, Cell: cell,
            HeadLayers: DenseLayerShape.ParseList(headLayers, "--head-layers"));
        CheckGradients(shape, threads, dropout: 0.25f, images: false);
    }

    [Fact]
    public void Backward_MatchesFiniteDifferences_ImageProjectionAndResets()
    {
        var shape = new NetworkShape(Vocab: 6, Embedding: 4, Hidden: 5, Layers: 1, Cell: TrainCell.Lstm, ImageFeatures: 3);
        CheckGradients(shape, 1, dropout: 0f, images: true);
    }

    private static void CheckGradients(NetworkShape shape, int threads, float dropout, bool images)
    {
        var net = new Network(shape);
        net.Initialize(42);
        var rng = new Xoshiro128StarStar(7);
        foreach (Parameter p in net.Parameters)
        {
            // Non-zero biases and peepholes so every term of the backward pass is exercised.
            if (p.Cols == 1 || p.Name.Contains("peephole", StringComparison.Ordinal))
            {
                for (int i = 0; i < p.Value.Length; i++)
                {
                    p.Value[i] = shape.Cifg && p.Name.Contains("peephole", StringComparison.Ordinal) && i / shape.Hidden == 1
                        ? 0f
                        : 0.3f * (2f * rng.NextSingle() - 1f);
                }
            }
        }

        net.RefreshTransposed();
        var window = new Window(net, batch: 3, steps: 4, new Workers(threads)) { Dropout = dropout };
        for (int r = 0; r < window.Inputs.Length; r++)
        {
            window.Inputs[r] = rng.NextInt32(shape.Vocab);
            window.Targets[r] = r % 5 == 4 ? -1 : rng.NextInt32(shape.Vocab);
        }

        if (images)
        {
            window.Features = new float[2 * shape.ImageFeatures];
            for (int i = 0; i < window.Features.Length; i++)
            {
                window.Features[i] = 2f * rng.NextSingle() - 1f;
            }

            window.Inputs[3 * 1 + 0] = -1; // step 1, stream 0: image of sample 0, fresh sequence
            window.Reset[3 * 1 + 0] = true;
            window.Inputs[3 * 2 + 2] = -2;
            window.Reset[3 * 2 + 2] = true;
        }

        window.Reset[3 * 2 + 1] = true;

        Func<double> Loss = GradientCheck.LossFromRandomState(window, ref rng, dropout > 0 ? 99UL : null);

        net.ZeroGrad();
        Loss();
        window.Backward(1f);
        int checkedCount = GradientCheck.AssertMatchesFiniteDifferences(net, Loss);
        Assert.True(checkedCount > 50);
    }
}
