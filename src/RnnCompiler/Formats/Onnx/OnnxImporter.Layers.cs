using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Formats.Onnx;

/// <summary>
/// Dense layers and activations of an ONNX graph mapped onto the model's layer stacks (docs/model-format.md,
/// "Layer stacks" and "ONNX import"): <c>MatMul</c> [+ <c>Add</c>] or <c>Gemm</c>, each optionally followed by one
/// <c>Relu</c>, <c>Tanh</c> or <c>Sigmoid</c>, before the recurrent layers (input layers; dense input only) or after
/// them (the head MLP), and a final <c>Softmax</c>, <c>LogSoftmax</c> or <c>Sigmoid</c> as the output function.
/// </summary>
public static partial class OnnxImporter
{
    /// <summary>One dense layer found in the graph: y = act(W x + b).</summary>
    private sealed class DenseLayer
    {
        public required OnnxNode Node { get; init; }

        /// <summary>True for an input layer (before the first recurrent node), false for a head layer.</summary>
        public required bool BeforeRecurrent { get; init; }

        /// <summary>The activations' stage this layer produces.</summary>
        public required int Stage { get; init; }

        public required int Outputs { get; init; }

        public required int Inputs { get; init; }

        /// <summary>(Outputs, Inputs) row-major, as nn.Linear stores it.</summary>
        public required float[] Weight { get; init; }

        public float[]? Bias { get; set; }

        public DenseActivation Activation { get; set; }

        public OnnxNode? ActivationNode { get; set; }
    }

    private sealed partial class Importer
    {
        private readonly List<DenseLayer> _dense = new();
        private OutputFunction _output;
        private OnnxNode? _outputNode;

        private const string LayerStacksDoc = "docs/model-format.md, \"Layer stacks\"";

        private DenseLayer? LastDenseAt(int stage) => _dense.Count > 0 && _dense[_dense.Count - 1].Stage == stage ? _dense[_dense.Count - 1] : null;

        private bool HasHeadLayers => _dense.Any(d => !d.BeforeRecurrent);

        private void CheckNotAfterOutput(OnnxNode node)
        {
            if (_outputNode is not null)
            {
                throw NodeError(node, $"follows the output function ({_outputNode.Describe()}); Softmax, LogSoftmax or a final Sigmoid must end the model");
            }
        }

        private void MatMul(OnnxNode node)
        {
            ActValue x = Act(node, 0);
            ConstValue w = Const(node, 1, "weights");
            StartDense(node, x, w, transposed: false);
        }

        private void Gemm(OnnxNode node)
        {
            ActValue x = Act(node, 0);
            ConstValue b = Const(node, 1, "B");
            float alpha = node.Attribute("alpha")?.F ?? 1f;
            float beta = node.Attribute("beta")?.F ?? 1f;
            long transA = node.Attribute("transA")?.I ?? 0;
            long transB = node.Attribute("transB")?.I ?? 0;
            if (alpha != 1f || transA != 0 || (HasInput(node, 2) && beta != 1f))
            {
                throw NodeError(node, "Gemm is supported with alpha = 1, beta = 1 and transA = 0 (a Linear layer)");
            }

            if (x.Axes.Length != 2)
            {
                throw NodeError(node, "Gemm reads 2-D activations (sequence, features)");
            }

            DenseLayer layer = StartDense(node, x, b, transposed: transB != 0);
            if (HasInput(node, 2))
            {
                ConstValue c = Const(node, 2, "C");
                float[] bias = FloatsOf(node, c);
                if (bias.Length == 1 && layer.Outputs != 1)
                {
                    bias = Enumerable.Repeat(bias[0], layer.Outputs).ToArray();
                }

                if (bias.Length != layer.Outputs || c.Shape.Length > 2)
                {
                    throw Error(c.Name, $"Gemm's bias C has shape [{string.Join(", ", c.Shape)}], expected [{layer.Outputs}]");
                }

                layer.Bias = bias;
            }
        }

        /// <summary>
        /// A dense layer reading <paramref name="x"/> with the constant weights <paramref name="w"/>: (In, O) for
        /// MatMul and Gemm with transB = 0, (O, In) when <paramref name="transposed"/> (Gemm transB = 1, nn.Linear's layout).
        /// </summary>
        private DenseLayer StartDense(OnnxNode node, ActValue x, ConstValue w, bool transposed)
        {
            if (x.IsTokens)
            {
                throw NodeError(node, "multiplies the token ids; token models need an embedding lookup (Gather) first");
            }

            CheckNotAfterOutput(node);
            if (x.Stage != _stage)
            {
                throw NodeError(node, "a dense layer must read the previous layer's output: the layers must form one chain");
            }

            bool before = _layers.Count == 0;
            if (before && !_denseInput)
            {
                throw NodeError(node, $"a dense layer between the embedding and the recurrent layers: input layers exist only for dense input ({LayerStacksDoc}); apply the layer to the embedding table and store the result as the embedding");
            }

            Axis last = x.Axes[x.Axes.Length - 1];
            long inputs = w.Shape.Length == 2 ? w.Shape[transposed ? 1 : 0] : -1;
            if (Kind(last) != AxisKind.Feature || w.Shape.Length != 2 || inputs != last.Size || w.Shape.Any(d => d <= 0))
            {
                throw NodeError(node, $"the weights' shape [{string.Join(", ", w.Shape)}] does not fit the activations' last axis ({Describe(last)})");
            }

            if (x.Axes.Any(a => Kind(a) == AxisKind.Direction && a.Size != 1))
            {
                throw NodeError(node, "reads a bidirectional layer's output with its direction axis apart; the features must be [h_forward, h_backward] (Transpose and Reshape as torch.onnx.export writes them)");
            }

            float[] weight = transposed ? FloatsOf(node, w) : TransposeConst(node, w, new long[] { 1, 0 }).Floats!;
            int outputs = (int)w.Shape[transposed ? 0 : 1];
            _stage++;
            var layer = new DenseLayer
            {
                Node = node,
                BeforeRecurrent = before,
                Stage = _stage,
                Outputs = outputs,
                Inputs = (int)inputs,
                Weight = weight,
            };
            _dense.Add(layer);
            var axes = x.Axes.ToArray();
            axes[axes.Length - 1] = new Axis(AxisKind.Feature, outputs);
            Set(node, 0, new ActValue { Axes = axes, Stage = _stage });
            return layer;
        }

        private void Add(OnnxNode node)
        {
            Value left = Input(node, 0);
            Value right = Input(node, 1);
            (ActValue? x, ConstValue? c) = (left, right) switch
            {
                (ActValue a, ConstValue k) => (a, k),
                (ConstValue k, ActValue a) => (a, k),
                _ => (null, null),
            };
            if (x is null || c is null)
            {
                throw NodeError(node, "Add is supported as a dense layer's bias (activations + a constant vector); adding two activations (residual connections) or two constants is not");
            }

            DenseLayer? layer = x.Stage == _stage ? LastDenseAt(_stage) : null;
            if (layer is null || layer.Bias is not null || layer.ActivationNode is not null)
            {
                throw NodeError(node, "Add of a constant is supported only as a dense layer's bias, right after its MatMul");
            }

            if (c.Shape.Length == 0 || c.Shape[c.Shape.Length - 1] != layer.Outputs || c.Shape.Take(c.Shape.Length - 1).Any(d => d != 1))
            {
                throw Error(c.Name, $"the bias of {layer.Node.Describe()} has shape [{string.Join(", ", c.Shape)}], expected [{layer.Outputs}]");
            }

            layer.Bias = FloatsOf(node, c);
            Set(node, 0, x);
        }

        /// <summary>Relu, Tanh, Sigmoid: a dense layer's activation, or (Sigmoid right after the recurrent layers) the output function.</summary>
        private void Activation(OnnxNode node)
        {
            ActValue x = Act(node, 0);
            CheckNotAfterOutput(node);
            DenseActivation kind = node.OpType switch
            {
                "Relu" => DenseActivation.Relu,
                "Tanh" => DenseActivation.Tanh,
                _ => DenseActivation.Sigmoid,
            };
            DenseLayer? layer = x.Stage == _stage ? LastDenseAt(_stage) : null;
            if (layer is not null && layer.ActivationNode is null)
            {
                layer.Activation = kind;
                layer.ActivationNode = node;
                Set(node, 0, x);
                return;
            }

            if (layer is null && x.Stage == _stage && _layers.Count > 0 && kind == DenseActivation.Sigmoid)
            {
                SetOutput(node, x, OutputFunction.Sigmoid);
                return;
            }

            throw NodeError(node, layer is not null
                ? $"a second activation on the output of {layer.Node.Describe()} (already {layer.ActivationNode!.Describe()}); a dense layer has one activation ({LayerStacksDoc})"
                : x.Stage != _stage ? "must act on the previous layer's output: the layers must form one chain"
                : _layers.Count == 0 ? $"an activation on the model input; activations may only follow a dense layer ({LayerStacksDoc})"
                : $"an activation ({node.OpType}) on the recurrent layers' output is not supported: the model spec applies activations only after a dense layer ({LayerStacksDoc}); only Sigmoid, Softmax or LogSoftmax may directly follow the recurrent layers, as the output function");
        }

        /// <summary>Softmax, LogSoftmax: the output function, over the feature axis of the last layer's output.</summary>
        private void SoftmaxOutput(OnnxNode node)
        {
            ActValue x = Act(node, 0);
            CheckNotAfterOutput(node);
            if (x.Stage != _stage || _layers.Count == 0)
            {
                throw NodeError(node, $"{node.OpType} is supported only as the output function, on the model's last output (after the recurrent layers and the head)");
            }

            int rank = x.Axes.Length;
            long axisAttr = node.Attribute("axis")?.I ?? (_opset < 13 ? 1 : -1);
            int axis = Normalize(node, axisAttr, rank, this);
            int feature = Array.FindIndex(x.Axes, a => Kind(a) == AxisKind.Feature);
            // Before opset 13 the input is flattened to 2-D at 'axis' and the function runs over all axes from 'axis'
            // on; from 13 it runs over 'axis' alone. Either way the axes it covers must be the features (and size-1 axes).
            bool fits = _opset < 13
                ? feature >= axis && Enumerable.Range(axis, rank - axis).All(i => i == feature || IsUnit(x.Axes[i]))
                : axis == feature;
            if (feature < 0 || !fits || x.Axes.Any(a => Kind(a) == AxisKind.Direction && a.Size != 1))
            {
                throw NodeError(node, $"{node.OpType} with axis {axisAttr} (opset {_opset}) runs over the axes [{string.Join(", ", x.Axes.Skip(axis).Select(Describe))}]; the output function acts on the features of one step only");
            }

            SetOutput(node, x, node.OpType == "Softmax" ? OutputFunction.Softmax : OutputFunction.LogSoftmax);
        }

        private void SetOutput(OnnxNode node, ActValue x, OutputFunction output)
        {
            _output = output;
            _outputNode = node;
            _stage++;
            Set(node, 0, new ActValue { Axes = x.Axes, Stage = _stage });
        }

        /// <summary>The input layers' tensors and <c>rnn.input.layers</c>, named as <see cref="ModelWriter"/> names them.</summary>
        private void AddInputLayers(List<Tensor> tensors, IDictionary<string, string> metadata)
        {
            List<DenseLayer> input = _dense.Where(d => d.BeforeRecurrent).ToList();
            if (input.Count > 0)
            {
                metadata[MetadataKeys.InputLayers] = AddStack(tensors, ModelWriter.InputLayersModule, input);
            }
        }

        /// <summary>
        /// The head's tensors and metadata: one Linear without activation stays <c>head</c> (<c>rnn.head</c>), an MLP is
        /// <c>head.0</c>, <c>head.2</c>, ... (<c>rnn.head.layers</c>); a Sigmoid on the output layer is the output function.
        /// </summary>
        private void AddHead(List<Tensor> tensors, IDictionary<string, string> metadata)
        {
            List<DenseLayer> head = _dense.Where(d => !d.BeforeRecurrent).ToList();
            if (head.Count > 0 && _output == OutputFunction.None && head[head.Count - 1].Activation == DenseActivation.Sigmoid)
            {
                // nn.Sigmoid() last in the head, or torch.sigmoid on its output: the same numbers either way; as the output
                // function it reads as what it is (independent probabilities).
                head[head.Count - 1].Activation = DenseActivation.Identity;
                _output = OutputFunction.Sigmoid;
            }

            if (head.Count == 1 && head[0].Activation == DenseActivation.Identity)
            {
                AddDense(tensors, ModelWriter.HeadModule, head[0]);
                metadata[MetadataKeys.Head] = ModelWriter.HeadModule;
            }
            else if (head.Count > 0)
            {
                metadata[MetadataKeys.HeadLayers] = AddStack(tensors, ModelWriter.HeadModule, head);
            }

            if (_output != OutputFunction.None)
            {
                metadata[MetadataKeys.Output] = MetadataKeys.ToText(_output);
            }
        }

        private static string AddStack(List<Tensor> tensors, string module, List<DenseLayer> layers)
        {
            var entries = new string[layers.Count];
            for (int i = 0; i < layers.Count; i++)
            {
                string name = module + "." + (2 * i).ToString(CultureInfo.InvariantCulture);
                AddDense(tensors, name, layers[i]);
                entries[i] = name + ":" + MetadataKeys.ToText(layers[i].Activation);
            }

            return string.Join(",", entries);
        }

        private static void AddDense(List<Tensor> tensors, string name, DenseLayer layer)
        {
            tensors.Add(new Tensor(name + ".weight", new[] { layer.Outputs, layer.Inputs }, layer.Weight));
            if (layer.Bias is not null)
            {
                tensors.Add(new Tensor(name + ".bias", new[] { layer.Outputs }, layer.Bias));
            }
        }
    }
}
