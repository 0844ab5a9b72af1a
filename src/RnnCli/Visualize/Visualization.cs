using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Cli.Visualize;

/// <summary>What the page says about one feature: its top cells, and every cell's r (null when the feature is constant).</summary>
public sealed record FeatureResult(TextFeature Feature, bool Constant, List<RankedCell> Top, Dictionary<string, double[]>? R);

/// <summary>
/// Everything <c>rnn visualize</c> computes — the trace of h and c, the features and the ranked cells — and the
/// self-contained HTML page that shows it (template: Visualize/viewer.html, embedded in the tool).
/// </summary>
public sealed class Visualization
{
    /// <summary>Default cap on the characters visualized (--max-chars).</summary>
    public const int DefaultMaxChars = 20_000;

    /// <summary>Cells listed per feature.</summary>
    public const int TopCount = 10;

    private const string TemplateResource = "RnnEmbedded.Cli.Visualize.viewer.html";

    private Visualization(ActivationTrace trace, int totalCharacters, int maxChars, List<FeatureResult> features)
    {
        Trace = trace;
        TotalCharacters = totalCharacters;
        MaxChars = maxChars;
        Features = features;
    }

    public ActivationTrace Trace { get; }

    /// <summary>Characters in the text before the cap.</summary>
    public int TotalCharacters { get; }

    public int MaxChars { get; }

    public bool Truncated => TotalCharacters > Trace.Text.Length;

    public List<FeatureResult> Features { get; }

    /// <summary>Characters of the text that are not in the vocabulary, with how often each occurs, most frequent first.</summary>
    public List<(string Character, int Count)> Skipped()
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int t = 0; t < Trace.Text.Length; t++)
        {
            if (Trace.StepOf[t] < 0)
            {
                counts[Trace.Text[t]] = counts.GetValueOrDefault(Trace.Text[t]) + 1;
            }
        }

        var list = counts.Select(p => (p.Key, p.Value)).ToList();
        list.Sort(static (a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.Key, b.Key));
        return list;
    }

    /// <summary>
    /// The text as the page shows it: "\r\n" and lone "\r" become "\n", then one string per Unicode scalar
    /// (an unpaired surrogate becomes U+FFFD), at most <paramref name="maxChars"/> of them.
    /// </summary>
    public static (string[] Characters, int Total) SplitText(string text, int maxChars)
    {
        string normalized = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        var characters = new List<string>(Math.Min(normalized.Length, maxChars));
        int total = 0;
        foreach (Rune rune in normalized.EnumerateRunes())
        {
            if (total < maxChars)
            {
                characters.Add(rune.ToString());
            }

            total++;
        }

        return (characters.ToArray(), total);
    }

    /// <summary>Runs the model over the text and ranks the cells for every feature in <see cref="TextFeatures.All"/>.</summary>
    public static Visualization Build(ModelSpec spec, string text, int maxChars, int? layer)
    {
        (string[] characters, int total) = SplitText(text, maxChars);
        ActivationTrace trace = ActivationTrace.Record(spec, characters, layer);
        var results = new List<FeatureResult>();
        foreach (TextFeature feature in TextFeatures.All)
        {
            double[] values = trace.AtSteps(feature.Compute(characters));
            if (CellCorrelation.IsConstant(values))
            {
                results.Add(new FeatureResult(feature, true, [], null));
                continue;
            }

            var r = new Dictionary<string, double[]>(StringComparer.Ordinal);
            foreach (LayerActivations activations in trace.Layers)
            {
                r[Key(activations.Layer, 'h')] = activations.H.Select(cell => CellCorrelation.Pearson(cell, values)).ToArray();
                if (activations.C.Length > 0)
                {
                    r[Key(activations.Layer, 'c')] = activations.C.Select(cell => CellCorrelation.Pearson(cell, values)).ToArray();
                }
            }

            results.Add(new FeatureResult(feature, false, CellCorrelation.Rank(trace.Series(), values, TopCount), r));
        }

        return new Visualization(trace, total, maxChars, results);
    }

    /// <summary>
    /// A cell's values quantized to int8 against its own scale s = max |value|: q = round(127 v / s), read back as
    /// v ≈ q s / 127 (error ≤ s / 254). A cell that is 0 throughout has s = 0 and q = 0.
    /// </summary>
    public static (float Scale, sbyte[] Quantized) Quantize(float[] values)
    {
        float scale = 0f;
        foreach (float v in values)
        {
            scale = Math.Max(scale, Math.Abs(v));
        }

        var q = new sbyte[values.Length];
        if (scale > 0f)
        {
            for (int i = 0; i < values.Length; i++)
            {
                q[i] = (sbyte)Math.Clamp((int)Math.Round(values[i] / scale * 127f, MidpointRounding.AwayFromZero), -127, 127);
            }
        }

        return (scale, q);
    }

    /// <summary>Writes the page: the template with the data embedded as JSON (no network access needed to view it).</summary>
    public void WriteHtml(Stream destination, string modelName, string architecture, string sourceName)
    {
        string template;
        using (Stream resource = Assembly.GetExecutingAssembly().GetManifestResourceStream(TemplateResource)
            ?? throw new InvalidOperationException($"The page template {TemplateResource} is missing from the tool."))
        using (var reader = new StreamReader(resource, Encoding.UTF8))
        {
            template = reader.ReadToEnd();
        }

        const string DataMarker = "{{DATA}}";
        int at = template.IndexOf(DataMarker, StringComparison.Ordinal);
        string head = template.Substring(0, at).Replace("{{TITLE}}", WebUtility.HtmlEncode(modelName), StringComparison.Ordinal);
        string tail = template.Substring(at + DataMarker.Length);

        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        destination.Write(utf8.GetBytes(head));
        // The default encoder escapes <, >, & and non-ASCII, so the JSON cannot close the <script> element.
        using (var json = new Utf8JsonWriter(destination))
        {
            WriteData(json, modelName, architecture, sourceName);
        }

        destination.Write(utf8.GetBytes(tail));
    }

    /// <summary>"Embedding (63, 64) → LSTM (256) → Dense (63)".</summary>
    public static string Architecture(ModelSpec spec)
    {
        var sb = new StringBuilder();
        sb.Append(spec.InputKind switch
        {
            InputKind.Embedding => $"Embedding ({spec.InputSize}, {spec.Embedding!.Cols})",
            InputKind.OneHot => $"One-hot ({spec.InputSize})",
            _ => $"Dense input ({spec.InputSize})",
        });
        foreach (LayerSpec layer in spec.Layers)
        {
            sb.Append(" → ").Append(CellNames.DisplayName(layer.Cell)).Append(" (").Append(layer.HiddenSize);
            if (layer.ProjectionSize > 0)
            {
                sb.Append(", proj ").Append(layer.ProjectionSize);
            }

            sb.Append(')');
        }

        foreach (DenseSpec dense in spec.HeadStack)
        {
            sb.Append(" → Dense (").Append(dense.OutputSize).Append(')');
        }

        if (spec.Output != OutputFunction.None)
        {
            sb.Append(spec.Output switch
            {
                OutputFunction.Softmax => " → softmax",
                OutputFunction.LogSoftmax => " → log-softmax",
                _ => " → sigmoid",
            });
        }

        return sb.ToString();
    }

    /// <summary>"'\"' ×2, '7' ×1".</summary>
    public string SkippedSummary() =>
        string.Join(", ", Skipped().Select(s => $"'{TextFormat.Printable(s.Character)}' ×{s.Count}"));

    private static string Key(int layer, char kind) => layer.ToString(CultureInfo.InvariantCulture) + kind;

    private void WriteData(Utf8JsonWriter json, string modelName, string architecture, string sourceName)
    {
        json.WriteStartObject();
        json.WriteString("model", modelName);
        json.WriteString("architecture", architecture);
        json.WriteString("source", sourceName);
        json.WriteString("text", string.Concat(Trace.Text));
        json.WriteNumber("shown", Trace.Text.Length);
        json.WriteNumber("total", TotalCharacters);
        json.WriteNumber("maxChars", MaxChars);
        json.WriteBoolean("truncated", Truncated);
        json.WriteNumber("steps", Trace.Steps);
        json.WriteStartArray("skipped");
        for (int t = 0; t < Trace.StepOf.Length; t++)
        {
            if (Trace.StepOf[t] < 0)
            {
                json.WriteNumberValue(t);
            }
        }

        json.WriteEndArray();
        json.WriteString("skippedSummary", SkippedSummary());

        json.WriteStartArray("layers");
        foreach (LayerActivations layer in Trace.Layers)
        {
            json.WriteStartObject();
            json.WriteNumber("index", layer.Layer);
            json.WriteString("cell", CellNames.DisplayName(layer.Cell));
            json.WriteNumber("h", layer.H.Length);
            json.WriteNumber("c", layer.C.Length);
            json.WriteEndObject();
        }

        json.WriteEndArray();

        json.WriteStartObject("series");
        foreach (LayerActivations layer in Trace.Layers)
        {
            WriteSeries(json, Key(layer.Layer, 'h'), layer.H);
            if (layer.C.Length > 0)
            {
                WriteSeries(json, Key(layer.Layer, 'c'), layer.C);
            }
        }

        json.WriteEndObject();

        json.WriteStartArray("features");
        foreach (FeatureResult result in Features)
        {
            json.WriteStartObject();
            json.WriteString("id", result.Feature.Id);
            json.WriteString("name", result.Feature.Name);
            json.WriteString("short", result.Feature.ShortName);
            json.WriteString("description", result.Feature.Description);
            json.WriteBoolean("constant", result.Constant);
            if (result.Constant)
            {
                json.WriteString("note", "Constant in this text, so no cell correlates with it.");
            }

            json.WriteStartArray("top");
            foreach (RankedCell cell in result.Top)
            {
                json.WriteStartObject();
                json.WriteNumber("layer", cell.Layer);
                json.WriteString("kind", cell.Kind.ToString());
                json.WriteNumber("cell", cell.Cell);
                json.WriteNumber("r", Math.Round(cell.R, 4));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (result.R is null)
            {
                json.WriteNull("r");
            }
            else
            {
                json.WriteStartObject("r");
                foreach ((string key, double[] values) in result.R)
                {
                    json.WriteStartArray(key);
                    foreach (double r in values)
                    {
                        if (double.IsNaN(r))
                        {
                            json.WriteNullValue();
                        }
                        else
                        {
                            json.WriteNumberValue(Math.Round(r, 3));
                        }
                    }

                    json.WriteEndArray();
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();

        // The page opens on the cell most correlated with any feature.
        RankedCell? initial = null;
        foreach (FeatureResult result in Features)
        {
            if (result.Top.Count > 0 && (initial is null || Math.Abs(result.Top[0].R) > Math.Abs(initial.R)))
            {
                initial = result.Top[0];
            }
        }


        LayerActivations firstLayer = Trace.Layers[0];
        json.WriteStartObject("initial");
        json.WriteNumber("layer", initial?.Layer ?? firstLayer.Layer);
        json.WriteString("kind", (initial?.Kind ?? 'h').ToString());
        json.WriteNumber("cell", initial?.Cell ?? 0);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteSeries(Utf8JsonWriter json, string key, float[][] cells)
    {
        json.WriteStartObject(key);
        json.WriteStartArray("scale");
        var quantized = new sbyte[cells.Length][];
        for (int j = 0; j < cells.Length; j++)
        {
            (float scale, sbyte[] q) = Quantize(cells[j]);
            quantized[j] = q;
            json.WriteNumberValue(scale);
        }

        json.WriteEndArray();
        json.WriteStartArray("q");
        foreach (sbyte[] q in quantized)
        {
            json.WriteBase64StringValue(System.Runtime.InteropServices.MemoryMarshal.AsBytes(q.AsSpan()));
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
