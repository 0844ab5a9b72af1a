using System;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Reference;

/// <summary>Layer stacks: input layers, the head MLP and the output function (docs/model-format.md).</summary>
public sealed partial class ReferenceEngine
{
    /// <summary>Layer 0's input for a dense feature vector: the features through every input layer (a copy).</summary>
    public static float[] ApplyInputLayers(ModelSpec spec, float[] features)
    {
        if (spec is null)
        {
            throw new ArgumentNullException(nameof(spec));
        }

        float[] x = (float[])features.Clone(); // (InputSize,)
        foreach (DenseSpec layer in spec.InputLayers)
        {
            x = Dense(layer, x); // (layer.OutputSize,)
        }

        return x;
    }

    /// <summary>The model output for the last recurrent layer's output: head layers, head, then the output function.</summary>
    public static float[] ApplyHead(ModelSpec spec, float[] last)
    {
        if (spec is null)
        {
            throw new ArgumentNullException(nameof(spec));
        }

        float[] y = last;
        foreach (DenseSpec layer in spec.HeadLayers)
        {
            y = Dense(layer, y);
        }

        if (spec.Head is not null)
        {
            y = Dense(spec.Head, y); // (OutputSize,)
        }

        if (spec.Output == OutputFunction.None)
        {
            return y;
        }

        var result = new float[y.Length];
        switch (spec.Output)
        {
            case OutputFunction.Softmax:
                Softmax(y, result);
                break;
            case OutputFunction.LogSoftmax:
                LogSoftmax(y, result);
                break;
            default:
                for (int i = 0; i < y.Length; i++)
                {
                    result[i] = Sigmoid(y[i]);
                }

                break;
        }

        return result;
    }

    /// <summary>A dense layer's elementwise activation, in place.</summary>
    private static float[] Activate(DenseActivation activation, float[] values)
    {
        if (activation == DenseActivation.Identity)
        {
            return values;
        }

        for (int i = 0; i < values.Length; i++)
        {
            float x = values[i];
            values[i] = activation switch
            {
                DenseActivation.Relu => Relu(x),
                DenseActivation.Tanh => Tanh(x),
                _ => Sigmoid(x),
            };
        }

        return values;
    }
}
