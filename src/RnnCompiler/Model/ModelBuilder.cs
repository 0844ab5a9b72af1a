using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using RnnEmbedded.Compiler.Formats;

namespace RnnEmbedded.Compiler.Model;

/// <summary>
/// Turns a weight file (PyTorch state_dict names and shapes, plus optional <c>rnn.*</c> metadata) into a
/// validated <see cref="ModelSpec"/>. Supported layout: [embedding | one-hot | dense] → one recurrent module
/// (nn.LSTM / nn.GRU / nn.RNN, any number of layers, uni- or bidirectional, with or without bias, LSTM
/// projection) → optional dense head; caption decoders add an image projection. Module attribute names are
/// free: the recurrent module is found by <c>&lt;prefix&gt;.weight_ih_l0</c>, the others by shape.
/// Every rule broken is reported as <see cref="RnnFormatException"/> naming the file, the tensor or metadata
/// key, and the rule. See docs/model-format.md.
/// </summary>
public static partial class ModelBuilder
{
    /// <summary>Builds the model a weight file describes.</summary>
    /// <exception cref="RnnFormatException">The tensors or metadata do not describe a supported model.</exception>
    public static ModelSpec Build(WeightFile file)
    {
        if (file is null)
        {
            throw new ArgumentNullException(nameof(file));
        }

        return new Builder(file).Build();
    }

    private sealed partial class Builder
    {
        private const string WeightIh = "weight_ih";
        private const string WeightHh = "weight_hh";
        private const string BiasIh = "bias_ih";
        private const string BiasHh = "bias_hh";
        private const string WeightHr = "weight_hr";
        private const string Peephole = "peephole";
        private const string ReverseSuffix = "_reverse";

        private readonly WeightFile _file;
        private readonly Dictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);
        private readonly HashSet<string> _used = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, string> _metadata = new(StringComparer.Ordinal);

        // Parsed metadata; null = not given.
        private ModelTask? _task;
        private ModelVocabularyKind? _vocabularyKind;
        private string[]? _vocabulary;
        private string[]? _labels;
        private InputKind? _input;
        private ActivationKind? _activation;
        private GruForm? _gruForm;
        private bool? _cifg;
        private string? _imageProjection;
        private string? _embeddingName;
        private string? _headName;

        private string _prefix = "";

        public Builder(WeightFile file)
        {
            _file = file;
            foreach (Tensor tensor in file.Tensors)
            {
                if (_tensors.ContainsKey(tensor.Name))
                {
                    throw Error(tensor.Name, "the name occurs twice; tensor names must be unique");
                }

                _tensors.Add(tensor.Name, tensor);
            }

            foreach (KeyValuePair<string, string> entry in file.Metadata)
            {
                _metadata[entry.Key] = entry.Value;
            }
        }

        public ModelSpec Build()
        {
            ReadMetadata();
            ReadLayerStackMetadata();
            ReadClipMetadata(); // ModelBuilder.Clip.cs
            if (_task == ModelTask.Seq2Seq && _keyAliases is null)
            {
                return BuildSequenceToSequence(); // ModelBuilder.Seq2Seq.cs
            }

            List<LayerSpec> layers = BuildLayers();
            CheckClipCount(layers.Count);
            int firstInput = layers[0].InputSize;
            int lastOutput = layers[layers.Count - 1].OutputSize;

            DenseSpec? imageProjection = BuildImageProjection(firstInput);
            IReadOnlyList<DenseSpec> inputLayers = BuildInputLayers(firstInput);
            List<DenseSpec>? headStack = BuildHeadStack(lastOutput);
            (Matrix? embedding, DenseSpec? head) = BuildEmbeddingAndHead(firstInput, lastOutput);
            IReadOnlyList<DenseSpec> headLayers = Array.Empty<DenseSpec>();
            if (headStack is not null)
            {
                head = headStack[headStack.Count - 1];
                headStack.RemoveAt(headStack.Count - 1);
                headLayers = headStack;
            }

            RejectUnusedTensors();

            InputKind inputKind = inputLayers.Count > 0 ? InputKind.Dense
                : embedding is not null ? InputKind.Embedding
                : _input ?? (_vocabulary is not null || _task is ModelTask.CharLm or ModelTask.WordLm or ModelTask.Caption
                    ? InputKind.OneHot
                    : InputKind.Dense);
            if (_input is InputKind.Embedding && embedding is null)
            {
                throw Error(MetadataKeys.Input, $"metadata says 'embedding' but no tensor '<module>.weight' of shape (V, {firstInput}) without a bias was found");
            }

            int inputSize = inputLayers.Count > 0 ? inputLayers[0].InputSize : embedding?.Rows ?? firstInput;
            Vocabulary? vocabulary = BuildVocabulary();
            ModelTask task = _task ?? ModelTask.Generic;
            CheckTask(task, inputKind, inputSize, vocabulary, head, imageProjection, layers[0].Bidirectional || layers[0].Reverse);
            CheckOutput(task);

            return new ModelSpec
            {
                InputKind = inputKind,
                InputSize = inputSize,
                Embedding = embedding,
                ImageProjection = imageProjection,
                Layers = layers,
                Head = head,
                InputLayers = inputLayers,
                HeadLayers = headLayers,
                Output = _output ?? OutputFunction.None,
                Vocabulary = vocabulary,
                Task = task,
                Labels = _labels,
                Metadata = _metadata,
            };
        }

        // ---------------------------------------------------------------- metadata

        private void ReadMetadata()
        {
            foreach (KeyValuePair<string, string> entry in _metadata)
            {
                string key = entry.Key;
                if (!key.StartsWith(MetadataKeys.Namespace, StringComparison.Ordinal)
                    || key.StartsWith(MetadataKeys.TrainPrefix, StringComparison.Ordinal))
                {
                    continue;
                }

                if (!IsKnown(key))
                {
                    throw Error(key, $"unknown metadata key; known keys are {string.Join(", ", MetadataKeys.Known)} and {MetadataKeys.TrainPrefix}*");
                }
            }

            Choose(MetadataKeys.Format, MetadataKeys.FormatValues);
            _task = (ModelTask?)Choose(MetadataKeys.Task, MetadataKeys.TaskValues);
            _input = (InputKind?)Choose(MetadataKeys.Input, MetadataKeys.InputValues);
            _activation = (ActivationKind?)Choose(MetadataKeys.Nonlinearity, MetadataKeys.NonlinearityValues);
            _gruForm = (GruForm?)Choose(MetadataKeys.GruForm, MetadataKeys.GruFormValues);
            int? cifg = Choose(MetadataKeys.LstmCifg, MetadataKeys.BoolValues);
            _cifg = cifg is null ? null : cifg == 0;
            int? vocabularyKind = Choose(MetadataKeys.VocabularyKind, MetadataKeys.VocabularyKindValues);
            _vocabularyKind = vocabularyKind switch
            {
                null => null,
                0 => ModelVocabularyKind.Characters,
                _ => ModelVocabularyKind.Words,
            };
            _imageProjection = ModuleName(MetadataKeys.ImageProjection);
            _embeddingName = ModuleName(MetadataKeys.Embedding);
            _headName = ModuleName(MetadataKeys.Head);
            if (_metadata.TryGetValue(MetadataKeys.Vocabulary, out string? vocabularyText))
            {
                _vocabulary = ParseVocabulary(vocabularyText);
            }

            if (_metadata.TryGetValue(MetadataKeys.Labels, out string? labelText))
            {
                _labels = ParseStrings(MetadataKeys.Labels, labelText, "label");
            }
        }

        private static bool IsKnown(string key)
        {
            foreach (string known in MetadataKeys.Known)
            {
                if (string.Equals(known, key, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>Index of the metadata value in <paramref name="allowed"/>, null when the key is absent.</summary>
        private int? Choose(string key, string[] allowed)
        {
            if (!_metadata.TryGetValue(key, out string? value))
            {
                return null;
            }

            int index = Array.IndexOf(allowed, value);
            if (index < 0)
            {
                throw Error(key, $"metadata value '{value}' is not allowed; allowed values: {string.Join(", ", allowed)}");
            }

            return index;
        }

        private string? ModuleName(string key)
        {
            if (!_metadata.TryGetValue(key, out string? value))
            {
                return null;
            }

            if (value.Length == 0 || value.StartsWith(".", StringComparison.Ordinal) || value.EndsWith(".", StringComparison.Ordinal))
            {
                throw Error(key, $"metadata value '{value}' is not a module prefix (expected e.g. 'decoder' for tensors 'decoder.weight', 'decoder.bias')");
            }

            return value;
        }

        private string[] ParseVocabulary(string text) => ParseStrings(MetadataKeys.Vocabulary, text, "token");

        private string[] ParseStrings(string key, string text, string what)
        {
            JsonValue root;
            try
            {
                root = Json.Parse(text);
            }
            catch (JsonParseException e)
            {
                throw Error(key, "metadata value is not valid JSON: " + e.Message);
            }

            if (root.Kind != JsonKind.Array)
            {
                throw Error(key, $"metadata value must be a JSON array of strings, found {root.Describe()}");
            }

            IReadOnlyList<JsonValue> items = root.Items;
            if (items.Count == 0)
            {
                throw Error(key, what == "token" ? "the vocabulary is empty" : $"the {what} list is empty");
            }

            var tokens = new string[items.Count];
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < items.Count; i++)
            {
                if (items[i].Kind != JsonKind.String)
                {
                    throw Error(key, $"item {i} must be a string, found {items[i].Describe()}");
                }

                string token = items[i].StringValue;
                if (token.Length == 0)
                {
                    throw Error(key, $"item {i} is an empty string; {what}s must be non-empty");
                }

                if (seen.TryGetValue(token, out int previous))
                {
                    throw Error(key, $"item {i} {Json.Quote(token)} repeats item {previous}; {what}s must be unique");
                }

                seen.Add(token, i);
                tokens[i] = token;
            }

            return tokens;
        }

        private Vocabulary? BuildVocabulary()
        {
            if (_vocabulary is null)
            {
                if (_vocabularyKind is not null)
                {
                    throw Error(MetadataKeys.VocabularyKind, $"is given but '{MetadataKeys.Vocabulary}' is missing");
                }

                return null;
            }

            ModelVocabularyKind kind = _vocabularyKind ?? _task switch
            {
                ModelTask.CharLm => ModelVocabularyKind.Characters,
                ModelTask.WordLm or ModelTask.Caption => ModelVocabularyKind.Words,
                _ => throw Error(MetadataKeys.Vocabulary, $"a vocabulary needs '{MetadataKeys.VocabularyKind}' (chars or words) or an '{MetadataKeys.Task}' that implies it"),
            };
            if (kind == ModelVocabularyKind.Characters)
            {
                for (int i = 0; i < _vocabulary.Length; i++)
                {
                    string token = _vocabulary[i];
                    bool oneCodePoint = token.Length == 1 && !char.IsSurrogate(token[0])
                        || token.Length == 2 && char.IsSurrogatePair(token[0], token[1]);
                    if (!oneCodePoint)
                    {
                        throw Error(MetadataKeys.Vocabulary, $"item {i} {Json.Quote(token)} is not one character, but {MetadataKeys.VocabularyKind} is 'chars'");
                    }
                }
            }

            return new Vocabulary(kind, _vocabulary);
        }

        private void CheckTask(ModelTask task, InputKind inputKind, int inputSize, Vocabulary? vocabulary, DenseSpec? head, DenseSpec? imageProjection, bool bidirectional)
        {
            if (vocabulary is not null)
            {
                if (inputKind != InputKind.Dense && vocabulary.Count != inputSize)
                {
                    string what = inputKind == InputKind.Embedding ? "the embedding's rows" : "the one-hot width (layer 0's input size)";
                    throw Error(MetadataKeys.Vocabulary, $"the vocabulary has {vocabulary.Count} tokens but {what} V = {inputSize}; they must be equal");
                }

                if (inputKind == InputKind.Dense && (head is null || head.OutputSize != vocabulary.Count))
                {
                    throw Error(MetadataKeys.Vocabulary, $"a dense-input model's vocabulary names the head's outputs, but it has {vocabulary.Count} tokens and the head has {(head is null ? "no head" : head.OutputSize + " outputs")}");
                }
            }

            if (imageProjection is not null && task != ModelTask.Caption)
            {
                throw Error(MetadataKeys.ImageProjection, $"an image projection is only valid with {MetadataKeys.Task}=caption (found '{MetadataKeys.ToText(task)}')");
            }

            if (task == ModelTask.Generic)
            {
                CheckNoLabels(task);
                return;
            }

            if (task == ModelTask.Classify)
            {
                CheckClassifier(inputKind, vocabulary, head);
                return;
            }

            CheckNoLabels(task);
            string taskText = MetadataKeys.ToText(task);
            if (inputKind == InputKind.Dense)
            {
                throw Error(MetadataKeys.Task, $"'{taskText}' needs token input (an embedding, or {MetadataKeys.Input}=one-hot), but the model takes dense input");
            }

            if (vocabulary is null)
            {
                throw Error(MetadataKeys.Task, $"'{taskText}' needs a vocabulary in '{MetadataKeys.Vocabulary}'");
            }

            ModelVocabularyKind wanted = task == ModelTask.CharLm ? ModelVocabularyKind.Characters : ModelVocabularyKind.Words;
            if (vocabulary.Kind != wanted)
            {
                throw Error(MetadataKeys.VocabularyKind, $"'{MetadataKeys.ToText(vocabulary.Kind)}' contradicts {MetadataKeys.Task}='{taskText}', which needs '{MetadataKeys.ToText(wanted)}'");
            }

            if (head is null)
            {
                throw Error(MetadataKeys.Task, $"'{taskText}' needs a dense head producing {vocabulary.Count} logits, but the model has no head");
            }

            if (head.OutputSize != vocabulary.Count)
            {
                throw Error(MetadataKeys.Task, $"'{taskText}' needs the head's outputs to equal the vocabulary size {vocabulary.Count}, but the head has {head.OutputSize}");
            }

            if (task == ModelTask.Caption)
            {
                if (imageProjection is null)
                {
                    throw Error(MetadataKeys.Task, $"'caption' needs '{MetadataKeys.ImageProjection}' naming the image projection module");
                }

                if (bidirectional)
                {
                    throw Error(Name(WeightIh, 0, true), "a caption decoder (rnn.task=caption) decodes word by word from the image, so its layers cannot be bidirectional or reverse: a reverse direction would need the whole caption in advance");
                }

                if (vocabulary.StartToken < 0 || vocabulary.StopToken < 0)
                {
                    throw Error(MetadataKeys.Vocabulary, "a caption vocabulary must contain the tokens \"<start>\" and \"<stop>\"");
                }
            }
        }

        // ---------------------------------------------------------------- recurrent layers

        private List<LayerSpec> BuildLayers()
        {
            var forward = new SortedSet<int>();
            var reverse = new SortedSet<int>();
            string? prefix = null;
            foreach (Tensor tensor in _file.Tensors)
            {
                if (!TryParseRecurrentName(tensor.Name, WeightIh, out string p, out int layer, out bool isReverse))
                {
                    continue;
                }

                if (prefix is not null && !string.Equals(prefix, p, StringComparison.Ordinal))
                {
                    throw Error(tensor.Name, $"recurrent tensors found under two module prefixes, '{prefix}' and '{p}'; one recurrent module (a stack of layers) is supported");
                }

                prefix = p;
                (isReverse ? reverse : forward).Add(layer);
            }

            if (prefix is null)
            {
                throw Error(null, "no recurrent layer: expected a tensor named '<module>.weight_ih_l0' (PyTorch nn.LSTM / nn.GRU / nn.RNN state_dict)");
            }

            _prefix = prefix;
            int count = Math.Max(forward.Count == 0 ? 0 : forward.Max, reverse.Count == 0 ? 0 : reverse.Max) + 1;
            bool reverseOnly = forward.Count == 0; // only '_reverse' tensors: every layer runs from the last step to the first
            foreach (int k in reverse)
            {
                if (!reverseOnly && !forward.Contains(k))
                {
                    throw Error(Name(WeightIh, k, false), $"missing: layer {k} has only '_reverse' tensors (a reverse-only layer) but layer {forward.Min} runs forward; all layers of a module share one direction: forward (no '_reverse' tensors), reverse (only '_reverse' tensors) or bidirectional (both)");
                }
            }

            for (int k = 0; k < count; k++)
            {
                if (reverseOnly)
                {
                    if (!reverse.Contains(k))
                    {
                        throw Error(Name(WeightIh, k, true), $"missing: layers must be numbered 0..{count - 1} with no gaps, and layer {count - 1} exists (a reverse-only module: only '_reverse' tensors)");
                    }

                    continue;
                }

                if (!forward.Contains(k))
                {
                    throw Error(Name(WeightIh, k, false), $"missing: layers must be numbered 0..{count - 1} with no gaps, and layer {count - 1} exists");
                }

                if (reverse.Count > 0 && !reverse.Contains(k))
                {
                    throw Error(Name(WeightIh, k, true), "missing: the module is bidirectional (other layers have '_reverse' tensors), so every layer needs its reverse direction");
                }
            }

            bool bidirectional = !reverseOnly && reverse.Count > 0;
            var layers = new List<LayerSpec>(count);
            for (int k = 0; k < count; k++)
            {
                int? inputSize = k == 0 ? null : layers[k - 1].OutputSize;
                layers.Add(BuildLayer(k, inputSize, bidirectional, reverseOnly, k == 0 ? null : layers[0].Cell));
            }

            return layers;
        }

        private LayerSpec BuildLayer(int k, int? expectedInput, bool bidirectional, bool reverseOnly, CellKind? firstCell)
        {
            bool first = reverseOnly; // the first (or only) direction's tensors: '_reverse' ones in a reverse-only module
            string hhName = Name(WeightHh, k, first);
            Tensor hh = Require(hhName, "(G·H, H) recurrent weights");
            if (hh.Shape.Length != 2 || hh.Shape[0] <= 0 || hh.Shape[1] <= 0)
            {
                throw Error(hhName, $"shape {hh.ShapeText} must be 2-D (G·H, H) with positive sizes");
            }

            string hrName = Name(WeightHr, k, first);
            string peepName = Name(Peephole, k, first);
            bool hasProjection = _tensors.ContainsKey(hrName);
            bool hasPeepholes = _tensors.ContainsKey(peepName);
            bool cifg = _cifg == true;

            // Cell kind and sizes from weight_hh: rows / cols = 4 LSTM, 3 GRU (or CIFG LSTM), 1 RNN.
            CellKind cell;
            int hidden;
            int projection = 0;
            if (hasProjection)
            {
                Tensor hr = _tensors[hrName];
                if (hr.Shape.Length != 2 || hr.Shape[0] <= 0 || hr.Shape[1] <= 0)
                {
                    throw Error(hrName, $"shape {hr.ShapeText} must be 2-D (P, H) with positive sizes");
                }

                cell = CellKind.Lstm;
                projection = hr.Shape[0];
                hidden = hr.Shape[1];
            }
            else
            {
                int rows = hh.Shape[0];
                int cols = hh.Shape[1];
                int ratio = rows % cols == 0 ? rows / cols : 0;
                hidden = cols;
                cell = ratio switch
                {
                    4 => CellKind.Lstm,
                    3 => cifg || hasPeepholes ? CellKind.Lstm : CellKind.Gru,
                    1 => CellKind.Rnn,
                    _ => throw Error(hhName, $"shape {hh.ShapeText}: rows must be 4 (LSTM), 3 (GRU, or LSTM with {MetadataKeys.LstmCifg}=true) or 1 (RNN) times the columns H"),
                };
                if (ratio == 4 && cifg)
                {
                    throw Error(hhName, $"shape {hh.ShapeText} has 4H rows (a full LSTM), but {MetadataKeys.LstmCifg}=true: a CIFG LSTM has 3H rows ordered i, g, o");
                }

                if (ratio == 3 && hasPeepholes && !cifg)
                {
                    throw Error(hhName, $"shape {hh.ShapeText} has 3H rows and peepholes exist: a CIFG LSTM must say {MetadataKeys.LstmCifg}=true");
                }
            }

            if (firstCell is not null && cell != firstCell)
            {
                throw Error(hhName, $"shape {hh.ShapeText} makes layer {k} {CellNames.DisplayName(cell)} but layer 0 is {CellNames.DisplayName(firstCell.Value)}; all layers of a module have one cell kind");
            }

            CheckVariantMetadata(cell);
            if (hasPeepholes && cell != CellKind.Lstm)
            {
                throw Error(peepName, $"peepholes exist only for LSTM cells, but layer {k} is {CellNames.DisplayName(cell)}");
            }

            int gates = cell switch
            {
                CellKind.Lstm => cifg ? 3 : 4,
                CellKind.Gru => 3,
                _ => 1,
            };
            int stateSize = projection > 0 ? projection : hidden;

            string ihName = Name(WeightIh, k, first);
            Tensor ih = _tensors[ihName];
            int input = expectedInput ?? (ih.Shape.Length == 2 && ih.Shape[1] > 0 ? ih.Shape[1] : -1);
            if (input <= 0)
            {
                throw Error(ihName, $"shape {ih.ShapeText} must be 2-D ({gates * hidden}, In) with In > 0");
            }

            bool hasBias = _tensors.ContainsKey(Name(BiasIh, k, first)) || _tensors.ContainsKey(Name(BiasHh, k, first));
            DirectionWeights Direction(bool rev) => new()
            {
                W_ih = ReadMatrix(Name(WeightIh, k, rev), gates * hidden, input, GateText(cell, cifg, hidden) + " × input " + InputText(k, input)),
                W_hh = ReadMatrix(Name(WeightHh, k, rev), gates * hidden, stateSize, GateText(cell, cifg, hidden) + " × " + (projection > 0 ? $"P={projection}" : $"H={hidden}")),
                b_ih = hasBias ? ReadVector(Name(BiasIh, k, rev), gates * hidden, $"bias_hh_l{k}{(rev ? ReverseSuffix : "")} exists, so this bias must too: " + GateText(cell, cifg, hidden)) : Absent<float[]>(Name(BiasIh, k, rev), $"layer {k} has no bias ({Name(BiasIh, k, first)} and {Name(BiasHh, k, first)} are absent)"),
                b_hh = hasBias ? ReadVector(Name(BiasHh, k, rev), gates * hidden, $"bias_ih_l{k}{(rev ? ReverseSuffix : "")} exists, so this bias must too: " + GateText(cell, cifg, hidden)) : Absent<float[]>(Name(BiasHh, k, rev), $"layer {k} has no bias ({Name(BiasIh, k, first)} and {Name(BiasHh, k, first)} are absent)"),
                W_hr = projection > 0 ? ReadMatrix(Name(WeightHr, k, rev), projection, hidden, "(P, H) projection") : Absent<Matrix>(Name(WeightHr, k, rev), $"layer {k}'s forward direction has no projection"),
                Peepholes = hasPeepholes ? ReadMatrix(Name(Peephole, k, rev), 3, hidden, "(3, H) rows p_i, p_f, p_o") : Absent<Matrix>(Name(Peephole, k, rev), $"layer {k}'s forward direction has no peepholes"),
            };

            DirectionWeights forward = Direction(first);
            DirectionWeights? backward = bidirectional ? Direction(true) : null;
            if (cifg && forward.Peepholes is not null)
            {
                CheckCifgPeepholeRow(Name(Peephole, k, first), forward.Peepholes);
                if (backward?.Peepholes is not null)
                {
                    CheckCifgPeepholeRow(Name(Peephole, k, true), backward.Peepholes);
                }
            }

            return new LayerSpec
            {
                Cell = cell,
                InputSize = input,
                HiddenSize = hidden,
                ProjectionSize = projection,
                Activation = cell == CellKind.Rnn ? _activation ?? ActivationKind.Tanh : ActivationKind.Tanh,
                GruForm = cell == CellKind.Gru ? _gruForm ?? GruForm.ResetAfter : GruForm.ResetAfter,
                Cifg = cell == CellKind.Lstm && cifg,
                Clip = ClipOf(k),
                Forward = forward,
                Backward = backward,
                Reverse = reverseOnly,
            };
        }

        private void CheckCifgPeepholeRow(string name, Matrix peepholes)
        {
            for (int j = 0; j < peepholes.Cols; j++)
            {
                if (peepholes[1, j] != 0f)
                {
                    throw Error(name, $"a CIFG LSTM has no forget gate, so row 1 (p_f) must be zero; element [1, {j}] is {peepholes[1, j].ToString("R", CultureInfo.InvariantCulture)}");
                }
            }
        }

        private void CheckVariantMetadata(CellKind cell)
        {
            if (_activation is not null && cell != CellKind.Rnn)
            {
                throw Error(MetadataKeys.Nonlinearity, $"applies only to plain RNN cells, but the model's cells are {CellNames.DisplayName(cell)}");
            }

            if (_gruForm is not null && cell != CellKind.Gru)
            {
                throw Error(MetadataKeys.GruForm, $"applies only to GRU cells, but the model's cells are {CellNames.DisplayName(cell)}");
            }

            if (_cifg == true && cell != CellKind.Lstm)
            {
                throw Error(MetadataKeys.LstmCifg, $"applies only to LSTM cells, but the model's cells are {CellNames.DisplayName(cell)}");
            }
        }

        private static string GateText(CellKind cell, bool cifg, int hidden) => cell switch
        {
            CellKind.Lstm when cifg => $"3H rows (CIFG i,g,o; H={hidden})",
            CellKind.Lstm => $"4H rows (LSTM i,f,g,o; H={hidden})",
            CellKind.Gru => $"3H rows (GRU r,z,n; H={hidden})",
            _ => $"H rows (RNN; H={hidden})",
        };

        private static string InputText(int k, int input) =>
            k == 0 ? $"In={input}" : $"In={input} (layer {k - 1}'s output)";

        private static bool TryParseRecurrentName(string name, string parameter, out string prefix, out int layer, out bool reverse)
        {
            prefix = "";
            layer = -1;
            reverse = false;
            int dot = name.LastIndexOf('.');
            string leaf = dot < 0 ? name : name.Substring(dot + 1);
            string head = parameter + "_l";
            if (!leaf.StartsWith(head, StringComparison.Ordinal))
            {
                return false;
            }

            string rest = leaf.Substring(head.Length);
            if (rest.EndsWith(ReverseSuffix, StringComparison.Ordinal))
            {
                reverse = true;
                rest = rest.Substring(0, rest.Length - ReverseSuffix.Length);
            }

            // Canonical decimal only ("0", "12"; not "01" or "+1"), so the name round-trips through Name().
            if (rest.Length == 0 || rest.Length > 6 || (rest.Length > 1 && rest[0] == '0'))
            {
                return false;
            }

            foreach (char ch in rest)
            {
                if (ch < '0' || ch > '9')
                {
                    return false;
                }
            }

            layer = int.Parse(rest, NumberStyles.None, CultureInfo.InvariantCulture);
            prefix = dot < 0 ? "" : name.Substring(0, dot);
            return true;
        }

        private string Name(string parameter, int layer, bool reverse) =>
            (_prefix.Length == 0 ? "" : _prefix + ".") + parameter + "_l" + layer.ToString(CultureInfo.InvariantCulture) + (reverse ? ReverseSuffix : "");

        // ---------------------------------------------------------------- image projection, embedding, head

        private DenseSpec? BuildImageProjection(int firstInput)
        {
            if (_imageProjection is null)
            {
                return null;
            }

            string weightName = _imageProjection + ".weight";
            Tensor weight = Require(weightName, $"({firstInput}, F) image projection named by {MetadataKeys.ImageProjection}");
            if (weight.Shape.Length != 2 || weight.Shape[0] != firstInput || weight.Shape[1] <= 0)
            {
                throw Error(weightName, $"shape {weight.ShapeText} does not match the expected ({firstInput}, F): its output feeds layer 0, whose input size is {firstInput}");
            }

            Matrix w = ReadMatrix(weightName, firstInput, weight.Shape[1], "image projection (E, F)");
            string biasName = _imageProjection + ".bias";
            float[]? b = _tensors.ContainsKey(biasName) ? ReadVector(biasName, firstInput, "image projection bias (E)") : null;
            return new DenseSpec { W = w, b = b };
        }

        private (Matrix? Embedding, DenseSpec? Head) BuildEmbeddingAndHead(int firstInput, int lastOutput)
        {
            string? embeddingName = null;
            string? headName = null;
            bool embeddingAllowed = (_input is null or InputKind.Embedding) && _inputLayerEntries is null;
            if (_embeddingName is not null)
            {
                if (!embeddingAllowed)
                {
                    throw Error(MetadataKeys.Embedding, $"names an embedding but {MetadataKeys.Input} is '{MetadataKeys.ToText(_input!.Value)}'");
                }

                embeddingName = _embeddingName + ".weight";
                Tensor t = Require(embeddingName, $"(V, {firstInput}) embedding named by {MetadataKeys.Embedding}");
                if (_tensors.ContainsKey(_embeddingName + ".bias"))
                {
                    throw Error(_embeddingName + ".bias", "an embedding has no bias, but this tensor sits beside the embedding's weight");
                }

                if (!FitsEmbedding(t, firstInput))
                {
                    throw Error(embeddingName, $"shape {t.ShapeText} does not match the expected (V, {firstInput}): an embedding row feeds layer 0, whose input size is {firstInput}");
                }
            }

            if (_headName is not null)
            {
                headName = _headName + ".weight";
                Tensor t = Require(headName, $"(O, {lastOutput}) head named by {MetadataKeys.Head}");
                if (!FitsHead(t, lastOutput))
                {
                    throw Error(headName, $"shape {t.ShapeText} does not match the expected (O, {lastOutput}): the head reads the last layer's output of size {lastOutput}");
                }
            }

            // Candidates: unused 2-D '<module>.weight' tensors. Each may be the embedding (cols = layer 0's input,
            // no '<module>.bias') or the head (cols = the last layer's output). Every candidate must get a role.
            var candidates = new List<Tensor>();
            foreach (Tensor t in _file.Tensors)
            {
                if (!_used.Contains(t.Name) && t.Name != embeddingName && t.Name != headName
                    && t.Name.EndsWith(".weight", StringComparison.Ordinal) && t.Shape.Length == 2)
                {
                    candidates.Add(t);
                }
            }

            bool needEmbedding = embeddingName is null && embeddingAllowed;
            bool needHead = headName is null && _headLayerEntries is null && !_noHead;
            var solutions = new List<(Tensor? Embedding, Tensor? Head)>();
            var embeddingOptions = new List<Tensor?> { null };
            var headOptions = new List<Tensor?> { null };
            foreach (Tensor t in candidates)
            {
                if (needEmbedding && FitsEmbedding(t, firstInput))
                {
                    embeddingOptions.Add(t);
                }

                if (needHead && FitsHead(t, lastOutput))
                {
                    headOptions.Add(t);
                }
            }

            foreach (Tensor? e in embeddingOptions)
            {
                foreach (Tensor? h in headOptions)
                {
                    if (e is not null && ReferenceEquals(e, h))
                    {
                        continue;
                    }

                    int covered = (e is null ? 0 : 1) + (h is null ? 0 : 1);
                    if (covered == candidates.Count)
                    {
                        solutions.Add((e, h));
                    }
                }
            }

            if (solutions.Count > 1)
            {
                var roles = new StringBuilder();
                foreach ((Tensor? e, Tensor? h) in solutions)
                {
                    roles.Append(roles.Length == 0 ? "" : "; or ")
                        .Append("embedding ").Append(e is null ? "none" : "'" + e.Name + "'")
                        .Append(", head ").Append(h is null ? "none" : "'" + h.Name + "'");
                }

                throw Error(candidates[0].Name, $"ambiguous: the tensors fit more than one role ({roles}); name the modules with metadata '{MetadataKeys.Embedding}' and/or '{MetadataKeys.Head}' (module prefixes, e.g. '{ModulePrefix(candidates[0].Name)}')");
            }

            if (solutions.Count == 0)
            {
                foreach (Tensor t in candidates)
                {
                    if (!embeddingOptions.Contains(t) && !headOptions.Contains(t))
                    {
                        throw Error(t.Name, $"not consumed by the model: shape {t.ShapeText} fits neither an embedding ({(needEmbedding ? "V, " + firstInput + ", no bias" : "not expected here")}) nor a head ({(needHead ? "O, " + lastOutput : "already found")})");
                    }
                }

                var names = new StringBuilder();
                foreach (Tensor t in candidates)
                {
                    names.Append(names.Length == 0 ? "" : ", ").Append('\'').Append(t.Name).Append('\'');
                }

                throw Error(candidates[0].Name, $"ambiguous: {candidates.Count} tensors ({names}) compete for the embedding and head roles; name them with metadata '{MetadataKeys.Embedding}' / '{MetadataKeys.Head}' and remove the rest");
            }

            embeddingName ??= solutions[0].Embedding?.Name;
            headName ??= solutions[0].Head?.Name;

            Matrix? embedding = null;
            if (embeddingName is not null)
            {
                // No bias beside it: checked above when metadata names the embedding, by FitsEmbedding when found by shape.
                Tensor t = _tensors[embeddingName];
                embedding = ReadMatrix(embeddingName, t.Shape[0], firstInput, "embedding (V, E)");
            }

            DenseSpec? head = null;
            if (headName is not null)
            {
                Tensor t = _tensors[headName];
                int outputs = t.Shape[0];
                Matrix w = ReadMatrix(headName, outputs, lastOutput, "head (O, In)");
                string biasName = ModulePrefix(headName) + ".bias";
                float[]? b = _tensors.ContainsKey(biasName) ? ReadVector(biasName, outputs, "head bias (O)") : null;
                head = new DenseSpec { W = w, b = b };
            }

            return (embedding, head);
        }

        private bool FitsEmbedding(Tensor t, int firstInput) =>
            t.Shape.Length == 2 && t.Shape[0] > 0 && t.Shape[1] == firstInput
            && !_tensors.ContainsKey(ModulePrefix(t.Name) + ".bias");

        private bool FitsHead(Tensor t, int lastOutput)
        {
            if (t.Shape.Length != 2 || t.Shape[0] <= 0 || t.Shape[1] != lastOutput)
            {
                return false;
            }

            return !_tensors.TryGetValue(ModulePrefix(t.Name) + ".bias", out Tensor? bias)
                || (bias.Shape.Length == 1 && bias.Shape[0] == t.Shape[0] && !_used.Contains(bias.Name));
        }

        private static string ModulePrefix(string weightName) => weightName.Substring(0, weightName.Length - ".weight".Length);

        private void RejectUnusedTensors()
        {
            foreach (Tensor t in _file.Tensors)
            {
                if (!_used.Contains(t.Name))
                {
                    throw Error(t.Name, $"not consumed by the model (shape {t.ShapeText}); every tensor must belong to the recurrent module '{_prefix}', the embedding, the head, the image projection, or a module listed in '{MetadataKeys.InputLayers}' / '{MetadataKeys.HeadLayers}'");
                }
            }
        }

        // ---------------------------------------------------------------- tensor access

        private Tensor Require(string name, string meaning)
        {
            if (!_tensors.TryGetValue(name, out Tensor? tensor))
            {
                throw Error(name, $"missing tensor; expected {meaning}");
            }

            return tensor;
        }

        private Matrix ReadMatrix(string name, int rows, int cols, string meaning)
        {
            Tensor t = Require(name, $"shape [{rows}, {cols}]: {meaning}");
            if (t.Shape.Length != 2 || t.Shape[0] != rows || t.Shape[1] != cols)
            {
                throw Error(name, $"shape {t.ShapeText} does not match the expected [{rows}, {cols}]: {meaning}");
            }

            _used.Add(name);
            return new Matrix(rows, cols, t.Data);
        }

        private float[] ReadVector(string name, int length, string meaning)
        {
            Tensor t = Require(name, $"shape [{length}]: {meaning}");
            if (t.Shape.Length != 1 || t.Shape[0] != length)
            {
                throw Error(name, $"shape {t.ShapeText} does not match the expected [{length}]: {meaning}");
            }

            _used.Add(name);
            return t.Data;
        }

        private T? Absent<T>(string name, string reason)
            where T : class
        {
            if (_tensors.ContainsKey(name))
            {
                throw Error(name, $"unexpected tensor: {reason}");
            }

            return null;
        }

        private RnnFormatException Error(string? tensorOrKey, string rule) =>
            new(_file.FileName, tensorOrKey is not null && _keyAliases is not null && _keyAliases.TryGetValue(tensorOrKey, out string? alias) ? alias : tensorOrKey, rule);
    }
}
