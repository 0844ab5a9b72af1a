namespace RnnEmbedded.Compiler.Emit;

public sealed partial class CellPlan
{
    /// <summary>
    /// A caption model's <c>StartImage</c> (the image step from the zero state) may skip this layer's recurrent
    /// products: with h = 0 they add only signed zeros to the gate buffers, which leaves every gate's bits as they are
    /// when no bias entry is −0 and every (stored) W_hh value is finite (<see cref="ModelPlanner"/>, "StartImage").
    /// </summary>
    public bool ZeroStateSkipsRecurrent { get; init; }
}
