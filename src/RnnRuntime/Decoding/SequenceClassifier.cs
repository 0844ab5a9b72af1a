using System.Runtime.CompilerServices;

namespace RnnEmbedded.Runtime;

/// <summary>
/// Class probabilities from a compiled sequence classifier (<see cref="IClassifierModel{TSelf}"/>): after the last
/// step of a whole sequence (<see cref="Classify{TModel}(ReadOnlySpan{int}, Span{float})"/>, many-to-one), or after
/// every step of a stream (<see cref="Step{TModel}(ref TModel, int, Span{float})"/>). Nothing allocates.
/// </summary>
/// <remarks>
/// Token ids come from the model's vocabulary: <see cref="CharVocabulary.FromModel{TModel}(UnknownCharPolicy)"/>
/// for character classifiers (the trainer skips characters it never saw, as <see cref="UnknownCharPolicy.Skip"/>
/// does), <see cref="WordVocabulary.FromModel{TModel}(bool?)"/> for word classifiers (the trainer feeds
/// <c>&lt;start&gt;</c> words <c>&lt;stop&gt;</c>, what <see cref="WordVocabulary.Encode"/> writes).
/// </remarks>
public static class SequenceClassifier
{
    /// <summary>C, the number of labels.</summary>
    /// <typeparam name="TModel">The generated classifier.</typeparam>
    /// <returns>The label count (the model's OutputSize).</returns>
    public static int LabelCount<TModel>()
        where TModel : struct, IClassifierModel<TModel> => TModel.LabelOffsets.Length - 1;

    /// <summary>The name of label <paramref name="label"/>.</summary>
    /// <typeparam name="TModel">The generated classifier.</typeparam>
    /// <param name="label">A label index in [0, C).</param>
    /// <returns>The label's text, a slice of the model's static data.</returns>
    public static ReadOnlySpan<char> GetLabel<TModel>(int label)
        where TModel : struct, IClassifierModel<TModel>
    {
        ReadOnlySpan<int> offsets = TModel.LabelOffsets;
        if ((uint)label >= (uint)(offsets.Length - 1))
        {
            throw new ArgumentOutOfRangeException(nameof(label), label, $"A label index is in [0, {offsets.Length - 1}).");
        }

        return TModel.LabelText[offsets[label]..offsets[label + 1]];
    }

    /// <summary>The index of the label named <paramref name="name"/> (ordinal comparison), or −1.</summary>
    /// <typeparam name="TModel">The generated classifier.</typeparam>
    /// <param name="name">A label name.</param>
    /// <returns>The label index, or −1 when no label has that name.</returns>
    public static int IndexOfLabel<TModel>(ReadOnlySpan<char> name)
        where TModel : struct, IClassifierModel<TModel>
    {
        int count = LabelCount<TModel>();
        for (int k = 0; k < count; k++)
        {
            if (name.SequenceEqual(GetLabel<TModel>(k)))
            {
                return k;
            }
        }

        return -1;
    }

    /// <summary>
    /// Streaming: advances <paramref name="model"/> on <paramref name="token"/> and writes the class probabilities
    /// given the sequence so far.
    /// </summary>
    /// <typeparam name="TModel">The generated classifier.</typeparam>
    /// <param name="model">The model, stepped in place.</param>
    /// <param name="token">The next token id in [0, InputSize).</param>
    /// <param name="probabilities">At least C floats; the first C receive the probabilities.</param>
    /// <returns>The most probable label.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Step<TModel>(ref TModel model, int token, Span<float> probabilities)
        where TModel : struct, ITokenModel<TModel>, IClassifierModel<TModel>
    {
        int c = CheckOutput<TModel>(probabilities);
        Span<float> p = probabilities[..c];
        model.Step(token, p);
        Softmax.Apply(p, p);
        return Softmax.ArgMax(p);
    }

    /// <summary>
    /// Many-to-one: reads <paramref name="tokens"/> from the zero state and writes the class probabilities after
    /// the last step.
    /// </summary>
    /// <typeparam name="TModel">The generated classifier.</typeparam>
    /// <param name="tokens">At least one token id in [0, InputSize).</param>
    /// <param name="probabilities">At least C floats; the first C receive the probabilities.</param>
    /// <returns>The most probable label.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Classify<TModel>(ReadOnlySpan<int> tokens, Span<float> probabilities)
        where TModel : struct, ITokenModel<TModel>, IClassifierModel<TModel>
    {
        if (tokens.IsEmpty)
        {
            throw new ArgumentException("A sequence to classify needs at least one token.", nameof(tokens));
        }

        int c = CheckOutput<TModel>(probabilities);
        Span<float> p = probabilities[..c];
        TModel model = default;
        foreach (int token in tokens)
        {
            model.Step(token, p);
        }

        Softmax.Apply(p, p);
        return Softmax.ArgMax(p);
    }

    private static int CheckOutput<TModel>(Span<float> probabilities)
        where TModel : struct, ITokenModel<TModel>, IClassifierModel<TModel>
    {
        int c = TModel.OutputSize;
        if (probabilities.Length < c)
        {
            ThrowHelper.Length(nameof(probabilities), $"has {probabilities.Length} elements; at least {c} (one per label) are needed");
        }

        return c;
    }
}
