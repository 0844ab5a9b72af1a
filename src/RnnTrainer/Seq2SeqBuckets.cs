using RnnEmbedded.Runtime;

namespace RnnEmbedded.Trainer;

/// <summary>
/// <c>--bucket K</c>: batches of seq2seq pairs of similar length, so that windows fitted to each batch's longest pair
/// (<see cref="Seq2SeqWindow.Fill"/>) carry little padding. The epoch's order (a permutation drawn from --seed and the
/// epoch) is cut into chunks of K · B pairs; each chunk is sorted by source length, then target length (stably:
/// ties keep the drawn order) and cut into batches of B; then the epoch's full batches are shuffled with a second
/// generator drawn from --seed and the epoch, the partial batch (when B does not divide the pairs) staying last.
/// Everything depends only on the pairs, --seed, the epoch, B and K: a resume needs no saved order.
/// docs/training.md, "Sequence to sequence".
/// </summary>
public static class Seq2SeqBuckets
{
    /// <summary>Reorders <paramref name="order"/> (an epoch's permutation of the pair indices) in place into bucketed batches.</summary>
    public static void Group(int[] order, IReadOnlyList<SequencePair> pairs, int batch, int chunkBatches, ulong seed, int epoch)
    {
        if (batch < 1 || chunkBatches < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(chunkBatches), "Buckets need at least one pair per batch and one batch per chunk.");
        }

        int count = order.Length;
        long chunkLong = (long)batch * chunkBatches;
        int chunk = (int)Math.Min(chunkLong, count);
        var keys = new (int Source, int Target, int Drawn)[Math.Max(chunk, 1)];
        for (int start = 0; start < count; start += chunk)
        {
            int n = Math.Min(chunk, count - start);
            for (int i = 0; i < n; i++)
            {
                SequencePair p = pairs[order[start + i]];
                keys[i] = (p.Source.Length, p.Target.Length, i);
            }

            Array.Sort(keys, 0, n); // by source length, target length, then the drawn position: a stable sort
            var sorted = new int[n];
            for (int i = 0; i < n; i++)
            {
                sorted[i] = order[start + keys[i].Drawn];
            }

            sorted.CopyTo(order, start);
        }

        // Fisher–Yates over the full batches; the partial one (if any) stays at the end, where the epoch's last step reads it.
        int full = count / batch;
        ulong s = (seed ^ 0x94D049BB133111EBUL) + (ulong)epoch;
        var rng = new Xoshiro128StarStar(Xoshiro128StarStar.SplitMix64(ref s));
        var batches = new int[full];
        for (int i = 0; i < full; i++)
        {
            batches[i] = i;
        }

        for (int i = full - 1; i > 0; i--)
        {
            int j = (int)(rng.NextDouble() * (i + 1));
            (batches[i], batches[j]) = (batches[j], batches[i]);
        }

        int[] grouped = (int[])order.Clone();
        for (int i = 0; i < full; i++)
        {
            Array.Copy(grouped, batches[i] * batch, order, i * batch, batch);
        }
    }
}
