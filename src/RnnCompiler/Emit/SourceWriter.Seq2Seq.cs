namespace RnnEmbedded.Compiler.Emit;

// Seq2seq models: the source vocabulary's members and Encode on the decoder struct, and the encoder stack as the
// nested struct SourceEncoder (docs/model-format.md, "Sequence to sequence").
public static partial class SourceWriter
{
    /// <summary>The source members and <c>Encode(source)</c>: the encoder's final state becomes the decoder's.</summary>
    private static void WriteEncode(IndentedWriter w, ModelPlan plan)
    {
        if (plan.Encoder is not { } encoder)
        {
            return;
        }

        string e = encoder.TypeName;
        string v = Int(encoder.InputSize);
        w.Line();
        w.Line("/// <summary>Source vocabulary size: source tokens are ids in [0, SourceInputSize).</summary>");
        w.Line($"public static int SourceInputSize => {v};");
        w.Line();
        w.Line($"public static RnnRuntime.ModelVocabularyKind SourceVocabularyKind => {e}.VocabularyKind;");
        w.Line();
        w.Line("/// <summary>All source token texts concatenated; see SourceVocabularyOffsets.</summary>");
        w.Line($"public static ReadOnlySpan<char> SourceVocabularyText => {e}.VocabularyText;");
        w.Line();
        w.Line("/// <summary>SourceInputSize + 1 offsets into SourceVocabularyText.</summary>");
        w.Line($"public static ReadOnlySpan<int> SourceVocabularyOffsets => {e}.VocabularyOffsets;");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Runs the encoder over <paramref name=\"source\"/> from its zero state; the decoder's state becomes the");
        w.Line("/// encoder's final state, layer by layer (h; c where both cells are LSTM of the same size).");
        w.Line("/// </summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        w.Open("public void Encode(ReadOnlySpan<int> source)");
        w.Open("foreach (int token in source)");
        w.Line($"if ((uint)token >= {v}u) ModelGuard.ThrowToken(token, {v});");
        w.Close();
        w.Line();
        w.Line($"var encoder = default({e});");
        string o = Int(encoder.OutputSize);
        w.Line($"Span<float> last = stackalloc float[{o}]; // ({o},) the encoder's last-layer output, not used");
        w.Open("foreach (int token in source)");
        w.Line("encoder.Step(token, last);");
        w.Close();
        w.Line();
        w.Line("this = default;");
        for (int l = 0; l < plan.State.Count; l++)
        {
            string k = Int(l);
            w.Line($"((ReadOnlySpan<float>)encoder._h{k}).CopyTo(_h{k}); // layer {k} h");
            if (plan.CarryCell[l])
            {
                w.Line($"((ReadOnlySpan<float>)encoder._c{k}).CopyTo(_c{k}); // layer {k} c");
            }
            else if (plan.State[l].CellSize > 0)
            {
                w.Line($"// layer {k} c starts at zero: the encoder's layer {k} is not an LSTM of the same size");
            }
        }

        w.Close();
    }

    /// <summary>The encoder stack: a token model of its own, nested so its state stays private to the model.</summary>
    private static void WriteEncoder(IndentedWriter w, ModelPlan plan)
    {
        if (plan.Encoder is not { } encoder)
        {
            return;
        }

        w.Line();
        w.Line($"/// <summary>The encoder: {Xml(encoder.Shape)}. Encode runs it; its final state starts the decoder.</summary>");
        w.Line("[SkipLocalsInit]");
        WriteBody(w, encoder);
    }
}
