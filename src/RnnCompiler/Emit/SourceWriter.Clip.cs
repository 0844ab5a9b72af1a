namespace RnnEmbedded.Compiler.Emit;

public static partial class SourceWriter
{
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
