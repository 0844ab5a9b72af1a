using System;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Reference;

/// <summary>
/// The oracle for sequence-to-sequence models (<see cref="ModelTask.Seq2Seq"/>): <see cref="Encode"/> runs the
/// encoder stack over the source from the zero state and hands each layer's final h (and c, when both cells are
/// LSTM with the same H; see <see cref="ModelBuilder.CarriesCellState"/>) to the decoder layer of the same index;
/// <see cref="Step"/> then advances the decoder like any token model. docs/model-format.md, "Sequence to sequence".
/// </summary>
public sealed class Seq2SeqReference
{
    private readonly ModelSpec _spec;
    private readonly ReferenceEngine _decoder;

    public Seq2SeqReference(ModelSpec spec)
    {
        _spec = spec ?? throw new ArgumentNullException(nameof(spec));
        if (spec.Encoder is null)
        {
            throw new ArgumentException("The model is not a seq2seq model (it has no encoder).", nameof(spec));
        }

        _decoder = new ReferenceEngine(spec);
    }

    /// <summary>The decoder: its state after <see cref="Encode"/>, and its <c>Step</c>.</summary>
    public ReferenceEngine Decoder => _decoder;

    /// <summary>The encoder's final state, layer by layer as <see cref="ReferenceEngine.GetState"/> lays it out.</summary>
    public static float[] EncoderFinalState(ModelSpec encoder, int[] source)
    {
        var engine = new ReferenceEngine(encoder);
        var output = new float[encoder.OutputSize];
        foreach (int token in source)
        {
            engine.Step(token, output);
        }

        return engine.GetState();
    }

    /// <summary>Runs the encoder over <paramref name="source"/> (token ids of the source vocabulary) and sets the decoder's state from its final state.</summary>
    public void Encode(int[] source)
    {
        if (source is null)
        {
            throw new ArgumentNullException(nameof(source));
        }

        ModelSpec encoder = _spec.Encoder!;
        float[] encoded = EncoderFinalState(encoder, source);
        var state = new float[_decoder.StateLength];
        int from = 0;
        int to = 0;
        for (int l = 0; l < _spec.Layers.Count; l++)
        {
            LayerSpec e = encoder.Layers[l];
            LayerSpec d = _spec.Layers[l];
            int eC = e.Cell == CellKind.Lstm ? e.HiddenSize : 0;
            int dC = d.Cell == CellKind.Lstm ? d.HiddenSize : 0;
            Array.Copy(encoded, from, state, to, d.StateSize); // h: equal sizes (the builder's rule)
            if (ModelBuilder.CarriesCellState(e, d))
            {
                Array.Copy(encoded, from + e.StateSize, state, to + d.StateSize, dC);
            }

            from += e.StateSize + eC;
            to += d.StateSize + dC;
        }

        _decoder.SetState(state);
    }

    /// <summary>One decoder step on target token <paramref name="token"/>; writes the target vocabulary's logits.</summary>
    public void Step(int token, float[] output) => _decoder.Step(token, output);

    /// <summary>
    /// Teacher-forced run: encode <paramref name="source"/>, then step the decoder over <paramref name="target"/>
    /// (usually start followed by the target tokens); row t holds step t's logits.
    /// </summary>
    public static float[][] Run(ModelSpec spec, int[] source, int[] target)
    {
        var engine = new Seq2SeqReference(spec);
        engine.Encode(source);
        var outputs = new float[target.Length][];
        for (int t = 0; t < target.Length; t++)
        {
            outputs[t] = new float[spec.OutputSize];
            engine.Step(target[t], outputs[t]);
        }

        return outputs;
    }
}
