using System.Runtime.CompilerServices;

namespace RnnEmbedded.Runtime;

/// <summary>
/// Receives generated tokens. Implement it on a struct and pass it by <c>ref</c> so nothing boxes or allocates.
/// </summary>
public interface ITokenSink
{
    /// <summary>Called for each generated token; return false to stop generating.</summary>
    bool OnToken(int token);
}

/// <summary>
/// Streams tokens from a model: prime it with a prompt, then sample one token per step with a <see cref="Sampler"/>
/// into a caller buffer or a struct <see cref="ITokenSink"/>, stopping at a length or a stop token.
/// Buffers are allocated in the constructor; priming and generating allocate nothing. Not thread-safe.
/// </summary>
/// <remarks>
/// The stop token ends generation and is not emitted (not written, not passed to the sink); the model has not
/// stepped on it. Every prompt token is recorded in the sampler's repetition history. Generating before any prompt
/// token throws <see cref="InvalidOperationException"/>: there are no logits to sample from.
/// </remarks>
public sealed class TextGenerator<TModel>
    where TModel : struct, ITokenModel<TModel>
{
    private readonly int _vocabularySize;
    private readonly float[] _logits;   // (V,) logits of the next token
    private readonly float[] _work;     // (V,) copy the sampler may modify
    private TModel _model;
    private bool _primed;

    /// <summary>A generator over the zero state of <typeparamref name="TModel"/>; prime it before generating.</summary>
    /// <param name="options">How tokens are drawn; <see langword="null"/> for <see cref="SamplingOptions.Default"/>.</param>
    public TextGenerator(SamplingOptions? options = null)
    {
        BeamSearch<TModel>.CheckModel();
        _vocabularySize = TModel.OutputSize;
        _logits = new float[_vocabularySize];
        _work = new float[_vocabularySize];
        Sampler = new Sampler(_vocabularySize, options);
    }

    /// <summary>Draws each next token from the logits (its random stream and repetition history included).</summary>
    public Sampler Sampler { get; }

    /// <summary>The model state (by reference: the caller may snapshot or replace it).</summary>
    public ref TModel Model => ref _model;

    /// <summary>Logits of the next token after the last step.</summary>
    public ReadOnlySpan<float> Logits => _logits;

    /// <summary>True once the model has stepped at least once since the last <see cref="Reset"/>.</summary>
    public bool IsPrimed => _primed;

    /// <summary>Zero state, no logits, empty repetition history (the random stream continues).</summary>
    public void Reset()
    {
        _model = default;
        Array.Clear(_logits);
        Sampler.ClearHistory();
        _primed = false;
    }

    /// <summary>Steps the model on one prompt token.</summary>
    public void Prime(int token)
    {
        if ((uint)token >= (uint)TModel.InputSize)
        {
            ThrowHelper.Token(nameof(token), token, TModel.InputSize);
        }

        _model.Step(token, _logits);
        if (token < _vocabularySize)
        {
            Sampler.Observe(token);
        }

        _primed = true;
    }

    /// <summary>Steps the model on every prompt token.</summary>
    public void Prime(ReadOnlySpan<int> tokens)
    {
        for (int i = 0; i < tokens.Length; i++)
        {
            Prime(tokens[i]);
        }
    }

    /// <summary>Steps on the characters of <paramref name="text"/> (unseen characters follow the vocabulary's policy).</summary>
    public void PrimeText(ReadOnlySpan<char> text, CharVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        int position = 0;
        while (position < text.Length)
        {
            int id = vocabulary.MapAt(text, ref position);
            if (id >= 0)
            {
                Prime(id);
            }
        }
    }

    /// <summary>Steps on &lt;start&gt; (when <paramref name="includeStart"/> and the vocabulary has it), then the words of <paramref name="text"/>.</summary>
    public void PrimeWords(ReadOnlySpan<char> text, WordVocabulary vocabulary, bool includeStart = true)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (includeStart && vocabulary.StartToken >= 0)
        {
            Prime(vocabulary.StartToken);
        }

        int position = 0;
        while (WordTokenizer.Next(text, ref position, out int start, out int length))
        {
            Prime(vocabulary.GetIdOrUnknown(text.Slice(start, length)));
        }
    }

    /// <summary>Samples the next token and steps the model on it (unless it is <paramref name="stopToken"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Next(int stopToken = -1)
    {
        if (!_primed)
        {
            ThrowNotPrimed();
        }

        _logits.CopyTo(_work);
        int token = Sampler.Sample(_work);
        if (token != stopToken)
        {
            _model.Step(token, _logits);
        }

        return token;
    }

    /// <summary>Fills <paramref name="tokens"/> with generated tokens, stopping early at <paramref name="stopToken"/> (not written). Returns the count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Generate(Span<int> tokens, int stopToken = -1)
    {
        for (int i = 0; i < tokens.Length; i++)
        {
            int token = Next(stopToken);
            if (token == stopToken)
            {
                return i;
            }

            tokens[i] = token;
        }

        return tokens.Length;
    }

    /// <summary>Streams up to <paramref name="maxTokens"/> tokens into <paramref name="sink"/>; stops at the stop token or when the sink returns false. Returns the count delivered.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Generate<TSink>(int maxTokens, ref TSink sink, int stopToken = -1)
        where TSink : struct, ITokenSink
    {
        if (maxTokens < 0)
        {
            ThrowHelper.OutOfRange(nameof(maxTokens), maxTokens, "maxTokens must be ≥ 0.");
        }

        for (int i = 0; i < maxTokens; i++)
        {
            int token = Next(stopToken);
            if (token == stopToken)
            {
                return i;
            }

            if (!sink.OnToken(token))
            {
                return i + 1;
            }
        }

        return maxTokens;
    }

    /// <summary>
    /// Fills <paramref name="text"/> with generated characters, stopping early at <paramref name="stopToken"/>, or when a
    /// surrogate-pair token does not fit in the last unit (that token is then dropped). Returns the UTF-16 units written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GenerateText(Span<char> text, CharVocabulary vocabulary, int stopToken = -1)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vocabulary.Count != _vocabularySize)
        {
            ThrowHelper.Argument(nameof(vocabulary), "the vocabulary size differs from the model's output size.");
        }

        int written = 0;
        while (written < text.Length)
        {
            int token = Next(stopToken);
            if (token == stopToken)
            {
                break;
            }

            ReadOnlySpan<char> chars = vocabulary.GetText(token);
            if (written + chars.Length > text.Length)
            {
                break;
            }

            chars.CopyTo(text[written..]);
            written += chars.Length;
        }

        return written;
    }

    /// <summary>
    /// Generates up to <paramref name="maxWords"/> tokens and writes the words separated by single spaces into
    /// <paramref name="text"/>, ending early at the stop token (the vocabulary's &lt;stop&gt; unless given) or at a word
    /// that does not fit. A generated &lt;start&gt; is not written (as in <see cref="WordVocabulary.Decode"/>).
    /// Returns the characters written; <paramref name="wordCount"/> receives the words written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GenerateWords(Span<char> text, WordVocabulary vocabulary, int maxWords, out int wordCount, int stopToken = -2)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vocabulary.Count != _vocabularySize)
        {
            ThrowHelper.Argument(nameof(vocabulary), "the vocabulary size differs from the model's output size.");
        }

        if (stopToken == -2)
        {
            stopToken = vocabulary.StopToken;
        }

        int written = 0;
        wordCount = 0;
        for (int i = 0; i < maxWords; i++)
        {
            int token = Next(stopToken);
            if (token == stopToken)
            {
                break;
            }

            if (token == vocabulary.StartToken)
            {
                continue; // like Decode: <start> is never written (it still counts toward maxWords)
            }

            ReadOnlySpan<char> word = vocabulary.GetWord(token);
            int needed = word.Length + (written > 0 ? 1 : 0);
            if (written + needed > text.Length)
            {
                break;
            }

            if (written > 0)
            {
                text[written++] = ' ';
            }

            word.CopyTo(text[written..]);
            written += word.Length;
            wordCount++;
        }

        return written;
    }

    private static void ThrowNotPrimed() =>
        throw new InvalidOperationException("Prime the generator with at least one token before generating: there are no logits yet.");
}
