namespace RnnEmbedded.Compiler.Emit;

/// <summary>
/// A caption model's <c>StartImage(features, out state)</c> (ICaptionModel): the image step from the zero state
/// without its head, each layer through its <c>…FromZero</c> form, which skips the recurrent products that h = 0 makes
/// exact zeros (<see cref="CellPlan.ZeroStateSkipsRecurrent"/>; docs/decoding.md, "Caption decoding").
/// </summary>
public static partial class SourceWriter
{
    private const string SkippedProduct = "// W_hh h: skipped, h = 0 (the sum would add only ±0 and change no bit)";

    private static void WriteStartImage(IndentedWriter w, ModelPlan plan)
    {
        if (!plan.Surface.Caption)
        {
            return;
        }

        ImagePlan img = plan.Image!;
        string f = Int(img.FeatureSize);
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// The state after StepImage from the zero state, without the output: the recurrent products of h = 0 and");
        w.Line("/// the head are not computed; the state equals <c>default</c> stepped by StepImage bit for bit.");
        w.Line("/// </summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        w.Open($"public static void StartImage(ReadOnlySpan<float> features, out {plan.TypeName} state)");
        w.Line($"if (features.Length != {f}) ModelGuard.ThrowInput(nameof(features), features.Length, {f});");
        w.Line("state = default;");
        w.Line($"Span<float> x = stackalloc float[{Int(img.PaddedSize)}]; // ({img.ProjectedSize},) projected image, padded");
        w.Line("Image_b.CopyTo(x); // x = b");
        w.Line("PackedGemv.MultiplyAdd(Image_W, features, x, s_width); // x += W features");
        for (int l = 0; l < plan.State.Count; l++)
        {
            string x = l == 0 ? $"x.Slice(0, {Int(img.ProjectedSize)})" : $"state._h{Int(l - 1)}";
            string c = plan.State[l].CellSize > 0 ? $", state._c{Int(l)}" : "";
            w.Line($"{plan.Cells[plan.Layers[l].Cells[0]].Method}FromZero({x}, state._h{Int(l)}{c});");
        }

        w.Close();
    }

    /// <summary>The <c>…FromZero</c> form of every layer's cell, for <see cref="WriteStartImage"/>.</summary>
    private static void WriteZeroStateCells(IndentedWriter w, ModelPlan plan)
    {
        if (!plan.Surface.Caption)
        {
            return;
        }

        for (int l = 0; l < plan.State.Count; l++)
        {
            WriteCell(w, plan.Cells[plan.Layers[l].Cells[0]], token: false, fromZero: true);
        }
    }

    private static string ZeroStateComment(CellPlan cell) =>
        $"// Layer {cell.Layer} from the zero state (StartImage): {cell.Description}";
}
