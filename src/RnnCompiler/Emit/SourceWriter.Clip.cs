using System.Globalization;

namespace RnnEmbedded.Compiler.Emit;

public static partial class SourceWriter
{
    // One GateClip per clipped layer and direction, named as its kernel calls it (ModelPlanner.Clip.cs).
    private static void WriteClipFields(IndentedWriter w, ModelPlan plan)
    {
        foreach (CellPlan cell in plan.Cells)
        {
            if (cell.Clip is float bound)
            {
                string b = bound.ToString("R", CultureInfo.InvariantCulture);
                w.Line($"private static readonly GateClip {cell.Prefix}_Clip = new GateClip({b}f); // layer {Int(cell.Layer)}: gate inputs clipped to [-{b}, {b}]");
            }
        }
    }

    // True when a cell of the model (or of its seq2seq encoder) clips its gate pre-activations (ModelPlanner.Clip.cs).
    private static bool UsesClip(ModelPlan plan)
    {
        foreach (ModelPlan? p in new[] { plan, plan.Encoder })
        {
            if (p is null)
            {
                continue;
            }

            foreach (CellPlan cell in p.Cells)
            {
                if (cell.Clip is not null)
                {
                    return true;
                }
            }
        }

        return false;
    }
}
