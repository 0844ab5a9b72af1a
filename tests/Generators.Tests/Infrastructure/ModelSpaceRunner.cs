using System.Collections.Immutable;
using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;

namespace RnnEmbedded.Tests.Infrastructure;

/// <summary>
/// Takes a batch of <see cref="ModelCase"/>s through the whole pipeline — ModelWriter → safetensors bytes →
/// ModelBuilder → the real generator (one driver, every case at every vector width) → one in-memory compilation →
/// the generated models run through <see cref="ModelRunner"/> against <see cref="ReferenceEngine"/> — and returns
/// every failure as a sentence that starts with the case's reproducer. Never stops at the first failure: a case
/// whose generated code does not compile is reported and removed, and the rest of the batch still runs.
/// </summary>
internal static partial class ModelSpaceRunner
{
    public static readonly int[] Widths = { 512, 256, 128, 0 };

    /// <summary>What one batch did.</summary>
    public sealed record BatchResult(int Accepted, int Rejected, int ModelsRun, IReadOnlyList<string> Failures, TimeSpan Generate = default, TimeSpan Compile = default, TimeSpan Execute = default)
    {
        public string Timing => $"generate {Generate.TotalSeconds:F1} s, compile {Compile.TotalSeconds:F1} s, run {Execute.TotalSeconds:F1} s";
    }

    /// <summary>Checks that the builder accepts exactly the cases <see cref="ModelCase.ExpectedRejection"/> allows; returns the accepted specs.</summary>
    public static List<(ModelCase Case, ModelSpec Spec, byte[] Bytes)> WriteAndRead(IEnumerable<ModelCase> cases, List<string> failures, out int rejected)
    {
        var accepted = new List<(ModelCase, ModelSpec, byte[])>();
        rejected = 0;
        foreach (ModelCase c in cases)
        {
            string? expectedRejection = c.ExpectedRejection();
            ModelSpec spec;
            IReadOnlyList<Tensor> tensors;
            IReadOnlyDictionary<string, string> metadata;
            try
            {
                spec = c.BuildSpec();
                (tensors, metadata) = ModelWriter.ToTensors(spec);
            }
            catch (ArgumentException e) when (e.InnerException is RnnFormatException)
            {
                // ModelWriter asks ModelBuilder, the one definition of a valid model, and wraps its RnnFormatException.
                rejected++;
                if (expectedRejection is null)
                {
                    failures.Add($"{c}: the builder rejects a model the format allows ({c.DescribeSizes()}): {e.InnerException.Message}");
                }

                continue;
            }
            catch (Exception e)
            {
                failures.Add($"{c}: writing the model threw {e.GetType().Name} instead of a builder verdict ({c.DescribeSizes()}): {e.Message}");
                continue;
            }

            if (expectedRejection is not null)
            {
                failures.Add($"{c}: the builder accepts a model that breaks the rule \"{expectedRejection}\" ({c.DescribeSizes()})");
                continue;
            }

            byte[] bytes = SafeTensorsWriter.Write(tensors, metadata);
            try
            {
                ModelSpec read = ModelBuilder.Build(SafeTensorsReader.Read(bytes, "case.safetensors"));
                string? difference = ModelSpecComparer.FirstDifference(spec, read);
                if (difference is not null)
                {
                    failures.Add($"{c}: the model read back differs from the one written: {difference}");
                    continue;
                }

                accepted.Add((c, read, bytes));
            }
            catch (RnnFormatException e)
            {
                failures.Add($"{c}: ModelWriter's bytes do not load: {e.Message}");
            }
        }

        return accepted;
    }

    /// <summary>The whole pipeline for <paramref name="cases"/>; see the type's summary.</summary>
    public static BatchResult Run(IReadOnlyList<ModelCase> cases)
    {
        var failures = new List<string>();
        List<(ModelCase Case, ModelSpec Spec, byte[] Bytes)> accepted = WriteAndRead(cases, failures, out int rejected);
        if (accepted.Count == 0)
        {
            return new BatchResult(0, rejected, 0, failures);
        }

        // One driver and one compilation for the whole batch: compiling is what costs.
        var items = new List<ModelItem>();
        for (int i = 0; i < accepted.Count; i++)
        {
            foreach (int width in Widths)
            {
                items.Add(new ModelItem(ClassName(i, width), accepted[i].Bytes, SourcePath: $"models/case{i}.safetensors", MaxVectorWidth: width.ToString(CultureInfo.InvariantCulture), WeightType: WeightTypes.Name(accepted[i].Case.Weights)));
            }
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        (_, Compilation output, ImmutableArray<Diagnostic> generatorDiagnostics) = GeneratorHarness.Run(GeneratorHarness.CreateDriver(items));
        TimeSpan generate = watch.Elapsed;
        var broken = new HashSet<int>();
        foreach (Diagnostic d in generatorDiagnostics)
        {
            if (d.Severity != DiagnosticSeverity.Error)
            {
                continue;
            }

            Match m = CaseFileRegex().Match(d.ToString());
            int index = m.Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
            if (index < 0)
            {
                failures.Add($"generator diagnostic that names no case: {d}");
                continue;
            }

            if (broken.Add(index))
            {
                failures.Add($"{accepted[index].Case}: the builder accepts it but the generator reports {d.Id}: {d.GetMessage(CultureInfo.InvariantCulture)}");
            }
        }

        Assembly? assembly = CompileDroppingBroken(output, accepted, broken, failures, out AssemblyLoadContext? context);
        TimeSpan compile = watch.Elapsed - generate;
        int modelsRun = 0;
        try
        {
            for (int i = 0; i < accepted.Count; i++)
            {
                if (broken.Contains(i) || assembly is null)
                {
                    continue;
                }

                (ModelCase c, ModelSpec spec, _) = accepted[i];
                int before = failures.Count;
                try
                {
                    Expected expected = Reference(c, spec);
                    foreach (int width in Widths)
                    {
                        Type type = assembly.GetType(ClassName(i, width), throwOnError: true)!;
                        CheckModel(c, spec, type, width, expected, failures);
                        modelsRun++;
                        if (failures.Count > before)
                        {
                            break; // one width's report is enough to reproduce
                        }
                    }
                }
                catch (Exception e)
                {
                    failures.Add($"{c}: {e.GetType().Name}: {e.Message} ({c.DescribeSizes()})");
                }
            }
        }
        finally
        {
            context?.Unload();
        }

        return new BatchResult(accepted.Count, rejected, modelsRun, failures, generate, compile, watch.Elapsed - generate - compile);
    }

    private static string ClassName(int index, int width) => $"ModelSpace.C{index}W{width}";

    [GeneratedRegex(@"models/case(\d+)\.safetensors")]
    private static partial Regex CaseFileRegex();

    [GeneratedRegex(@"ModelSpace\.C(\d+)W\d+")]
    private static partial Regex ClassRegex();

    /// <summary>Emits; a case whose generated code has errors is reported with its first errors and its trees removed.</summary>
    private static Assembly? CompileDroppingBroken(Compilation compilation, List<(ModelCase Case, ModelSpec Spec, byte[] Bytes)> accepted, HashSet<int> broken, List<string> failures, out AssemblyLoadContext? context)
    {
        context = null;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            using var pe = new MemoryStream();
            Microsoft.CodeAnalysis.Emit.EmitResult result = compilation.Emit(pe);
            if (result.Success)
            {
                pe.Position = 0;
                context = new AssemblyLoadContext("ModelSpace", isCollectible: true);
                return context.LoadFromStream(pe);
            }

            var treesToDrop = new List<SyntaxTree>();
            foreach (IGrouping<SyntaxTree?, Diagnostic> group in result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).GroupBy(d => d.Location.SourceTree))
            {
                Match m = group.Key is null ? Match.Empty : ClassRegex().Match(group.Key.FilePath);
                if (!m.Success)
                {
                    failures.Add("compilation errors outside any generated model: " + string.Join("; ", group.Take(3)));
                    return null;
                }

                int index = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                if (broken.Add(index))
                {
                    failures.Add($"{accepted[index].Case}: the generated code does not compile ({accepted[index].Case.DescribeSizes()}): {string.Join("; ", group.Take(3).Select(d => d.Id + " " + d.GetMessage(CultureInfo.InvariantCulture) + " at `" + LineText(d) + "`"))}");
                }

                treesToDrop.Add(group.Key!);
            }

            // Every width of a broken case goes, so the survivors compile on their own.
            foreach (SyntaxTree tree in compilation.SyntaxTrees)
            {
                Match m = ClassRegex().Match(tree.FilePath);
                if (m.Success && broken.Contains(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)) && !treesToDrop.Contains(tree))
                {
                    treesToDrop.Add(tree);
                }
            }

            compilation = compilation.RemoveSyntaxTrees(treesToDrop);
        }

        failures.Add("the batch still has compilation errors after removing the broken cases");
        return null;
    }

    private static string LineText(Diagnostic d)
    {
        if (d.Location.SourceTree is not { } tree)
        {
            return "";
        }

        string line = tree.GetText().Lines[d.Location.GetLineSpan().StartLinePosition.Line].ToString().Trim();
        return line.Length > 160 ? line[..160] + "…" : line;
    }

    /// <summary>The reference engine's outputs for every entry point the case's generated model has.</summary>
    private sealed record Expected(float[][] Sequence, float[][]? Caption, float[][]? Seq2Seq);

    private static Expected Reference(ModelCase c, ModelSpec spec)
    {
        (int[] tokens, float[][] dense, float[] image) = c.DrawInputs(spec);
        spec = WeightQuantizer.Apply(spec, c.Weights); // the math the generated model's stored weights stand for
        float[][] sequence = spec.InputKind == InputKind.Dense ? ReferenceEngine.Run(spec, dense) : ReferenceEngine.Run(spec, tokens);
        float[][]? caption = spec.ImageProjection is null ? null : ReferenceEngine.RunCaption(spec, image, tokens);
        float[][]? seq2seq = spec.Encoder is null ? null : Seq2SeqReference.Run(spec, c.DrawSource(spec), tokens);
        return new Expected(sequence, caption, seq2seq);
    }

    /// <summary>Calls every entry point the spec says the model has and compares each with the reference.</summary>
    private static void CheckModel(ModelCase c, ModelSpec spec, Type type, int width, Expected expected, List<string> failures)
    {
        (int[] tokens, float[][] dense, float[] image) = c.DrawInputs(spec);
        string where = $"{c} @ MaxVectorWidth {width} ({c.DescribeSizes()}, T={tokens.Length})";
        if (ModelRunner.OutputSize(type) != spec.OutputSize)
        {
            failures.Add($"{where}: OutputSize {ModelRunner.OutputSize(type)}, the spec says {spec.OutputSize}");
            return;
        }

        if (ModelRunner.InputSize(type) != spec.InputSize || (int)ModelRunner.Task(type) != (int)spec.Task)
        {
            failures.Add($"{where}: InputSize {ModelRunner.InputSize(type)}, Task {ModelRunner.Task(type)}; the spec says {spec.InputSize}, {spec.Task}");
            return;
        }

        if (spec.Vocabulary is { } vocabulary)
        {
            (RnnEmbedded.Runtime.ModelVocabularyKind kind, string[] vocabularyTokens, int start, int stop, int unknown) = ModelRunner.Vocabulary(type);
            if ((int)kind != (int)vocabulary.Kind || !vocabularyTokens.SequenceEqual(vocabulary.Tokens)
                || (start, stop, unknown) != (vocabulary.StartToken, vocabulary.StopToken, vocabulary.UnknownToken))
            {
                failures.Add($"{where}: vocabulary {kind} [{string.Join(", ", vocabularyTokens.Select(Json.Quote))}] start {start} stop {stop} unk {unknown}; "
                    + $"the spec says {vocabulary.Kind} [{string.Join(", ", vocabulary.Tokens.Select(Json.Quote))}] start {vocabulary.StartToken} stop {vocabulary.StopToken} unk {vocabulary.UnknownToken}");
                return;
            }
        }

        if (spec.Labels is { } labels && !ModelRunner.Labels(type).SequenceEqual(labels))
        {
            failures.Add($"{where}: labels [{string.Join(", ", ModelRunner.Labels(type).Select(Json.Quote))}]; the spec says [{string.Join(", ", labels.Select(Json.Quote))}]");
            return;
        }

        bool denseInput = spec.InputKind == InputKind.Dense;
        Compare(expected.Sequence, denseInput ? ModelRunner.RunDense(type, dense) : ModelRunner.RunTokens(type, tokens), where + " Run", failures);
        if (!spec.RunOnly)
        {
            Compare(expected.Sequence, denseInput ? ModelRunner.StepDense(type, dense) : ModelRunner.StepTokens(type, tokens), where + " Step", failures);
        }

        if (expected.Caption is not null)
        {
            Compare(expected.Caption, ModelRunner.StepImage(type, image, tokens), where + " StepImage+Step", failures);
            if (ModelRunner.StartImageDiffers(type, image, tokens) is { } startDiff)
            {
                failures.Add($"{where} StartImage+Step against StepImage+Step: {startDiff}");
            }
        }

        if (expected.Seq2Seq is not null)
        {
            (int sourceSize, string[] sourceTokens) = ModelRunner.SourceVocabulary(type);
            if (sourceSize != spec.Encoder!.InputSize || !sourceTokens.SequenceEqual(spec.Encoder.Vocabulary!.Tokens))
            {
                failures.Add($"{where}: source vocabulary of {sourceSize} [{string.Join(", ", sourceTokens.Select(Json.Quote))}]; the spec's encoder has {spec.Encoder.InputSize}");
                return;
            }

            Compare(expected.Seq2Seq, ModelRunner.EncodeStep(type, c.DrawSource(spec), tokens), where + " Encode+Step", failures);
        }
    }

    /// <summary>
    /// Within <see cref="GeneratedParityTests.Tolerance"/>, absolute up to |expected| = 1 and relative beyond, so an
    /// unbounded ReLU stack is held to the same float precision as a tanh one.
    /// </summary>
    private static void Compare(float[][] expected, float[][] actual, string what, List<string> failures)
    {
        if (expected.Length != actual.Length)
        {
            failures.Add($"{what}: {actual.Length} steps, expected {expected.Length}");
            return;
        }

        for (int t = 0; t < expected.Length; t++)
        {
            if (expected[t].Length != actual[t].Length)
            {
                failures.Add($"{what}: step {t} has {actual[t].Length} outputs, expected {expected[t].Length}");
                return;
            }

            for (int k = 0; k < expected[t].Length; k++)
            {
                float e = expected[t][k];
                float a = actual[t][k];
                float diff = MathF.Abs(e - a);
                if (!(diff <= GeneratedParityTests.Tolerance * MathF.Max(1f, MathF.Abs(e))))
                {
                    failures.Add(string.Create(CultureInfo.InvariantCulture, $"{what}: step {t} output {k}: reference {e:R}, generated {a:R} (|diff| {diff:E2})"));
                    return;
                }
            }
        }
    }
}
