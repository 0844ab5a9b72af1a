using System;
using System.Collections.Generic;

namespace RnnEmbedded.Compiler.Model;

/// <summary>Elementwise activation of a dense layer (input layers and head layers; docs/model-format.md).</summary>
public enum DenseActivation
{
    /// <summary>y = x (nn.Identity, or no activation module).</summary>
    Identity,

    /// <summary>max(x, 0) (nn.ReLU).</summary>
    Relu,

    /// <summary>tanh (nn.Tanh).</summary>
    Tanh,

    /// <summary>1 / (1 + e^−x) (nn.Sigmoid).</summary>
    Sigmoid,
}

/// <summary>The function applied to the whole output vector of a step, after the head (or the last layer).</summary>
public enum OutputFunction
{
    /// <summary>The output is the head's values (logits) as they are.</summary>
    None,

    /// <summary>Softmax over the output vector (subtract the max, exponentiate, normalize).</summary>
    Softmax,

    /// <summary>Log-softmax: x − max − log Σ e^(x − max).</summary>
    LogSoftmax,

    /// <summary>Elementwise logistic sigmoid (independent binary outputs).</summary>
    Sigmoid,
}

public sealed partial class ModelSpec
{
    /// <summary>
    /// Dense layers between the model's dense input and recurrent layer 0, in order (dense input only):
    /// <c>InputLayers[0].InputSize == InputSize</c>, each layer's output feeds the next, and the last one's
    /// output size is layer 0's input size. Empty when the features go straight to layer 0.
    /// </summary>
    public IReadOnlyList<DenseSpec> InputLayers { get; init; } = Array.Empty<DenseSpec>();

    /// <summary>
    /// The head's hidden layers: dense layers between the last recurrent layer and <see cref="Head"/>, in order.
    /// The head MLP is <c>HeadLayers</c> followed by <see cref="Head"/>; when this list is not empty,
    /// <see cref="Head"/> is not null. <c>HeadLayers[0].InputSize</c> is the last recurrent layer's output size.
    /// </summary>
    public IReadOnlyList<DenseSpec> HeadLayers { get; init; } = Array.Empty<DenseSpec>();

    /// <summary>Applied to the step's output vector after the head (softmax, log-softmax, sigmoid or none).</summary>
    public OutputFunction Output { get; init; } = OutputFunction.None;

    /// <summary>True when the model has input layers, head hidden layers, a head activation or an output function.</summary>
    public bool HasLayerStacks =>
        InputLayers.Count > 0 || HeadLayers.Count > 0 || Output != OutputFunction.None
        || (Head is not null && Head.Activation != DenseActivation.Identity);

    /// <summary>The head MLP in order: <see cref="HeadLayers"/> then <see cref="Head"/> (empty without a head).</summary>
    public IReadOnlyList<DenseSpec> HeadStack
    {
        get
        {
            var stack = new List<DenseSpec>(HeadLayers.Count + 1);
            stack.AddRange(HeadLayers);
            if (Head is not null)
            {
                stack.Add(Head);
            }

            return stack;
        }
    }
}
