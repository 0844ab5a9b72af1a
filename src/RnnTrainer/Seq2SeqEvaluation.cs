using System.Text;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Trainer;

/// <summary>
/// How a seq2seq model did on held-out pairs, decoding greedily: <see cref="ExactMatches"/> counts pairs whose whole
/// decoded target equals the reference; <see cref="CorrectTokens"/> counts reference positions k whose decoded token
/// k is the reference's (a missing token is wrong), out of <see cref="TargetTokens"/> (stop tokens not counted).
/// </summary>
public sealed class SequenceReport
{
    public long Sequences { get; set; }

    public long ExactMatches { get; set; }

    public long TargetTokens { get; set; }

    public long CorrectTokens { get; set; }

    /// <summary>ExactMatches / Sequences (NaN when nothing was scored).</summary>
    public double ExactMatch => Sequences == 0 ? double.NaN : ExactMatches / (double)Sequences;

    /// <summary>CorrectTokens / TargetTokens (NaN when nothing was scored).</summary>
    public double TokenAccuracy => TargetTokens == 0 ? double.NaN : CorrectTokens / (double)TargetTokens;

    /// <summary>Counts one decoded target against its reference.</summary>
    public void Add(ReadOnlySpan<int> decoded, ReadOnlySpan<int> reference)
    {
        Sequences++;
        ExactMatches += decoded.SequenceEqual(reference) ? 1 : 0;
        TargetTokens += reference.Length;
        for (int k = 0; k < reference.Length && k < decoded.Length; k++)
        {
            CorrectTokens += decoded[k] == reference[k] ? 1 : 0;
        }
    }
}

/// <summary>Held-out loss (teacher forcing) and greedy exact match and token accuracy of a seq2seq network.</summary>
public static class Seq2SeqEvaluation
{
    /// <summary>
    /// Mean cross-entropy (nats per target token, the stop token included) of <paramref name="pairs"/> under teacher
    /// forcing, and the greedy decoding report (at most <paramref name="maxLength"/> tokens per pair).
    /// </summary>
    public static double Evaluate(Seq2SeqWindow window, IReadOnlyList<SequencePair> pairs, int maxLength, SequenceReport report, out long tokens)
    {
        int b = window.Batch;
        var indices = new int[b];
        var output = new int[b * maxLength];
        var lengths = new int[b];
        double sum = 0;
        long count = 0;
        for (int start = 0; start < pairs.Count; start += b)
        {
            int n = Math.Min(b, pairs.Count - start);
            for (int i = 0; i < n; i++)
            {
                indices[i] = start + i;
            }

            window.Fill(pairs, indices.AsSpan(0, n));
            sum += window.Forward(null);
            count += window.TargetCount;
            window.DecodeGreedy(pairs, indices.AsSpan(0, n), maxLength, output, lengths);
            for (int i = 0; i < n; i++)
            {
                report.Add(output.AsSpan(i * maxLength, lengths[i]), pairs[start + i].Target);
            }
        }

        tokens = count;
        return count > 0 ? sum / count : double.NaN;
    }

    /// <summary>Token ids as text: characters joined, words separated by spaces; start and stop tokens left out.</summary>
    public static string ToText(Vocabulary vocabulary, ReadOnlySpan<int> ids)
    {
        var sb = new StringBuilder();
        foreach (int id in ids)
        {
            if (id == vocabulary.StartToken || id == vocabulary.StopToken)
            {
                continue;
            }

            if (vocabulary.Kind == ModelVocabularyKind.Words && sb.Length > 0)
            {
                sb.Append(' ');
            }

            sb.Append(vocabulary.Tokens[id]);
        }

        return sb.ToString();
    }

    /// <summary>What a person watching sees instead of a language model's sample: a few held-out pairs decoded greedily.</summary>
    public static string Sample(Seq2SeqWindow window, Dataset data, int count)
    {
        IReadOnlyList<SequencePair> pairs = data.ValidationPairs is { Count: > 0 } held ? held : data.TrainPairs!;
        int n = Math.Min(Math.Min(count, window.Batch), pairs.Count);
        int maxLength = data.MaxTargetLength;
        var indices = Enumerable.Range(0, n).ToArray();
        var output = new int[window.Batch * maxLength];
        var lengths = new int[window.Batch];
        window.DecodeGreedy(pairs, indices, maxLength, output, lengths);
        var parts = new List<string>();
        for (int i = 0; i < n; i++)
        {
            string decoded = ToText(data.Vocabulary, output.AsSpan(i * maxLength, lengths[i]));
            string expected = ToText(data.Vocabulary, pairs[i].Target);
            parts.Add($"{ToText(data.SourceVocabulary!, pairs[i].Source)} → {decoded}" + (decoded == expected ? " ✓" : $" (expected {expected})"));
        }

        return string.Join(" | ", parts);
    }
}
