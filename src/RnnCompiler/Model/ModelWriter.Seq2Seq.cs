using System;
using System.Collections.Generic;
using RnnEmbedded.Compiler.Formats;

namespace RnnEmbedded.Compiler.Model;

// Seq2seq models: each half written as a token model of its own, its tensors under 'encoder.' / 'decoder.'
// (encoder.embedding.weight, encoder.rnn.weight_ih_l0, …, decoder.head.weight), the source vocabulary under
// rnn.source.vocab. Input kinds are left to the builder's shape rules (embedding when present, else one-hot).
public static partial class ModelWriter
{
    private static (IReadOnlyList<Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata) SequenceToSequenceTensors(ModelSpec spec)
    {
        ModelSpec encoder = spec.Encoder!;
        if (spec.InputLayers.Count > 0 || spec.HeadLayers.Count > 0 || spec.Output != OutputFunction.None
            || encoder.InputLayers.Count > 0 || encoder.HeadLayers.Count > 0 || encoder.Output != OutputFunction.None
            || (spec.Head?.Activation ?? DenseActivation.Identity) != DenseActivation.Identity)
        {
            string rule = "layer stacks and output functions are not supported with rnn.task=seq2seq yet";
            throw new ArgumentException("The spec does not describe a valid seq2seq model: " + rule, nameof(spec), new RnnFormatException("<ModelWriter>", MetadataKeys.HeadLayers, rule));
        }

        if (encoder.Vocabulary is null || spec.Vocabulary is null)
        {
            throw new ArgumentException("A seq2seq model needs a source vocabulary (the encoder's) and a target vocabulary.", nameof(spec));
        }

        var encoderHalf = new ModelSpec
        {
            InputKind = encoder.InputKind,
            InputSize = encoder.InputSize,
            Embedding = encoder.Embedding,
            Layers = encoder.Layers,
            Vocabulary = encoder.Vocabulary,
        };
        var decoderHalf = new ModelSpec
        {
            InputKind = spec.InputKind,
            InputSize = spec.InputSize,
            Embedding = spec.Embedding,
            Layers = spec.Layers,
            Head = spec.Head,
            Vocabulary = spec.Vocabulary,
        };
        (IReadOnlyList<Tensor> encoderTensors, IReadOnlyDictionary<string, string> encoderMetadata) = ToTensors(encoderHalf);
        (IReadOnlyList<Tensor> decoderTensors, IReadOnlyDictionary<string, string> decoderMetadata) = ToTensors(decoderHalf);

        var tensors = new List<Tensor>();
        foreach (Tensor t in encoderTensors)
        {
            tensors.Add(new Tensor(ModelBuilder.EncoderPrefix + t.Name, t.Shape, t.Data));
        }

        foreach (Tensor t in decoderTensors)
        {
            tensors.Add(new Tensor(ModelBuilder.DecoderPrefix + t.Name, t.Shape, t.Data));
        }

        var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> entry in spec.Metadata)
        {
            if (!entry.Key.StartsWith(MetadataKeys.Namespace, StringComparison.Ordinal)
                || entry.Key.StartsWith(MetadataKeys.TrainPrefix, StringComparison.Ordinal))
            {
                metadata[entry.Key] = entry.Value;
            }
        }

        foreach (string key in new[] { MetadataKeys.Nonlinearity, MetadataKeys.GruForm, MetadataKeys.LstmCifg })
        {
            bool inEncoder = encoderMetadata.TryGetValue(key, out string? e);
            bool inDecoder = decoderMetadata.TryGetValue(key, out string? d);
            if (inEncoder && inDecoder && !string.Equals(e, d, StringComparison.Ordinal) || inEncoder != inDecoder)
            {
                throw new ArgumentException($"The encoder and decoder differ in '{key}'; a seq2seq file describes the cell variant once for both stacks.", nameof(spec));
            }

            if (inDecoder)
            {
                metadata[key] = d!;
            }
        }

        metadata[MetadataKeys.Format] = MetadataKeys.CurrentFormat;
        metadata[MetadataKeys.Task] = MetadataKeys.ToText(ModelTask.Seq2Seq);
        metadata[MetadataKeys.SourceVocabularyKind] = encoderMetadata[MetadataKeys.VocabularyKind];
        metadata[MetadataKeys.SourceVocabulary] = encoderMetadata[MetadataKeys.Vocabulary];
        metadata[MetadataKeys.VocabularyKind] = decoderMetadata[MetadataKeys.VocabularyKind];
        metadata[MetadataKeys.Vocabulary] = decoderMetadata[MetadataKeys.Vocabulary];
        if (spec.Head is not null)
        {
            metadata[MetadataKeys.Head] = ModelBuilder.DecoderPrefix + HeadModule;
        }

        ModelSpec rebuilt;
        try
        {
            rebuilt = ModelBuilder.Build(new WeightFile("<ModelWriter>", tensors, metadata));
        }
        catch (RnnFormatException e)
        {
            throw new ArgumentException("The spec does not describe a valid seq2seq model: " + e.Message, nameof(spec), e);
        }

        string? difference = ModelSpecComparer.FirstDifference(spec, rebuilt);
        if (difference is not null)
        {
            throw new ArgumentException("The spec is inconsistent (its sizes disagree with its weights): " + difference, nameof(spec));
        }

        return (tensors, metadata);
    }
}
