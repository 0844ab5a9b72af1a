using System.Runtime.CompilerServices;

namespace RnnEmbedded.Runtime;

/// <summary>How well a model predicts a token stream.</summary>
/// <param name="Count">Number of predictions scored.</param>
/// <param name="MeanCrossEntropy">Mean of −log p(next token), in nats.</param>
public readonly record struct EvaluationResult(int Count, double MeanCrossEntropy)
{
    /// <summary>exp(mean cross-entropy).</summary>
    public double Perplexity => Math.Exp(MeanCrossEntropy);

    /// <summary>Mean cross-entropy in bits: nats / ln 2 (bits per character for a character model).</summary>
    public double BitsPerToken => MeanCrossEntropy / Math.Log(2.0);
}

/// <summary>Cross-entropy, perplexity and bits per character, computed by stepping a model over a token stream.</summary>
public static class Evaluation
{
    /// <summary>−log softmax(logits)[target] = LogSumExp(logits) − logits[target], in nats (+∞ for a −∞ logit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float CrossEntropy(ReadOnlySpan<float> logits, int target)
    {
        if ((uint)target >= (uint)logits.Length)
        {
            ThrowHelper.Token(nameof(target), target, logits.Length);
        }

        return Softmax.LogSumExp(logits) - logits[target];
    }

    /// <summary>
    /// Steps <paramref name="model"/> (from its current state) on tokens[0..n−2]; the output after token i is scored
    /// against token i + 1. Needs at least two tokens; <paramref name="logits"/> is scratch of OutputSize floats.
    /// The model is left after token n−2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static EvaluationResult Evaluate<TModel>(ref TModel model, ReadOnlySpan<int> tokens, Span<float> logits)
        where TModel : struct, ITokenModel<TModel>
    {
        if (tokens.Length < 2)
        {
            ThrowHelper.TooShort(nameof(tokens), tokens.Length, 2);
        }

        if (logits.Length != TModel.OutputSize)
        {
            ThrowHelper.Length(nameof(logits), logits.Length, TModel.OutputSize);
        }

        double total = 0;
        for (int i = 0; i + 1 < tokens.Length; i++)
        {
            int token = tokens[i];
            if ((uint)token >= (uint)TModel.InputSize)
            {
                ThrowHelper.Token(nameof(tokens), token, TModel.InputSize);
            }

            model.Step(token, logits);
            total += CrossEntropy(logits, tokens[i + 1]);
        }

        int count = tokens.Length - 1;
        return new EvaluationResult(count, total / count);
    }
}
