using System;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Reference;

/// <summary>Gate pre-activation clipping (<see cref="LayerSpec.Clip"/>; docs/model-format.md, "Clipping").</summary>
public sealed partial class ReferenceEngine
{
    /// <summary>An activation's input bounded to [−Clip, Clip] when the layer clips (ONNX <c>clip</c>), else as it is.</summary>
    private static float Clip(LayerSpec layer, float preactivation) =>
        layer.Clip is float bound ? Math.Max(-bound, Math.Min(bound, preactivation)) : preactivation;
}
