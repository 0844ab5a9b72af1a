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
    /// Adds matrix <paramref name="m"/> (rows <paramref name="start"/> .. + <paramref name="count"/>; all when -1) packed
    /// in the panel layout as <paramref name="name"/>: float32 as is; bfloat16 as one entry of bit patterns; int8 as a
    /// <c>{name}_Scales</c> float32 entry (one scale per padded row, padding rows 0) followed by the int8 entry (int8-dynamic:
    /// the same, the int8 entry in the dot layout of <see cref="Int8DotPacking"/>). The
    /// entries are lazy (<see cref="WeightEntry.Produce"/>): the generator plans from shapes alone, the build's pack step
    /// and the literal writer quantize, both through <see cref="WeightQuantizer"/>, so they agree bit for bit.
    /// </summary>
    private static void AddPacked(List<WeightEntry> weights, string name, string comment, Matrix m, WeightType type, int start = 0, int count = -1)
    {
        int rowCount = count < 0 ? m.Rows : count;
        int cols = m.Cols;
        int length = PanelPacking.PackedLength(rowCount, cols);
        Matrix Slice() => start == 0 && rowCount == m.Rows ? m : Rows(m, start, rowCount);
        if (type == WeightType.Float32)
        {
            weights.Add(new WeightEntry(name, comment, WeightElementType.Float32, length, () => PanelPacking.Pack(Slice())));
            return;
        }

        if (type == WeightType.BFloat16)
        {
            weights.Add(new WeightEntry(name, comment + ", bfloat16", WeightElementType.BFloat16, length, () =>
            {
                QuantizedMatrix q = WeightQuantizer.Quantize(Slice(), type);
                var packed = new ushort[length];
                for (int r = 0; r < rowCount; r++)
                {
                    for (int j = 0; j < cols; j++)
                    {
                        packed[PanelPacking.PackedIndex(r, j, rowCount, cols)] = q.BFloat16![(long)r * cols + j];
                    }
                }

                return packed;
            }));
            return;
        }

        weights.Add(new WeightEntry(name + "_Scales", $"{name}: int8 row scales ({rowCount},) padded", WeightElementType.Float32, PanelPacking.PaddedRows(rowCount), () =>
        {
            var scales = new float[PanelPacking.PaddedRows(rowCount)];
            System.Array.Copy(WeightQuantizer.Quantize(Slice(), type).Scales!, scales, rowCount);
            return scales;
        }));
        if (type == WeightType.Int8Dynamic)
        {
            // int8-dynamic: the same values and scales, in the dot layout (4 columns of a row together, Int8DotPacking).
            weights.Add(new WeightEntry(name, comment + ", int8-dynamic (scales in " + name + "_Scales)", WeightElementType.Int8Dot, Int8DotPacking.PackedLength(rowCount, cols), () =>
            {
                QuantizedMatrix q = WeightQuantizer.Quantize(Slice(), type);
                var values = new sbyte[Int8DotPacking.PackedLength(rowCount, cols)];
                for (int r = 0; r < rowCount; r++)
                {
                    for (int j = 0; j < cols; j++)
                    {
                        values[Int8DotPacking.PackedIndex(r, j, rowCount, cols)] = q.Int8![(long)r * cols + j];
                    }
                }

                return values;
            })
            {
                ScalesName = name + "_Scales",
            });
            return;
        }

        weights.Add(new WeightEntry(name, comment + ", int8 (scales in " + name + "_Scales)", WeightElementType.Int8, length, () =>
        {
            QuantizedMatrix q = WeightQuantizer.Quantize(Slice(), type);
            var values = new sbyte[length];
            for (int r = 0; r < rowCount; r++)
            {
                for (int j = 0; j < cols; j++)
                {
                    values[PanelPacking.PackedIndex(r, j, rowCount, cols)] = q.Int8![(long)r * cols + j];
                }
            }

            return values;
        })
        {
            ScalesName = name + "_Scales",
        });
    }
}
