namespace Bench;

/// <summary>Where the toy caption model's weights are (the --caption bench prints their alignment).</summary>
internal partial struct ToyCaption
{
    internal static nint WeightsAddress() => s_weights;
}
