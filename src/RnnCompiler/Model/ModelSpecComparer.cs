using System;
using System.Collections.Generic;
using System.Globalization;

namespace RnnEmbedded.Compiler.Model;

/// <summary>Structural comparison of two specs: sizes, variants, vocabulary and every weight bit for bit.</summary>
public static class ModelSpecComparer
{
    /// <summary>
    /// The first difference between <paramref name="expected"/> and <paramref name="actual"/> as a sentence, or
    /// null when they describe the same model. Metadata is compared only when <paramref name="compareMetadata"/>.
    /// </summary>
    public static string? FirstDifference(ModelSpec expected, ModelSpec actual, bool compareMetadata = false)
    {
        if (expected is null)
        {
            throw new ArgumentNullException(nameof(expected));
        }

        if (actual is null)
        {
            throw new ArgumentNullException(nameof(actual));
        }

        string? d = Value("InputKind", expected.InputKind, actual.InputKind)
            ?? Value("InputSize", expected.InputSize, actual.InputSize)
            ?? Value("Task", expected.Task, actual.Task)
            ?? Matrix("Embedding", expected.Embedding, actual.Embedding)
            ?? Dense("ImageProjection", expected.ImageProjection, actual.ImageProjection)
            ?? Dense("Head", expected.Head, actual.Head)
            ?? Vocabulary(expected.Vocabulary, actual.Vocabulary)
            ?? Labels(expected.Labels, actual.Labels)
            ?? DenseList("InputLayers", expected.InputLayers, actual.InputLayers)
            ?? DenseList("HeadLayers", expected.HeadLayers, actual.HeadLayers)
            ?? Value("Output", expected.Output, actual.Output)
            ?? Value("Layers.Count", expected.Layers.Count, actual.Layers.Count)
            ?? Value("Encoder", expected.Encoder is null ? "none" : "present", actual.Encoder is null ? "none" : "present");
        if (d is not null)
        {
            return d;
        }

        if (expected.Encoder is not null && FirstDifference(expected.Encoder, actual.Encoder!, compareMetadata: false) is { } inEncoder)
        {
            return "Encoder." + inEncoder;
        }

        for (int k = 0; k < expected.Layers.Count; k++)
        {
            LayerSpec e = expected.Layers[k];
            LayerSpec a = actual.Layers[k];
            string p = $"Layers[{k}].";
            d = Value(p + "Cell", e.Cell, a.Cell)
                ?? Value(p + "InputSize", e.InputSize, a.InputSize)
                ?? Value(p + "HiddenSize", e.HiddenSize, a.HiddenSize)
                ?? Value(p + "ProjectionSize", e.ProjectionSize, a.ProjectionSize)
                ?? Value(p + "Activation", e.Activation, a.Activation)
                ?? Value(p + "GruForm", e.GruForm, a.GruForm)
                ?? Value(p + "Cifg", e.Cifg, a.Cifg)
                ?? Value(p + "Clip", e.Clip ?? 0f, a.Clip ?? 0f) // 0: no clipping (never a valid bound)
                ?? Value(p + "Reverse", e.Reverse, a.Reverse)
                ?? Direction(p + "Forward", e.Forward, a.Forward)
                ?? (e.Backward is null || a.Backward is null
                    ? Value(p + "Bidirectional", e.Bidirectional, a.Bidirectional)
                    : Direction(p + "Backward", e.Backward, a.Backward));
            if (d is not null)
            {
                return d;
            }
        }

        if (compareMetadata)
        {
            d = Value("Metadata.Count", expected.Metadata.Count, actual.Metadata.Count);
            if (d is not null)
            {
                return d;
            }

            foreach (KeyValuePair<string, string> entry in expected.Metadata)
            {
                if (!actual.Metadata.TryGetValue(entry.Key, out string? value) || !string.Equals(value, entry.Value, StringComparison.Ordinal))
                {
                    return $"Metadata['{entry.Key}']: expected '{entry.Value}', actual '{value ?? "(absent)"}'";
                }
            }
        }

        return null;
    }

    private static string? Direction(string name, DirectionWeights e, DirectionWeights a) =>
        Matrix(name + ".W_ih", e.W_ih, a.W_ih)
        ?? Matrix(name + ".W_hh", e.W_hh, a.W_hh)
        ?? Vector(name + ".b_ih", e.b_ih, a.b_ih)
        ?? Vector(name + ".b_hh", e.b_hh, a.b_hh)
        ?? Matrix(name + ".W_hr", e.W_hr, a.W_hr)
        ?? Matrix(name + ".Peepholes", e.Peepholes, a.Peepholes);

    private static string? Dense(string name, DenseSpec? e, DenseSpec? a)
    {
        if (e is null || a is null)
        {
            return e is null && a is null ? null : $"{name}: expected {(e is null ? "none" : "present")}, actual {(a is null ? "none" : "present")}";
        }

        return Matrix(name + ".W", e.W, a.W) ?? Vector(name + ".b", e.b, a.b) ?? Value(name + ".Activation", e.Activation, a.Activation);
    }

    private static string? DenseList(string name, IReadOnlyList<DenseSpec> e, IReadOnlyList<DenseSpec> a)
    {
        string? d = Value(name + ".Count", e.Count, a.Count);
        for (int i = 0; d is null && i < e.Count; i++)
        {
            d = Dense($"{name}[{i}]", e[i], a[i]);
        }

        return d;
    }

    private static string? Matrix(string name, Matrix? e, Matrix? a)
    {
        if (e is null || a is null)
        {
            return e is null && a is null ? null : $"{name}: expected {(e is null ? "none" : "present")}, actual {(a is null ? "none" : "present")}";
        }

        if (e.Rows != a.Rows || e.Cols != a.Cols)
        {
            return $"{name}: expected shape [{e.Rows}, {e.Cols}], actual [{a.Rows}, {a.Cols}]";
        }

        return Vector(name, e.Data, a.Data);
    }

    private static string? Vector(string name, float[]? e, float[]? a)
    {
        if (e is null || a is null)
        {
            return e is null && a is null ? null : $"{name}: expected {(e is null ? "none" : "present")}, actual {(a is null ? "none" : "present")}";
        }

        if (e.Length != a.Length)
        {
            return $"{name}: expected length {e.Length}, actual {a.Length}";
        }

        for (int i = 0; i < e.Length; i++)
        {
            if (Bits(e[i]) != Bits(a[i]))
            {
                return $"{name}[{i}]: expected {e[i].ToString("R", CultureInfo.InvariantCulture)}, actual {a[i].ToString("R", CultureInfo.InvariantCulture)}";
            }
        }

        return null;
    }

    /// <summary>The IEEE bits, so −0 ≠ +0 and NaN payloads count (netstandard2.0 lacks BitConverter.SingleToInt32Bits).</summary>
    private static unsafe int Bits(float value) => *(int*)&value;

    private static string? Vocabulary(Vocabulary? e, Vocabulary? a)
    {
        if (e is null || a is null)
        {
            return e is null && a is null ? null : $"Vocabulary: expected {(e is null ? "none" : "present")}, actual {(a is null ? "none" : "present")}";
        }

        string? d = Value("Vocabulary.Kind", e.Kind, a.Kind) ?? Value("Vocabulary.Count", e.Count, a.Count);
        if (d is not null)
        {
            return d;
        }

        for (int i = 0; i < e.Count; i++)
        {
            if (!string.Equals(e.Tokens[i], a.Tokens[i], StringComparison.Ordinal))
            {
                return $"Vocabulary.Tokens[{i}]: expected '{e.Tokens[i]}', actual '{a.Tokens[i]}'";
            }
        }

        return null;
    }

    private static string? Labels(IReadOnlyList<string>? e, IReadOnlyList<string>? a)
    {
        if (e is null || a is null)
        {
            return e is null && a is null ? null : $"Labels: expected {(e is null ? "none" : "present")}, actual {(a is null ? "none" : "present")}";
        }

        string? d = Value("Labels.Count", e.Count, a.Count);
        for (int i = 0; d is null && i < e.Count; i++)
        {
            if (!string.Equals(e[i], a[i], StringComparison.Ordinal))
            {
                d = $"Labels[{i}]: expected '{e[i]}', actual '{a[i]}'";
            }
        }

        return d;
    }

    private static string? Value<T>(string name, T e, T a)
        where T : notnull =>
        EqualityComparer<T>.Default.Equals(e, a) ? null : $"{name}: expected {e}, actual {a}";
}
