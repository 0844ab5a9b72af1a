using System.Globalization;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Formats.Onnx;

// The LSTM/GRU/RNN attribute 'clip': imported as the layer's gate pre-activation clip (rnn.clip; docs/model-format.md,
// "Clipping"), which the reference engine and the generated code apply where ONNX Runtime's CPU kernels do.
public static partial class OnnxImporter
{
    private sealed partial class Importer
    {
        /// <summary>The node's clip bound; +∞ means none. Anything but a positive number is an error naming the node.</summary>
        private float? ClipBound(OnnxNode node, float bound)
        {
            if (float.IsPositiveInfinity(bound))
            {
                return null;
            }

            if (!(bound > 0f))
            {
                throw NodeError(node, $"attribute 'clip' ({bound.ToString("R", CultureInfo.InvariantCulture)}) must be a positive number: it bounds every activation's input to [-clip, clip]");
            }

            return bound;
        }

        /// <summary>rnn.clip for the imported stack (one bound, or one entry per layer); null when no node clips.</summary>
        private string? ClipMetadata()
        {
            var clips = new float?[_layers.Count];
            for (int i = 0; i < clips.Length; i++)
            {
                clips[i] = _layers[i].Clip;
            }

            return ModelBuilder.ClipText(clips);
        }
    }
}
