using System.Reflection;
using System.Runtime.InteropServices;
using RnnEmbedded.Runtime;

namespace RnnEmbedded.Tests.Infrastructure;

/// <summary>
/// Runs a generated model type (known only at run time) through its generic interfaces, without boxing. The only
/// place in the tests that knows which runtime interface declares Step, Run and StepImage: callers choose the entry
/// point from the <c>ModelSpec</c> (token or dense input, bidirectional, caption), never from the generated type.
/// </summary>
internal static class ModelRunner
{
    public static float[][] StepTokens(Type model, int[] tokens) => Invoke<float[][]>(nameof(StepTokensCore), model, new object[] { tokens });

    public static float[][] StepDense(Type model, float[][] inputs) => Invoke<float[][]>(nameof(StepDenseCore), model, new object[] { inputs });

    public static float[][] RunTokens(Type model, int[] tokens) => Invoke<float[][]>(nameof(RunTokensCore), model, new object[] { tokens });

    public static float[][] RunDense(Type model, float[][] inputs) => Invoke<float[][]>(nameof(RunDenseCore), model, new object[] { inputs });

    /// <summary>Caption decoders: StepImage on <paramref name="image"/>, then Step on each token; one output per call.</summary>
    public static float[][] StepImage(Type model, float[] image, int[] tokens) => Invoke<float[][]>(nameof(StepImageCore), model, new object[] { image, tokens });

    /// <summary>
    /// Caption decoders: the static StartImage on <paramref name="image"/> (the image step from the zero state without
    /// its output), then Step on each token; one output per token.
    /// </summary>
    public static float[][] StartImage(Type model, float[] image, int[] tokens) => Invoke<float[][]>(nameof(StartImageCore), model, new object[] { image, tokens });

    /// <summary>
    /// Null when StartImage then Step on <paramref name="tokens"/> gives the outputs of StepImage then Step bit for bit
    /// (after the image step), and the same final state; else where they first differ.
    /// </summary>
    public static string? StartImageDiffers(Type model, float[] image, int[] tokens) =>
        Invoke<string?>(nameof(StartImageDiffersCore), model, new object[] { image, tokens });

    /// <summary>Seq2seq models: Encode on <paramref name="source"/>, then Step on each target token; one output per step.</summary>
    public static float[][] EncodeStep(Type model, int[] source, int[] tokens) => Invoke<float[][]>(nameof(EncodeStepCore), model, new object[] { source, tokens });

    /// <summary>Seq2seq models: the source vocabulary size and tokens.</summary>
    public static (int Size, string[] Tokens) SourceVocabulary(Type model) => Invoke<(int, string[])>(nameof(SourceVocabularyCore), model);

    public static int OutputSize(Type model) => Invoke<int>(nameof(OutputSizeCore), model);

    public static int InputSize(Type model) => Invoke<int>(nameof(InputSizeCore), model);

    public static ModelTask Task(Type model) => Invoke<ModelTask>(nameof(TaskCore), model);

    /// <summary>The vocabulary constants; call only for a model whose spec has a vocabulary.</summary>
    public static (ModelVocabularyKind Kind, string[] Tokens, int Start, int Stop, int Unknown) Vocabulary(Type model) =>
        Invoke<(ModelVocabularyKind, string[], int, int, int)>(nameof(VocabularyCore), model);

    /// <summary>The label names; call only for a classifier.</summary>
    public static string[] Labels(Type model) => Invoke<string[]>(nameof(LabelsCore), model);

    private static T Invoke<T>(string name, Type model, object[]? args = null)
    {
        MethodInfo m = typeof(ModelRunner).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(model);
        try
        {
            return (T)m.Invoke(null, args)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    private static int OutputSizeCore<TModel>()
        where TModel : struct, IRecurrentModel<TModel> => TModel.OutputSize;

    private static int InputSizeCore<TModel>()
        where TModel : struct, IRecurrentModel<TModel> => TModel.InputSize;

    private static ModelTask TaskCore<TModel>()
        where TModel : struct, IRecurrentModel<TModel> => TModel.Task;

    private static string[] LabelsCore<TModel>()
        where TModel : struct, IClassifierModel<TModel>
    {
        var labels = new string[SequenceClassifier.LabelCount<TModel>()];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = SequenceClassifier.GetLabel<TModel>(i).ToString();
        }

        return labels;
    }

    private static (ModelVocabularyKind, string[], int, int, int) VocabularyCore<TModel>()
        where TModel : struct, IVocabularyModel<TModel>
    {
        ReadOnlySpan<int> offsets = TModel.VocabularyOffsets;
        var tokens = new string[Math.Max(0, offsets.Length - 1)];
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = TModel.VocabularyText[offsets[i]..offsets[i + 1]].ToString();
        }

        return (TModel.VocabularyKind, tokens, TModel.StartToken, TModel.StopToken, TModel.UnknownToken);
    }

    private static float[][] StepTokensCore<TModel>(int[] tokens)
        where TModel : struct, ITokenModel<TModel>
    {
        var model = default(TModel);
        var outputs = new float[tokens.Length][];
        for (int t = 0; t < tokens.Length; t++)
        {
            outputs[t] = new float[TModel.OutputSize];
            model.Step(tokens[t], outputs[t]);
        }

        return outputs;
    }

    private static float[][] StepDenseCore<TModel>(float[][] inputs)
        where TModel : struct, IDenseModel<TModel>
    {
        var model = default(TModel);
        var outputs = new float[inputs.Length][];
        for (int t = 0; t < inputs.Length; t++)
        {
            outputs[t] = new float[TModel.OutputSize];
            model.Step(inputs[t], outputs[t]);
        }

        return outputs;
    }

    private static float[][] RunTokensCore<TModel>(int[] tokens)
        where TModel : struct, ITokenSequenceModel<TModel>
    {
        var flat = new float[tokens.Length * TModel.OutputSize];
        TModel.Run(tokens, flat);
        return Split(flat, tokens.Length, TModel.OutputSize);
    }

    private static float[][] RunDenseCore<TModel>(float[][] inputs)
        where TModel : struct, IDenseSequenceModel<TModel>
    {
        float[] flatIn = inputs.SelectMany(x => x).ToArray();
        var flat = new float[inputs.Length * TModel.OutputSize];
        TModel.Run(flatIn, flat);
        return Split(flat, inputs.Length, TModel.OutputSize);
    }

    private static float[][] EncodeStepCore<TModel>(int[] source, int[] tokens)
        where TModel : struct, ISequenceToSequenceModel<TModel>
    {
        var model = default(TModel);
        model.Encode(source);
        var outputs = new float[tokens.Length][];
        for (int t = 0; t < tokens.Length; t++)
        {
            outputs[t] = new float[TModel.OutputSize];
            model.Step(tokens[t], outputs[t]);
        }

        return outputs;
    }

    private static (int, string[]) SourceVocabularyCore<TModel>()
        where TModel : struct, ISequenceToSequenceModel<TModel>
    {
        ReadOnlySpan<char> text = TModel.SourceVocabularyText;
        ReadOnlySpan<int> offsets = TModel.SourceVocabularyOffsets;
        var tokens = new string[offsets.Length - 1];
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = text[offsets[i]..offsets[i + 1]].ToString();
        }

        return (TModel.SourceInputSize, tokens);
    }

    private static float[][] StepImageCore<TModel>(float[] image, int[] tokens)
        where TModel : struct, ICaptionModel<TModel>
    {
        var model = default(TModel);
        var outputs = new float[tokens.Length + 1][];
        outputs[0] = new float[TModel.OutputSize];
        model.StepImage(image, outputs[0]);
        for (int t = 0; t < tokens.Length; t++)
        {
            outputs[t + 1] = new float[TModel.OutputSize];
            model.Step(tokens[t], outputs[t + 1]);
        }

        return outputs;
    }

    private static float[][] StartImageCore<TModel>(float[] image, int[] tokens)
        where TModel : struct, ICaptionModel<TModel>
    {
        TModel.StartImage(image, out TModel model);
        var outputs = new float[tokens.Length][];
        for (int t = 0; t < tokens.Length; t++)
        {
            outputs[t] = new float[TModel.OutputSize];
            model.Step(tokens[t], outputs[t]);
        }

        return outputs;
    }

    private static string? StartImageDiffersCore<TModel>(float[] image, int[] tokens)
        where TModel : struct, ICaptionModel<TModel>
    {
        var stepped = default(TModel);
        var output = new float[TModel.OutputSize];
        stepped.StepImage(image, output);
        TModel.StartImage(image, out TModel started);
        var startedOutput = new float[TModel.OutputSize];
        for (int t = 0; t <= tokens.Length; t++)
        {
            ReadOnlySpan<byte> a = MemoryMarshal.AsBytes(new ReadOnlySpan<TModel>(in stepped));
            ReadOnlySpan<byte> b = MemoryMarshal.AsBytes(new ReadOnlySpan<TModel>(in started));
            if (!a.SequenceEqual(b))
            {
                return $"the state after StartImage and {t} tokens differs from StepImage's in its bits";
            }

            if (t == tokens.Length)
            {
                break;
            }

            stepped.Step(tokens[t], output);
            started.Step(tokens[t], startedOutput);
            for (int k = 0; k < output.Length; k++)
            {
                if (BitConverter.SingleToInt32Bits(output[k]) != BitConverter.SingleToInt32Bits(startedOutput[k]))
                {
                    return $"token {t} output {k}: {startedOutput[k]:R} after StartImage, {output[k]:R} after StepImage";
                }
            }
        }

        return null;
    }

    private static float[][] Split(float[] flat, int steps, int width)
    {
        var r = new float[steps][];
        for (int t = 0; t < steps; t++)
        {
            r[t] = flat.AsSpan(t * width, width).ToArray();
        }

        return r;
    }
}

/// <summary>
/// The batched Step against stepping each model alone: n models, model b fed the sequence shifted by b, stepped
/// together and alone side by side; outputs and the whole state (every float of the struct) must agree within
/// <see cref="RelativeTolerance"/> of max(1, |value|) at every step.
/// </summary>
internal static class BatchRunner
{
    /// <summary>
    /// The batched products sum each row in a different order from the single ones (one chain per model rather
    /// than the single kernel's two or four), so bits may differ by rounding.
    /// </summary>
    public const float RelativeTolerance = 1e-6f;

    /// <param name="exact">Require equal bits (the bfloat16/int8/int8-dynamic batched products equal the single ones bit for bit).</param>
    public static void Tokens(Type model, int[] tokens, int n, bool exact = false) =>
        Invoke(nameof(TokensCore), model, new object[] { tokens, n, exact });

    /// <param name="exact">Require equal bits (the bfloat16/int8/int8-dynamic batched products equal the single ones bit for bit).</param>
    public static void Dense(Type model, float[][] inputs, int n, bool exact = false) =>
        Invoke(nameof(DenseCore), model, new object[] { inputs, n, exact });

    private static void Invoke(string name, Type model, object[] args)
    {
        MethodInfo m = typeof(BatchRunner).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(model);
        try
        {
            m.Invoke(null, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
        }
    }

    private static void TokensCore<TModel>(int[] tokens, int n, bool exact)
        where TModel : unmanaged, ITokenModel<TModel>
    {
        int o = TModel.OutputSize;
        var together = new TModel[n];
        var alone = new TModel[n];
        var batchTokens = new int[n];
        var outTogether = new float[n * o];
        var outAlone = new float[n * o];
        for (int t = 0; t < tokens.Length; t++)
        {
            for (int b = 0; b < n; b++)
            {
                batchTokens[b] = tokens[(t + b) % tokens.Length];
                alone[b].Step(batchTokens[b], outAlone.AsSpan(b * o, o));
            }

            TModel.Step(together, batchTokens, outTogether);
            Compare(outAlone, outTogether, $"n {n} step {t} output", exact);
            Compare(States(alone), States(together), $"n {n} step {t} state", exact);
        }
    }

    private static void DenseCore<TModel>(float[][] inputs, int n, bool exact)
        where TModel : unmanaged, IDenseModel<TModel>
    {
        int i = TModel.InputSize;
        int o = TModel.OutputSize;
        var together = new TModel[n];
        var alone = new TModel[n];
        var batchInputs = new float[n * i];
        var outTogether = new float[n * o];
        var outAlone = new float[n * o];
        for (int t = 0; t < inputs.Length; t++)
        {
            for (int b = 0; b < n; b++)
            {
                inputs[(t + b) % inputs.Length].CopyTo(batchInputs.AsSpan(b * i, i));
                alone[b].Step(batchInputs.AsSpan(b * i, i), outAlone.AsSpan(b * o, o));
            }

            TModel.Step(together, batchInputs, outTogether);
            Compare(outAlone, outTogether, $"n {n} step {t} output", exact);
            Compare(States(alone), States(together), $"n {n} step {t} state", exact);
        }
    }

    // A generated struct's only fields are float inline arrays: its bytes are the state.
    private static float[] States<TModel>(TModel[] models)
        where TModel : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<TModel, float>(models).ToArray();

    private static void Compare(float[] expected, float[] actual, string what, bool exact)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++)
        {
            if (exact)
            {
                Assert.True(BitConverter.SingleToInt32Bits(expected[k]) == BitConverter.SingleToInt32Bits(actual[k]),
                    $"{what} {k}: alone {expected[k]:R}, together {actual[k]:R} (bits differ)");
                continue;
            }

            float bound = RelativeTolerance * MathF.Max(1f, MathF.Abs(expected[k]));
            Assert.True(MathF.Abs(expected[k] - actual[k]) <= bound,
                $"{what} {k}: alone {expected[k]:R}, together {actual[k]:R}");
        }
    }
}
