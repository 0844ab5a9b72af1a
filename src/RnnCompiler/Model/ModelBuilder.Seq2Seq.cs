using System;
using System.Collections.Generic;
using RnnEmbedded.Compiler.Formats;

namespace RnnEmbedded.Compiler.Model;

// Sequence-to-sequence files (rnn.task=seq2seq, docs/model-format.md "Sequence to sequence"): every tensor sits
// under 'encoder.' or 'decoder.'; each half is built by the ordinary rules as a token model of its own (the
// encoder with the source vocabulary and no head, the decoder with the target vocabulary and a head), then the
// two are checked against each other: same number of layers, the encoder's h size equal to the decoder's per
// layer, no bidirectional layer on either side.
public static partial class ModelBuilder
{
    /// <summary>Tensor name prefix of a seq2seq model's encoder stack.</summary>
    public const string EncoderPrefix = "encoder.";

    /// <summary>Tensor name prefix of a seq2seq model's decoder stack (and its embedding and head).</summary>
    public const string DecoderPrefix = "decoder.";

    /// <summary>
    /// Whether the encoder's final c of a layer starts the decoder's c: both cells LSTM with the same H. Otherwise
    /// the decoder's c (if any) starts at zero and only h is carried over (docs/model-format.md).
    /// </summary>
    public static bool CarriesCellState(LayerSpec encoderLayer, LayerSpec decoderLayer) =>
        encoderLayer.Cell == CellKind.Lstm && decoderLayer.Cell == CellKind.Lstm
        && encoderLayer.HiddenSize == decoderLayer.HiddenSize;

    private sealed partial class Builder
    {
        // Seq2seq halves: error messages name the whole file's keys (rnn.vocab → rnn.source.vocab for the encoder).
        private IReadOnlyDictionary<string, string>? _keyAliases;
        private bool _noHead;

        private ModelSpec BuildSequenceToSequence()
        {
            foreach (string key in new[] { MetadataKeys.InputLayers, MetadataKeys.HeadLayers, MetadataKeys.Output })
            {
                if (_metadata.ContainsKey(key))
                {
                    throw Error(key, $"layer stacks and output functions are not supported with {MetadataKeys.Task}=seq2seq yet");
                }
            }

            var encoderTensors = new List<Tensor>();
            var decoderTensors = new List<Tensor>();
            foreach (Tensor t in _file.Tensors)
            {
                if (t.Name.StartsWith(EncoderPrefix, StringComparison.Ordinal))
                {
                    encoderTensors.Add(t);
                }
                else if (t.Name.StartsWith(DecoderPrefix, StringComparison.Ordinal))
                {
                    decoderTensors.Add(t);
                }
                else
                {
                    throw Error(t.Name, $"a seq2seq model's tensors must all sit under '{EncoderPrefix}' or '{DecoderPrefix}'");
                }
            }

            if (!_metadata.ContainsKey(MetadataKeys.SourceVocabulary))
            {
                throw Error(MetadataKeys.SourceVocabulary, $"{MetadataKeys.Task}=seq2seq needs the source vocabulary (a JSON array of token strings)");
            }

            if (!_metadata.ContainsKey(MetadataKeys.Vocabulary))
            {
                throw Error(MetadataKeys.Vocabulary, $"{MetadataKeys.Task}=seq2seq needs the target vocabulary (a JSON array of token strings)");
            }

            (ModelSpec encoder, Builder encoderBuilder) = Half(encoderTensors, EncoderPrefix, MetadataKeys.SourceVocabulary, MetadataKeys.SourceVocabularyKind, noHead: true);
            (ModelSpec decoder, Builder decoderBuilder) = Half(decoderTensors, DecoderPrefix, MetadataKeys.Vocabulary, MetadataKeys.VocabularyKind, noHead: false);

            for (int l = 0; l < encoder.Layers.Count; l++)
            {
                if (encoder.Layers[l].Bidirectional)
                {
                    throw Error(encoderBuilder.Name(WeightIh, l, true), "a seq2seq encoder must be unidirectional: its final state per layer starts the decoder's layer, and a reverse direction has no single final state to hand over (concatenate or sum them yourself and store a unidirectional encoder)");
                }

                if (encoder.Layers[l].Reverse)
                {
                    throw Error(encoderBuilder.Name(WeightIh, l, true), "a seq2seq encoder must run forward: a reverse-only encoder is not supported (its final state is the one after the first token; reverse the source tokens and store the layer as a forward one for the same result)");
                }
            }

            for (int l = 0; l < decoder.Layers.Count; l++)
            {
                if (decoder.Layers[l].Bidirectional)
                {
                    throw Error(decoderBuilder.Name(WeightIh, l, true), "a seq2seq decoder writes the target token by token, so its layers cannot be bidirectional");
                }

                if (decoder.Layers[l].Reverse)
                {
                    throw Error(decoderBuilder.Name(WeightIh, l, true), "a seq2seq decoder writes the target token by token, so its layers cannot run in reverse");
                }
            }

            if (!encoder.HasTokenInput)
            {
                throw Error(MetadataKeys.SourceVocabulary, "the encoder must take tokens (an embedding or one-hot input)");
            }

            if (!decoder.HasTokenInput)
            {
                throw Error(MetadataKeys.Vocabulary, "the decoder must take tokens (an embedding or one-hot input)");
            }

            Vocabulary target = decoder.Vocabulary!;
            if (decoder.Head is null || decoder.Head.OutputSize != target.Count)
            {
                throw Error(MetadataKeys.Vocabulary, $"the decoder needs a dense head producing one logit per target token ({target.Count}), but it has {(decoder.Head is null ? "no head" : decoder.Head.OutputSize + " outputs")}");
            }

            if (target.StartToken < 0 || target.StopToken < 0)
            {
                string tokens = target.Kind == ModelVocabularyKind.Words ? "\"<start>\" and \"<stop>\"" : "\"\\u0002\" (start) and \"\\u0003\" (stop)";
                throw Error(MetadataKeys.Vocabulary, $"a seq2seq target vocabulary must contain {tokens}");
            }

            if (encoder.Layers.Count != decoder.Layers.Count)
            {
                throw Error(MetadataKeys.Task, $"the encoder has {encoder.Layers.Count} layers and the decoder {decoder.Layers.Count}; a seq2seq model hands each encoder layer's final state to the decoder layer of the same index, so the counts must be equal");
            }

            for (int l = 0; l < encoder.Layers.Count; l++)
            {
                LayerSpec e = encoder.Layers[l];
                LayerSpec d = decoder.Layers[l];
                if (e.StateSize != d.StateSize)
                {
                    throw Error(encoderBuilder.Name(WeightHh, l, false), $"encoder layer {l}'s h has {e.StateSize} values but decoder layer {l}'s h has {d.StateSize}; the encoder's final h starts the decoder's, so they must be equal");
                }
            }

            return new ModelSpec
            {
                InputKind = decoder.InputKind,
                InputSize = decoder.InputSize,
                Embedding = decoder.Embedding,
                Layers = decoder.Layers,
                Head = decoder.Head,
                Vocabulary = target,
                Task = ModelTask.Seq2Seq,
                Encoder = encoder,
                Metadata = _metadata,
            };
        }

        /// <summary>One half as a token model of its own: its tensors, its vocabulary under the plain keys.</summary>
        private (ModelSpec Spec, Builder Builder) Half(List<Tensor> tensors, string prefix, string vocabularyKey, string kindKey, bool noHead)
        {
            if (tensors.Count == 0)
            {
                throw Error(prefix + "*", $"a seq2seq model needs tensors under '{prefix}' (its {prefix.TrimEnd('.')} stack)");
            }

            var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (KeyValuePair<string, string> entry in _metadata)
            {
                string key = entry.Key;
                bool moduleKey = key == MetadataKeys.Embedding || key == MetadataKeys.Head;
                if (key == MetadataKeys.Task || key == MetadataKeys.Vocabulary || key == MetadataKeys.VocabularyKind
                    || key == MetadataKeys.SourceVocabulary || key == MetadataKeys.SourceVocabularyKind
                    || (moduleKey && !entry.Value.StartsWith(prefix, StringComparison.Ordinal)))
                {
                    continue;
                }

                metadata[key] = entry.Value;
            }

            metadata[MetadataKeys.Vocabulary] = _metadata[vocabularyKey];
            if (_metadata.TryGetValue(kindKey, out string? kind))
            {
                metadata[MetadataKeys.VocabularyKind] = kind;
            }

            var aliases = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [MetadataKeys.Vocabulary] = vocabularyKey,
                [MetadataKeys.VocabularyKind] = kindKey,
            };
            var half = new Builder(new WeightFile(_file.FileName, tensors, metadata)) { _keyAliases = aliases, _noHead = noHead };
            return (half.Build(), half);
        }

    }
}
