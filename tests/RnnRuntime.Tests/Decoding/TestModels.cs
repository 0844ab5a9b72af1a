using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RnnEmbedded.Runtime;

namespace RnnEmbedded.Tests.Decoding;

[InlineArray(4)]
internal struct Hidden4
{
    private float _element0;
}

/// <summary>Shared math of the hand-made test models: h' = tanh(A h + E[token]), logits = W h' + b.</summary>
internal static class TinyNet
{
    public const int H = 4;

    /// <summary>Deterministic pseudo-weights in [−scale, scale] (a fixed formula, no RNG).</summary>
    public static float[] Weights(int count, int salt, float scale)
    {
        var w = new float[count];
        for (int i = 0; i < count; i++)
        {
            w[i] = scale * MathF.Sin((i * 1.61803f) + (salt * 2.71828f) + (i * i * 0.0137f));
        }

        return w;
    }

    public static void Recur(ref Hidden4 h, ReadOnlySpan<float> a, ReadOnlySpan<float> input)
    {
        Span<float> next = stackalloc float[H];
        for (int r = 0; r < H; r++)
        {
            float sum = input[r];
            for (int c = 0; c < H; c++)
            {
                sum += a[(r * H) + c] * h[c];
            }

            next[r] = MathF.Tanh(sum);
        }

        next.CopyTo(h);
    }

    public static void Head(ref Hidden4 h, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> output)
    {
        for (int o = 0; o < b.Length; o++)
        {
            float sum = b[o];
            for (int c = 0; c < H; c++)
            {
                sum += w[(o * H) + c] * h[c];
            }

            output[o] = sum;
        }
    }

    public static void CheckToken(int token, int v)
    {
        if ((uint)token >= (uint)v)
        {
            throw new ArgumentOutOfRangeException(nameof(token), token, "token out of range");
        }
    }

    public static void CheckOutput(Span<float> output, int v)
    {
        if (output.Length != v)
        {
            throw new ArgumentException("output length", nameof(output));
        }
    }

    /// <summary>The raw bytes of a model value, for bit-identity checks.</summary>
    public static byte[] Bytes<T>(in T value)
        where T : struct =>
        MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)).ToArray();
}

/// <summary>A character model over "abc .\n" whose state (a 4-float hidden vector) matters. Counts its steps per thread.</summary>
internal struct TinyCharModel : ITokenModel<TinyCharModel>, ITokenSequenceModel<TinyCharModel>, IVocabularyModel<TinyCharModel>
{
    public const int V = 6;
    private static readonly float[] s_a = TinyNet.Weights(TinyNet.H * TinyNet.H, 1, 0.9f);
    private static readonly float[] s_e = TinyNet.Weights(V * TinyNet.H, 2, 1.5f);
    private static readonly float[] s_w = TinyNet.Weights(V * TinyNet.H, 3, 2.0f);
    private static readonly float[] s_b = TinyNet.Weights(V, 4, 0.5f);

    [ThreadStatic]
    private static int t_steps;

    private Hidden4 _h;

    public static int StepCount { get => t_steps; set => t_steps = value; }

    public static int InputSize => V;

    public static int OutputSize => V;

    public static ModelTask Task => ModelTask.CharLm;

    public static ModelVocabularyKind VocabularyKind => ModelVocabularyKind.Characters;

    public static ReadOnlySpan<char> VocabularyText => "abc .\n";

    public static ReadOnlySpan<int> VocabularyOffsets => [0, 1, 2, 3, 4, 5, 6];

    public static int StartToken => -1;

    public static int StopToken => -1;

    public static int UnknownToken => -1;

    public void Step(int token, Span<float> output)
    {
        TinyNet.CheckToken(token, V);
        TinyNet.CheckOutput(output, V);
        t_steps++;
        TinyNet.Recur(ref _h, s_a, s_e.AsSpan(token * TinyNet.H, TinyNet.H));
        TinyNet.Head(ref _h, s_w, s_b, output);
    }

    public void Reset() => this = default;

    public static void Run(ReadOnlySpan<int> tokens, Span<float> outputs)
    {
        var model = default(TinyCharModel);
        for (int t = 0; t < tokens.Length; t++)
        {
            model.Step(tokens[t], outputs.Slice(t * V, V));
        }
    }
}

/// <summary>A bigram model: the state is the last token; logits are a fixed table row. Token 3 is its stop token.</summary>
internal struct BigramModel : ITokenModel<BigramModel>, ITokenSequenceModel<BigramModel>, IVocabularyModel<BigramModel>
{
    public const int V = 4;

    // Row = last token. Chosen so greedy from token 0 is 1, 2, 3 (stop) and beam search matters.
    private static readonly float[] s_table =
    [
        0.1f, 2.0f, 0.5f, -1.0f,
        1.5f, -0.5f, 1.9f, 0.3f,
        0.2f, 0.0f, -2.0f, 2.5f,
        0.0f, 0.0f, 0.0f, 0.0f,
    ];

    private int _last;

    public static int InputSize => V;

    public static int OutputSize => V;

    public static ModelTask Task => ModelTask.Generic;

    public static ModelVocabularyKind VocabularyKind => ModelVocabularyKind.None;

    public static ReadOnlySpan<char> VocabularyText => [];

    public static ReadOnlySpan<int> VocabularyOffsets => [];

    public static int StartToken => -1;

    public static int StopToken => 3;

    public static int UnknownToken => -1;

    public static ReadOnlySpan<float> Row(int token) => s_table.AsSpan(token * V, V);

    public void Step(int token, Span<float> output)
    {
        TinyNet.CheckToken(token, V);
        TinyNet.CheckOutput(output, V);
        _last = token;
        Row(token).CopyTo(output);
    }

    public void Reset() => this = default;

    public static void Run(ReadOnlySpan<int> tokens, Span<float> outputs)
    {
        for (int t = 0; t < tokens.Length; t++)
        {
            Row(tokens[t]).CopyTo(outputs.Slice(t * V, V));
        }
    }
}

/// <summary>A tiny Show-and-Tell decoder: h = tanh(P f) on the image, then h' = tanh(A h + E[word]); logits = W h + b.</summary>
internal struct TinyCaptionModel : ICaptionModel<TinyCaptionModel>, ITokenSequenceModel<TinyCaptionModel>, IVocabularyModel<TinyCaptionModel>
{
    public const int V = 6;
    public const int F = 3;
    private static readonly float[] s_p = TinyNet.Weights(TinyNet.H * F, 5, 1.2f);
    private static readonly float[] s_a = TinyNet.Weights(TinyNet.H * TinyNet.H, 6, 0.8f);
    private static readonly float[] s_e = TinyNet.Weights(V * TinyNet.H, 7, 1.4f);
    private static readonly float[] s_w = TinyNet.Weights(V * TinyNet.H, 8, 2.2f);
    private static readonly float[] s_b = TinyNet.Weights(V, 9, 0.4f);

    private Hidden4 _h;

    public static int InputSize => V;

    public static int OutputSize => V;

    public static ModelTask Task => ModelTask.Caption;

    public static ModelVocabularyKind VocabularyKind => ModelVocabularyKind.Words;

    // <start> <stop> <unk> a cat dog
    public static ReadOnlySpan<char> VocabularyText => "<start><stop><unk>acatdog";

    public static ReadOnlySpan<int> VocabularyOffsets => [0, 7, 13, 18, 19, 22, 25];

    public static int StartToken => 0;

    public static int StopToken => 1;

    public static int UnknownToken => 2;

    public static int ImageFeatureSize => F;

    public void StepImage(ReadOnlySpan<float> features, Span<float> output)
    {
        if (features.Length != F)
        {
            throw new ArgumentException("features length", nameof(features));
        }

        TinyNet.CheckOutput(output, V);
        Span<float> projected = stackalloc float[TinyNet.H];
        for (int r = 0; r < TinyNet.H; r++)
        {
            float sum = 0;
            for (int c = 0; c < F; c++)
            {
                sum += s_p[(r * F) + c] * features[c];
            }

            projected[r] = sum;
        }

        _h = default;
        TinyNet.Recur(ref _h, s_a, projected);
        TinyNet.Head(ref _h, s_w, s_b, output);
    }

    public void Step(int token, Span<float> output)
    {
        TinyNet.CheckToken(token, V);
        TinyNet.CheckOutput(output, V);
        TinyNet.Recur(ref _h, s_a, s_e.AsSpan(token * TinyNet.H, TinyNet.H));
        TinyNet.Head(ref _h, s_w, s_b, output);
    }

    public void Reset() => this = default;

    public static void Run(ReadOnlySpan<int> tokens, Span<float> outputs)
    {
        var model = default(TinyCaptionModel);
        for (int t = 0; t < tokens.Length; t++)
        {
            model.Step(tokens[t], outputs.Slice(t * V, V));
        }
    }
}

/// <summary>Every logit zero: the uniform distribution over V = 5 tokens.</summary>
internal struct UniformModel : ITokenModel<UniformModel>, ITokenSequenceModel<UniformModel>, IVocabularyModel<UniformModel>
{
    public const int V = 5;

    public static int InputSize => V;

    public static int OutputSize => V;

    public static ModelTask Task => ModelTask.Generic;

    public static ModelVocabularyKind VocabularyKind => ModelVocabularyKind.None;

    public static ReadOnlySpan<char> VocabularyText => [];

    public static ReadOnlySpan<int> VocabularyOffsets => [];

    public static int StartToken => -1;

    public static int StopToken => -1;

    public static int UnknownToken => -1;

    public void Step(int token, Span<float> output)
    {
        TinyNet.CheckToken(token, V);
        output.Clear();
    }

    public void Reset()
    {
    }

    public static void Run(ReadOnlySpan<int> tokens, Span<float> outputs) => outputs.Clear();
}

/// <summary>A character model over "ab😀 " (token 2 is a surrogate pair, U+1F600).</summary>
internal struct EmojiCharModel : ITokenModel<EmojiCharModel>, ITokenSequenceModel<EmojiCharModel>, IVocabularyModel<EmojiCharModel>
{
    public const int V = 4;
    private static readonly float[] s_a = TinyNet.Weights(TinyNet.H * TinyNet.H, 11, 0.9f);
    private static readonly float[] s_e = TinyNet.Weights(V * TinyNet.H, 12, 1.5f);
    private static readonly float[] s_w = TinyNet.Weights(V * TinyNet.H, 13, 2.0f);
    private static readonly float[] s_b = TinyNet.Weights(V, 14, 0.5f);

    private Hidden4 _h;

    public static int InputSize => V;

    public static int OutputSize => V;

    public static ModelTask Task => ModelTask.CharLm;

    public static ModelVocabularyKind VocabularyKind => ModelVocabularyKind.Characters;

    public static ReadOnlySpan<char> VocabularyText => "ab\U0001F600 ";

    public static ReadOnlySpan<int> VocabularyOffsets => [0, 1, 2, 4, 5];

    public static int StartToken => -1;

    public static int StopToken => -1;

    public static int UnknownToken => -1;

    public void Step(int token, Span<float> output)
    {
        TinyNet.CheckToken(token, V);
        TinyNet.CheckOutput(output, V);
        TinyNet.Recur(ref _h, s_a, s_e.AsSpan(token * TinyNet.H, TinyNet.H));
        TinyNet.Head(ref _h, s_w, s_b, output);
    }

    public void Reset() => this = default;

    public static void Run(ReadOnlySpan<int> tokens, Span<float> outputs)
    {
        var model = default(EmojiCharModel);
        for (int t = 0; t < tokens.Length; t++)
        {
            model.Step(tokens[t], outputs.Slice(t * V, V));
        }
    }
}
