using System;
using System.Collections.Generic;
using RnnEmbedded.Compiler.Formats;

namespace RnnEmbedded.Compiler.Model;

/// <summary>Layer stacks: input layers before the recurrent stack, the head MLP and the output function (docs/model-format.md).</summary>
public static partial class ModelBuilder
{
    private sealed partial class Builder
    {
        // Parsed rnn.input.layers / rnn.head.layers / rnn.output; null = not given.
        private List<(string Module, DenseActivation Activation)>? _inputLayerEntries;
        private List<(string Module, DenseActivation Activation)>? _headLayerEntries;
        private OutputFunction? _output;

        private void ReadLayerStackMetadata()
        {
            _output = (OutputFunction?)Choose(MetadataKeys.Output, MetadataKeys.OutputValues);
            _inputLayerEntries = ParseLayerList(MetadataKeys.InputLayers);
            _headLayerEntries = ParseLayerList(MetadataKeys.HeadLayers);
            if (_headLayerEntries is not null && _headName is not null)
            {
                throw Error(MetadataKeys.Head, $"cannot be given together with '{MetadataKeys.HeadLayers}', which lists the whole head (its last module is the output layer)");
            }

            if (_inputLayerEntries is not null)
            {
                if (_input is not null and not InputKind.Dense)
                {
                    throw Error(MetadataKeys.InputLayers, $"input layers take dense input, but {MetadataKeys.Input} is '{MetadataKeys.ToText(_input.Value)}'");
                }

                if (_embeddingName is not null)
                {
                    throw Error(MetadataKeys.Embedding, $"cannot be given together with '{MetadataKeys.InputLayers}': input layers take dense input, not token ids");
                }
            }

            if (_inputLayerEntries is not null && _headLayerEntries is not null)
            {
                foreach ((string module, _) in _inputLayerEntries)
                {
                    foreach ((string other, _) in _headLayerEntries)
                    {
                        if (string.Equals(module, other, StringComparison.Ordinal))
                        {
                            throw Error(MetadataKeys.HeadLayers, $"module '{module}' is also listed in '{MetadataKeys.InputLayers}'; a module is one layer");
                        }
                    }
                }
            }
        }

        /// <summary>Parses "module[:activation], ..." (at least one entry, modules unique); null when the key is absent.</summary>
        private List<(string Module, DenseActivation Activation)>? ParseLayerList(string key)
        {
            if (!_metadata.TryGetValue(key, out string? value))
            {
                return null;
            }

            var entries = new List<(string, DenseActivation)>();
            string[] items = value.Split(',');
            for (int i = 0; i < items.Length; i++)
            {
                string item = items[i].Trim();
                int colon = item.IndexOf(':');
                string module = (colon < 0 ? item : item.Substring(0, colon)).Trim();
                string activationText = colon < 0 ? "identity" : item.Substring(colon + 1).Trim();
                if (module.Length == 0 || module.StartsWith(".", StringComparison.Ordinal) || module.EndsWith(".", StringComparison.Ordinal))
                {
                    throw Error(key, $"entry {i} '{item}' does not start with a module prefix; expected a comma-separated list of 'module[:activation]', e.g. 'input.0:relu,input.2:tanh'");
                }

                int activation = Array.IndexOf(MetadataKeys.DenseActivationValues, activationText);
                if (activation < 0)
                {
                    throw Error(key, $"entry {i} '{item}': activation '{activationText}' is not allowed; allowed: {string.Join(", ", MetadataKeys.DenseActivationValues)}");
                }

                foreach ((string previous, _) in entries)
                {
                    if (string.Equals(previous, module, StringComparison.Ordinal))
                    {
                        throw Error(key, $"entry {i}: module '{module}' is listed twice; each module is one layer");
                    }
                }

                entries.Add((module, (DenseActivation)activation));
            }

            return entries;
        }

        /// <summary>The input layers named by rnn.input.layers; the last one's output must be layer 0's input size.</summary>
        private IReadOnlyList<DenseSpec> BuildInputLayers(int firstInput)
        {
            if (_inputLayerEntries is null)
            {
                return Array.Empty<DenseSpec>();
            }

            var layers = new List<DenseSpec>(_inputLayerEntries.Count);
            int? expectedIn = null;
            for (int i = 0; i < _inputLayerEntries.Count; i++)
            {
                (string module, DenseActivation activation) = _inputLayerEntries[i];
                bool last = i == _inputLayerEntries.Count - 1;
                string weightName = module + ".weight";
                Tensor w = Require(weightName, $"input layer {i} (O, In) listed in {MetadataKeys.InputLayers}");
                if (w.Shape.Length != 2 || w.Shape[0] <= 0 || w.Shape[1] <= 0)
                {
                    throw Error(weightName, $"shape {w.ShapeText} must be 2-D (O, In) with positive sizes: input layer {i}");
                }

                int outputs = last ? firstInput : w.Shape[0];
                int inputs = expectedIn ?? w.Shape[1];
                string meaning = last
                    ? $"input layer {i} (O, In): the last input layer feeds recurrent layer 0, whose input size is {firstInput}"
                    : expectedIn is null ? $"input layer {i} (O, In)" : $"input layer {i} (O, In): In is input layer {i - 1}'s output size {expectedIn}";
                layers.Add(ReadDense(module, outputs, inputs, meaning, activation));
                expectedIn = outputs;
            }

            return layers;
        }

        /// <summary>The head MLP named by rnn.head.layers (hidden layers then the output layer); null when absent.</summary>
        private List<DenseSpec>? BuildHeadStack(int lastOutput)
        {
            if (_headLayerEntries is null)
            {
                return null;
            }

            var layers = new List<DenseSpec>(_headLayerEntries.Count);
            int expectedIn = lastOutput;
            for (int i = 0; i < _headLayerEntries.Count; i++)
            {
                (string module, DenseActivation activation) = _headLayerEntries[i];
                string weightName = module + ".weight";
                Tensor w = Require(weightName, $"head layer {i} (O, {expectedIn}) listed in {MetadataKeys.HeadLayers}");
                if (w.Shape.Length != 2 || w.Shape[0] <= 0)
                {
                    throw Error(weightName, $"shape {w.ShapeText} must be 2-D (O, In) with O > 0: head layer {i}");
                }

                string meaning = i == 0
                    ? $"head layer {i} (O, In): In is the last recurrent layer's output size {lastOutput}"
                    : $"head layer {i} (O, In): In is head layer {i - 1}'s output size {expectedIn}";
                layers.Add(ReadDense(module, w.Shape[0], expectedIn, meaning, activation));
                expectedIn = w.Shape[0];
            }

            return layers;
        }

        private DenseSpec ReadDense(string module, int outputs, int inputs, string meaning, DenseActivation activation)
        {
            Matrix w = ReadMatrix(module + ".weight", outputs, inputs, meaning);
            string biasName = module + ".bias";
            float[]? b = _tensors.ContainsKey(biasName) ? ReadVector(biasName, outputs, $"bias (O) of module '{module}'") : null;
            return new DenseSpec { W = w, b = b, Activation = activation };
        }

        private void CheckOutput(ModelTask task)
        {
            if (_output is OutputFunction.Softmax or OutputFunction.Sigmoid && task != ModelTask.Generic)
            {
                throw Error(MetadataKeys.Output, $"'{MetadataKeys.ToText(_output.Value)}' is not allowed with {MetadataKeys.Task}='{MetadataKeys.ToText(task)}': decoding samples from logits (allowed: none, log-softmax)");
            }
        }
    }
}
