using System.Collections.Generic;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Emit;

/// <summary>Writing layer stacks: input layers, the head MLP and the output function (docs/model-format.md).</summary>
public static partial class SourceWriter
{
    /// <summary>Layer 0's input width on the vector route (the last input layer's output).</summary>
    private static int Layer0Width(ModelPlan plan) => plan.InputLayers[plan.InputLayers.Count - 1].OutputSize;

    /// <summary>Step: with input layers, writes x = the input through them and returns "x"; else the input as is.</summary>
    private static string DenseLayer0Input(IndentedWriter w, ModelPlan plan, string input)
    {
        if (plan.InputLayers.Count == 0)
        {
            return input;
        }

        string f = Int(Layer0Width(plan));
        w.Line($"Span<float> x = stackalloc float[{f}]; // ({f},) layer 0's input: the input through the input layers");
        w.Line($"InputLayers({input}, x);");
        return "x";
    }

    /// <summary>Run without state (bidirectional): each layer-0 call recomputes the input layers into x0.</summary>
    private static string RunDenseLayer0Input(IndentedWriter w, ModelPlan plan, string step)
    {
        if (plan.InputLayers.Count == 0 || plan.Surface.State)
        {
            return step;
        }

        string f = Int(Layer0Width(plan));
        w.Line($"Span<float> x0 = stackalloc float[{f}]; // ({f},) layer 0's input at step t");
        return $"InputLayers({step}, x0)";
    }

    /// <summary>Batched Step: each model's input through the input layers into xs (n, width); returns layer 0's argument.</summary>
    private static string BatchDenseInput(IndentedWriter w, ModelPlan plan)
    {
        if (plan.InputLayers.Count == 0)
        {
            return "inputs";
        }

        string i = Int(plan.InputSize);
        string f = Int(Layer0Width(plan));
        w.Line($"Span<float> xs = stackalloc float[Lanes * {f}]; // (n, {f}) each model's input through the input layers");
        w.Open("for (int b = 0; b < n; b++)");
        w.Line($"InputLayers(inputs.Slice(b * {i}, {i}), xs.Slice(b * {f}, {f}));");
        w.Close();
        w.Line();
        return $"xs.Slice(0, n * {f})";
    }

    /// <summary><c>InputLayers(input, x)</c>: x = the input through every input layer; returns x.</summary>
    private static void WriteInputLayers(IndentedWriter w, ModelPlan plan)
    {
        if (plan.InputLayers.Count == 0)
        {
            return;
        }

        string f = Int(Layer0Width(plan));
        w.Line();
        w.Line($"/// <summary>x ({f},) = the input through every input layer; returns x.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        w.Open("private static ReadOnlySpan<float> InputLayers(ReadOnlySpan<float> input, Span<float> x)");
        string previous = WriteDenseLayers(w, plan.InputLayers, "input", "a");
        w.Line($"{previous}.CopyTo(x);");
        w.Line("return x;");
        w.Close();
    }

    /// <summary>
    /// Writes each layer into its own padded buffer a0, a1, ... and returns the expression for the last output.
    /// </summary>
    private static string WriteDenseLayers(IndentedWriter w, IReadOnlyList<DenseLayerPlan> layers, string input, string buffer)
    {
        string x = input;
        for (int k = 0; k < layers.Count; k++)
        {
            DenseLayerPlan d = layers[k];
            string a = buffer + Int(k);
            string o = Int(d.OutputSize);
            w.Line($"// {d.Description}");
            w.Line($"Span<float> {a} = stackalloc float[{Int(d.PaddedOutputSize)}]; // ({o},) padded");
            w.Line($"{d.Prefix}_b.CopyTo({a}); // {a} = b");
            w.Line($"PackedGemv.MultiplyAdd({d.Prefix}_W, {x}, {a}, s_width); // {a} += W x");
            if (d.ActivationKernel is not null)
            {
                w.Line($"{d.ActivationKernel}({a}.Slice(0, {o}), s_width);");
            }

            x = $"{a}.Slice(0, {o})";
        }

        return x;
    }

    /// <summary>The head as an MLP: hidden layers, the output layer and its activation, then the output function.</summary>
    private static void WriteHeadStack(IndentedWriter w, ModelPlan plan)
    {
        HeadPlan head = plan.Head;
        w.Line();
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        w.Open("private static void Head(ReadOnlySpan<float> x, Span<float> output)");
        int firstIn = plan.HeadLayers.Count > 0 ? plan.HeadLayers[0].InputSize : head.InputSize;
        string o = Int(head.OutputSize);
        string y;
        if (head.Present)
        {
            string hidden = WriteDenseLayers(w, plan.HeadLayers, $"x.Slice(0, {Int(firstIn)})", "a");
            w.Line($"Span<float> y = stackalloc float[{Int(head.PaddedOutputSize)}]; // ({o},) output layer, padded");
            w.Line("Head_b.CopyTo(y); // y = b");
            w.Line($"PackedGemv.MultiplyAdd(Head_W, {hidden}, y, s_width); // y += W x");
            if (head.ActivationKernel is not null)
            {
                w.Line($"{head.ActivationKernel}(y.Slice(0, {o}), s_width);");
            }

            y = $"y.Slice(0, {o})";
        }
        else
        {
            y = $"x.Slice(0, {o})"; // no head: the last layer's output
        }

        string output = $"output.Slice(0, {o})";
        switch (plan.OutputFunction)
        {
            case OutputFunction.Softmax:
                w.Line($"RnnRuntime.Softmax.Apply({y}, {output}); // softmax");
                break;
            case OutputFunction.LogSoftmax:
                w.Line($"RnnRuntime.Softmax.LogSoftmax({y}, {output}); // log-softmax");
                break;
            case OutputFunction.Sigmoid:
                w.Line($"Activations.Sigmoid({y}, {output}, s_width); // elementwise sigmoid");
                break;
            default:
                w.Line($"{y}.CopyTo(output);");
                break;
        }

        w.Close();
    }

    /// <summary>Batched Step with an MLP head: the head per model (its layers are small next to the recurrent ones).</summary>
    private static void WriteBatchHeadStack(IndentedWriter w, ModelPlan plan)
    {
        string width = Int(plan.State[plan.State.Count - 1].HiddenSize);
        string o = Int(plan.Head.OutputSize);
        w.Line();
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        w.Open("private static void HeadBatch(ReadOnlySpan<float> xs, int n, Span<float> outputs)");
        w.Open("for (int b = 0; b < n; b++)");
        w.Line($"Head(xs.Slice(b * {width}, {width}), outputs.Slice(b * {o}, {o}));");
        w.Close();
        w.Close();
    }

    /// <summary>
    /// A comment line, or several when it is longer than <see cref="MaxLineLength"/>: broken before " → " (a long
    /// layer chain), each continuation indented by two spaces.
    /// </summary>
    private static void WriteWrapped(IndentedWriter w, string prefix, string text)
    {
        const string Arrow = " → ";
        int limit = MaxLineLength - w.Indent * 4;
        string line = prefix;
        int start = 0;
        while (start < text.Length)
        {
            int next = text.IndexOf(Arrow, start + 1, System.StringComparison.Ordinal);
            string piece = next < 0 ? text.Substring(start) : text.Substring(start, next - start);
            if (line.Length > prefix.Length && line.Length + piece.Length > limit)
            {
                w.Line(line);
                line = prefix + "  " + piece.TrimStart();
            }
            else
            {
                line += piece;
            }

            start = next < 0 ? text.Length : next;
        }

        w.Line(line);
    }
}
