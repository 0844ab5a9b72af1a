using System.Collections.Generic;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Emit;

// Streamed matrices in their weight type (docs/model-format.md, "Weight types"): the one place the planner turns a
// matrix into weight entries.
public static partial class ModelPlanner
{
    /// <summary>Whether layer 0 takes tokens as rows of a float32 table (folded embedding or one-hot columns).</summary>
    public static bool UsesTokenTable(ModelSpec spec) =>
        PlanTokenInput(spec)?.Route is InputRoute.FoldedTableRow or InputRoute.OneHotColumn;

    /// <summary>
    /// Adds matrix <paramref name="m"/> packed in the panel layout as <paramref name="name"/>: float32 as is; bfloat16
    /// as one entry of bit patterns; int8 as a <c>{name}_Scales</c> float32 entry (one scale per padded row, padding
    /// rows 0) followed by the int8 entry.
    /// </summary>
    private static void AddPacked(List<WeightEntry> weights, string name, string comment, Matrix m, WeightType type)
    {
        if (type == WeightType.Float32)
        {
            weights.Add(new WeightEntry(name, comment, PanelPacking.Pack(m)));
            return;
        }

        QuantizedMatrix q = WeightQuantizer.Quantize(m, type);
        int rows = PanelPacking.PaddedRows(m.Rows);
        int length = PanelPacking.PackedLength(m.Rows, m.Cols);
        if (type == WeightType.BFloat16)
        {
            var packed = new ushort[length];
            for (int r = 0; r < m.Rows; r++)
            {
                for (int j = 0; j < m.Cols; j++)
                {
                    packed[PanelPacking.PackedIndex(r, j, m.Rows, m.Cols)] = q.BFloat16![(long)r * m.Cols + j];
                }
            }

            weights.Add(WeightEntry.FromBFloat16(name, comment + ", bfloat16", packed));
            return;
        }

        var values = new sbyte[length];
        for (int r = 0; r < m.Rows; r++)
        {
            for (int j = 0; j < m.Cols; j++)
            {
                values[PanelPacking.PackedIndex(r, j, m.Rows, m.Cols)] = q.Int8![(long)r * m.Cols + j];
            }
        }

        var scales = new float[rows];
        System.Array.Copy(q.Scales!, scales, m.Rows);
        weights.Add(new WeightEntry(name + "_Scales", $"{name}: int8 row scales ({m.Rows},) padded", scales));
        weights.Add(WeightEntry.FromInt8(name, comment + ", int8 (scales in " + name + "_Scales)", values, name + "_Scales"));
    }
}
