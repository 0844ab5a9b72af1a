namespace RnnEmbedded.Compiler.Emit;

/// <summary>
/// The batched Step of a model whose state is one layer's h and nothing else (a single GRU or plain RNN layer): the
/// models' span is then already the (n, H) matrix of their states, so the batched layer reads W_hh's input from it
/// (MemoryMarshal.Cast) and its kernels update it in place — no gather of h into a buffer before the products and no
/// copy back after the cell; the head reads the same span. The values and kernels are the same, so are the bits.
/// </summary>
public static partial class SourceWriter
{
    /// <summary>The struct's instance fields are exactly <c>_h0</c>: one layer, no cell state c, not a nested encoder.</summary>
    private static bool StateIsHiddenMatrix(ModelPlan plan) =>
        !plan.Nested && plan.Surface.State && plan.State.Count == 1 && plan.State[0].CellSize == 0;

    /// <summary>StepLanes for <see cref="StateIsHiddenMatrix"/>: the layer in place, then the head on the models' states.</summary>
    private static void WriteAliasedLanes(IndentedWriter w, ModelPlan plan, CellPlan cell, string input)
    {
        string sz = Int(plan.State[0].HiddenSize);
        w.Line($"{cell.Method}Batch(models, {input}); // updates each model's h in place");
        w.Line($"ReadOnlySpan<float> h0s = MemoryMarshal.Cast<{plan.TypeName}, float>(models); // (n, {sz}) the models' new h");
        w.Line("HeadBatch(h0s, n, outputs);");
    }

    /// <summary>After a model's kernel: its new h into hs, unless hs is the models themselves.</summary>
    private static void WriteCopyBack(IndentedWriter w, bool aliased, string layer, string size)
    {
        if (!aliased)
        {
            w.Line($"((ReadOnlySpan<float>)models[b]._h{layer}).CopyTo(hs.Slice(b * {size}, {size}));");
        }
    }
}
