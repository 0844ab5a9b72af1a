using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;

namespace RnnEmbedded.Cli.Visualize;

/// <summary>One cell's value after every step: layer, state kind (h or c) and index.</summary>
public sealed record CellSeries(int Layer, char Kind, int Cell, float[] Values);

/// <summary>The states of one layer after every step, cell-major: H[cell][step], C[cell][step] (C empty unless LSTM).</summary>
public sealed record LayerActivations(int Layer, CellKind Cell, float[][] H, float[][] C);

/// <summary>
/// The reference engine run over a text, one character per step, with every recorded layer's h and c kept after
/// each step. Characters outside the vocabulary are not fed (the state carries over them); they keep their place
/// in <see cref="Text"/> with <see cref="StepOf"/> = −1.
/// </summary>
public sealed class ActivationTrace
{
    private ActivationTrace(string[] text, int[] stepOf, int steps, IReadOnlyList<LayerActivations> layers)
    {
        Text = text;
        StepOf = stepOf;
        Steps = steps;
        Layers = layers;
    }

    /// <summary>The text, one string per Unicode scalar.</summary>
    public string[] Text { get; }

    /// <summary>Per character of <see cref="Text"/>: the step that read it, or −1 when it is not in the vocabulary.</summary>
    public int[] StepOf { get; }

    /// <summary>Characters fed to the model.</summary>
    public int Steps { get; }

    /// <summary>The recorded layers (every layer, or the one asked for).</summary>
    public IReadOnlyList<LayerActivations> Layers { get; }

    /// <summary>
    /// Runs <paramref name="spec"/> (unidirectional, character vocabulary) over <paramref name="text"/> from the zero
    /// state, recording <paramref name="layer"/> or, when null, every layer.
    /// </summary>
    public static ActivationTrace Record(ModelSpec spec, string[] text, int? layer)
    {
        Vocabulary vocabulary = spec.Vocabulary ?? throw new ArgumentException("The model has no vocabulary.", nameof(spec));
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < vocabulary.Count; i++)
        {
            ids.TryAdd(vocabulary.Tokens[i], i);
        }

        var stepOf = new int[text.Length];
        var tokens = new List<int>(text.Length);
        for (int t = 0; t < text.Length; t++)
        {
            if (ids.TryGetValue(text[t], out int id))
            {
                stepOf[t] = tokens.Count;
                tokens.Add(id);
            }
            else
            {
                stepOf[t] = -1;
            }
        }

        int first = layer ?? 0;
        int last = layer ?? spec.Layers.Count - 1;
        var layers = new List<LayerActivations>();
        for (int k = first; k <= last; k++)
        {
            LayerSpec l = spec.Layers[k];
            int cSize = l.Cell == CellKind.Lstm ? l.HiddenSize : 0;
            layers.Add(new LayerActivations(k, l.Cell, NewSeries(l.StateSize, tokens.Count), NewSeries(cSize, tokens.Count)));
        }

        var engine = new ReferenceEngine(spec);
        var output = new float[spec.OutputSize];
        var hBuffers = new float[layers.Count][];
        var cBuffers = new float[layers.Count][];
        for (int i = 0; i < layers.Count; i++)
        {
            hBuffers[i] = new float[layers[i].H.Length];
            cBuffers[i] = new float[layers[i].C.Length];
        }

        for (int step = 0; step < tokens.Count; step++)
        {
            engine.Step(tokens[step], output);
            for (int i = 0; i < layers.Count; i++)
            {
                engine.CopyLayerState(layers[i].Layer, hBuffers[i], cBuffers[i]);
                Scatter(hBuffers[i], layers[i].H, step);
                Scatter(cBuffers[i], layers[i].C, step);
            }
        }

        return new ActivationTrace(text, stepOf, tokens.Count, layers);
    }

    /// <summary>Every recorded cell: per layer, h cells then c cells, in index order.</summary>
    public IEnumerable<CellSeries> Series()
    {
        foreach (LayerActivations layer in Layers)
        {
            for (int j = 0; j < layer.H.Length; j++)
            {
                yield return new CellSeries(layer.Layer, 'h', j, layer.H[j]);
            }

            for (int j = 0; j < layer.C.Length; j++)
            {
                yield return new CellSeries(layer.Layer, 'c', j, layer.C[j]);
            }
        }
    }

    /// <summary>A per-character array (such as a feature) restricted to the characters that were fed, in step order.</summary>
    public double[] AtSteps(double[] perCharacter)
    {
        var values = new double[Steps];
        for (int t = 0; t < StepOf.Length; t++)
        {
            if (StepOf[t] >= 0)
            {
                values[StepOf[t]] = perCharacter[t];
            }
        }

        return values;
    }

    private static float[][] NewSeries(int cells, int steps)
    {
        var series = new float[cells][];
        for (int j = 0; j < cells; j++)
        {
            series[j] = new float[steps];
        }

        return series;
    }

    private static void Scatter(float[] state, float[][] series, int step)
    {
        for (int j = 0; j < state.Length; j++)
        {
            series[j][step] = state[j];
        }
    }
}
