using System.Globalization;
using System.Numerics;

namespace RnnEmbedded.Trainer;

/// <summary>
/// Checks that the arrays a run allocates fit: every buffer within <see cref="Array.MaxLength"/> elements, and the
/// whole run within the memory this process may use. Errors name the options and the product that is too large.
/// </summary>
internal static class SizeLimits
{
    private const int BytesPerParameter = 20; // value, gradient, two optimizer moments and (matrices) a transposed copy

    /// <summary>Throws when <paramref name="factors"/> multiply to more elements than an array holds.</summary>
    /// <param name="options">The options as the user wrote them, e.g. "--batch 64 × --seq-len 512".</param>
    /// <param name="what">The buffer and its formula, e.g. "the gate buffer (B·T × 4·H)".</param>
    public static void CheckArray(string options, string what, params long[] factors)
    {
        BigInteger product = BigInteger.One;
        foreach (long f in factors)
        {
            product *= f;
        }

        if (product > Array.MaxLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{options} is too large: {what} would have {product:N0} elements, more than the {Array.MaxLength:N0} an array can hold"));
        }
    }

    /// <summary>The size checks that need only the options (the vocabulary is known later: <see cref="CheckNetwork"/>).</summary>
    public static void CheckOptions(TrainOptions o)
    {
        int g = Gates(o);
        string gh = g == 1 ? "H" : $"{g}·H";
        CheckArray($"--hidden {o.Hidden}", $"W_hh ({gh} × H)", g, o.Hidden, o.Hidden);
        CheckArray($"--hidden {o.Hidden} with --embedding {o.Embedding}", $"W_ih of layer 0 ({gh} × E)", g, o.Hidden, o.Embedding);
        CheckArray($"--batch {o.Batch} × --seq-len {o.SeqLen} with --hidden {o.Hidden}", $"the window's gate buffer (B·T × {gh})",
            o.Batch, o.SeqLen, g, o.Hidden);
        CheckArray($"--batch {o.Batch} × --seq-len {o.SeqLen} with --embedding {o.Embedding}", "the window's input buffer (B·T × E)",
            o.Batch, o.SeqLen, o.Embedding);
        CheckArray($"--eval-streams {o.EvalStreams} × --seq-len {o.SeqLen} with --hidden {o.Hidden}", $"the validation window's gate buffer (S·T × {gh})",
            o.EvalStreams, o.SeqLen, g, o.Hidden);
    }

    /// <summary>The checks that need the vocabulary size V and feature count F, then the memory estimate.</summary>
    public static void CheckNetwork(TrainOptions o, int vocab, int features, int evalStreams)
    {
        string v = $"a vocabulary of {vocab:N0} tokens";
        CheckArray($"--embedding {o.Embedding} with {v}", "the embedding (V × E)", vocab, o.Embedding);
        CheckArray($"--hidden {o.Hidden} with {v}", "the head (V × H)", vocab, o.Hidden);
        CheckArray($"--batch {o.Batch} × --seq-len {o.SeqLen} with {v}", "the window's logits (B·T × V)", o.Batch, o.SeqLen, vocab);
        CheckArray($"--eval-streams {o.EvalStreams} × --seq-len {o.SeqLen} with {v}", "the validation window's logits (S·T × V)",
            evalStreams, o.SeqLen, vocab);
        CheckArray($"--embedding {o.Embedding} with {features:N0} image features", "the image projection (E × F)", o.Embedding, features);

        // Parameters with their gradients and optimizer state, and the buffers of the training and validation windows.
        long g = Gates(o), h = o.Hidden, e = o.Embedding, layers = o.Layers;
        double parameters = (double)vocab * e + (double)e * (features + 1)
            + layers * g * h * (h + 2.0) + g * h * (double)e + (layers - 1) * g * h * (double)h + 3.0 * layers * h
            + (double)vocab * (h + 1);
        double perRow = layers * (2 * g * h + 6.0 * h + Math.Max(e, h)) + 2 * g * h + 2.0 * Math.Max(e, h) + vocab + 2;
        double bytes = parameters * BytesPerParameter + 4 * perRow * ((double)o.Batch * o.SeqLen + (double)evalStreams * o.SeqLen);
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (bytes > available)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--hidden {o.Hidden}, --layers {o.Layers}, --embedding {o.Embedding}, --batch {o.Batch} and --seq-len {o.SeqLen} with {v} need about "
                + $"{bytes / 1e9:N1} GB ({parameters:N0} parameters with their gradients and optimizer state, and the window buffers), "
                + $"more than the {available / 1e9:N1} GB this process can use"));
        }
    }

    /// <summary>Seq2seq: the encoder and decoder windows are as long as the longest source and target + 1.</summary>
    public static void CheckSequences(TrainOptions o, int maxSource, int maxTarget)
    {
        int g = Gates(o);
        string gh = g == 1 ? "H" : $"{g}·H";
        foreach (int batch in new[] { o.Batch, o.EvalStreams })
        {
            string b = batch == o.Batch ? $"--batch {o.Batch}" : $"--eval-streams {o.EvalStreams}";
            CheckArray($"{b} with sources of up to {maxSource:N0} tokens and --hidden {o.Hidden}", $"the encoder window's gate buffer (B·Ts × {gh})",
                batch, maxSource, g, o.Hidden);
            CheckArray($"{b} with targets of up to {maxTarget:N0} tokens and --hidden {o.Hidden}", $"the decoder window's gate buffer (B·(Tt + 1) × {gh})",
                batch, maxTarget + 1L, g, o.Hidden);
        }
    }

    private static int Gates(TrainOptions o) => o.Cell switch
    {
        TrainCell.Lstm => o.Cifg ? 3 : 4,
        TrainCell.Gru => 3,
        _ => 1,
    };
}
