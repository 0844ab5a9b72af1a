using System.Collections.Generic;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Emit;

/// <summary>Layer stacks in the plan: input layers, the head's hidden layers and the output function.</summary>
public sealed partial class ModelPlan
{
    /// <summary>Dense layers between the dense input and layer 0, in order (empty for most models).</summary>
    public IReadOnlyList<DenseLayerPlan> InputLayers { get; init; } = System.Array.Empty<DenseLayerPlan>();

    /// <summary>The head's hidden layers, in order, before <see cref="Head"/> (empty for a single linear head).</summary>
    public IReadOnlyList<DenseLayerPlan> HeadLayers { get; init; } = System.Array.Empty<DenseLayerPlan>();

    /// <summary>Applied to the output vector after the head.</summary>
    public OutputFunction OutputFunction { get; init; } = OutputFunction.None;

    /// <summary>
    /// The head is more than one product and a copy (hidden layers, an activation or an output function): the
    /// batched Step then runs <c>Head</c> per model instead of one batched product.
    /// </summary>
    public bool HeadIsStack => HeadLayers.Count > 0 || Head.ActivationKernel is not null || OutputFunction != OutputFunction.None;
}

public sealed partial class HeadPlan
{
    /// <summary>The output layer's activation kernel (e.g. <c>Activations.Tanh</c>), or null for identity.</summary>
    public string? ActivationKernel { get; init; }
}

/// <summary>One dense layer y = act(W x + b): weights <c>{Prefix}_W</c> (packed) and <c>{Prefix}_b</c> (padded).</summary>
public sealed class DenseLayerPlan
{
    /// <summary>Weight name prefix, e.g. <c>In0</c> or <c>HeadLayer1</c>.</summary>
    public required string Prefix { get; init; }

    /// <summary>One line for comments, e.g. <c>input layer 0: relu(W x + b), (16, 8)</c>.</summary>
    public required string Description { get; init; }

    public required int InputSize { get; init; }

    public required int OutputSize { get; init; }

    /// <summary>The output buffer's length, padded for the kernel.</summary>
    public required int PaddedOutputSize { get; init; }

    /// <summary>The activation kernel (e.g. <c>Activations.Relu</c>), or null for identity.</summary>
    public required string? ActivationKernel { get; init; }
}
