using System.Collections.Generic;

namespace RnnEmbedded.Compiler.Model;

/// <summary>
/// How cells are named to people — in builder errors, <c>rnn inspect</c> and generated comments — in one place.
/// Variant names are the weight file's metadata values (docs/model-format.md), so what a tool prints is what a file says.
/// </summary>
public static class CellNames
{
    /// <summary>"LSTM", "GRU" or "RNN".</summary>
    public static string DisplayName(CellKind cell) => cell switch
    {
        CellKind.Lstm => "LSTM",
        CellKind.Gru => "GRU",
        _ => "RNN",
    };

    /// <summary>
    /// The variant of a layer's cell: LSTM "standard" or any of "cifg", "peepholes", "projection" joined by '+';
    /// GRU "reset_after" or "reset_before"; RNN its nonlinearity, "tanh", "relu" or "sigmoid".
    /// </summary>
    public static string Variant(LayerSpec layer)
    {
        switch (layer.Cell)
        {
            case CellKind.Lstm:
                var parts = new List<string>();
                if (layer.Cifg)
                {
                    parts.Add("cifg");
                }

                if (layer.HasPeepholes)
                {
                    parts.Add("peepholes");
                }

                if (layer.ProjectionSize > 0)
                {
                    parts.Add("projection");
                }

                return parts.Count == 0 ? "standard" : string.Join("+", parts);
            case CellKind.Gru:
                return MetadataKeys.ToText(layer.GruForm);
            default:
                return MetadataKeys.ToText(layer.Activation);
        }
    }
}
