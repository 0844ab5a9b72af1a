using System.Diagnostics;
using System.Globalization;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RnnEmbedded.Tests;

/// <summary>
/// The whole model space (docs/generator.md, "The model-space test"): cell variant × input route × task × layers ×
/// direction (forward, reverse, bidirectional) × projection × bias × head, with seeded odd sizes. Every combination the builder accepts must generate,
/// compile and match the reference engine at every vector width; every combination it rejects must be rejected with
/// RnnFormatException. RNN_MODELSPACE_ITERATIONS=N runs N random batches instead of one (the long run),
/// RNN_MODELSPACE_SEED picks their seed, RNN_MODELSPACE_LOG names a file that receives progress and failures as they happen.
/// </summary>
public class ModelSpaceTests
{
    private const int GridSeed = 1_000;
    private const int DefaultRandomSeed = 20_261_129;
    private const int RandomBatchSize = 16;

    private readonly ITestOutputHelper _output;

    public ModelSpaceTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Builder_AcceptsExactlyTheCombinationsTheFormatAllows()
    {
        var failures = new List<string>();
        List<ModelCase> grid = ModelCase.Grid(GridSeed).ToList();
        int accepted = ModelSpaceRunner.WriteAndRead(grid, failures, out int rejected).Count;

        _output.WriteLine($"{grid.Count} combinations: {accepted} accepted, {rejected} rejected");
        Assert.True(failures.Count == 0, Report(failures));
        Assert.Equal(grid.Count(c => c.ExpectedRejection() is null), accepted);
        Assert.Equal(grid.Count, accepted + rejected);
    }

    /// <summary>
    /// A covering subset of the accepted grid: every pair of values of any two dimensions appears in some case, each
    /// case with its own seeded sizes. (Every cell × input × task triple too would double the cases and the time;
    /// the long run samples the whole grid.)
    /// </summary>
    [Fact]
    public void CoveringModels_CompileAndMatchReference()
    {
        List<ModelCase> cases = Covering(ModelCase.Grid(GridSeed).Where(c => c.ExpectedRejection() is null).ToList());
        var watch = Stopwatch.StartNew();
        ModelSpaceRunner.BatchResult result = ModelSpaceRunner.Run(cases);

        _output.WriteLine($"{cases.Count} cases, {result.ModelsRun} generated models run in {watch.Elapsed.TotalSeconds:F1} s ({result.Timing})");
        Assert.True(result.Failures.Count == 0, Report(result.Failures));
        Assert.Equal(cases.Count, result.Accepted);
        Assert.Equal(cases.Count * ModelSpaceRunner.Widths.Length, result.ModelsRun);
    }

    /// <summary>
    /// Layer stacks (docs/model-format.md): every combination of 0–2 input layers, 0–2 head hidden layers and the four
    /// output functions, spread over cells, inputs, tasks, directions and bias; token-input cases with input layers
    /// and token tasks with a probability output must be rejected, every other one compile and match the reference.
    /// </summary>
    [Fact]
    public void LayerStackModels_CompileAndMatchReference()
    {
        var cases = new List<ModelCase>();
        CaseCell[] cells = Enum.GetValues<CaseCell>();
        int i = 0;
        for (int inputLayers = 0; inputLayers <= 2; inputLayers++)
        {
            for (int headLayers = 0; headLayers <= 2; headLayers++)
            {
                foreach (OutputFunction output in Enum.GetValues<OutputFunction>())
                {
                    // Mostly dense input (input layers need it); every fourth case a token input, and then a token task.
                    InputKind input = i % 4 == 3 ? (InputKind)(i / 4 % 2) : InputKind.Dense;
                    ModelTask task = input == InputKind.Dense ? ModelTask.Generic : (ModelTask)(1 + i / 8 % 3);
                    bool head = headLayers > 0 || task != ModelTask.Generic || i % 3 != 0;
                    cases.Add(new ModelCase(cells[i % cells.Length], input, task, Layers: 1 + i % 2, Bidirectional: task != ModelTask.Caption && i % 5 == 1,
                        Projection: false, Bias: i % 2 == 0, head, Vocabulary: task != ModelTask.Generic, PerLayer: false, Seed: 5_000 + i,
                        InputLayers: inputLayers, HeadLayers: headLayers, Output: output, Reverse: i % 5 == 3));
                    i++;
                }
            }
        }

        ModelSpaceRunner.BatchResult result = ModelSpaceRunner.Run(cases);
        int expectedAccepted = cases.Count(c => c.ExpectedRejection() is null);
        _output.WriteLine($"{cases.Count} cases: {result.Accepted} accepted, {result.Rejected} rejected, {result.ModelsRun} generated models run ({result.Timing})");
        Assert.True(result.Failures.Count == 0, Report(result.Failures));
        Assert.Equal(expectedAccepted, result.Accepted);
        Assert.Equal(cases.Count - expectedAccepted, result.Rejected);
        Assert.True(cases.Count(c => c.ExpectedRejection() is null && c.InputLayers > 0 && c.HeadLayers > 0 && c.Output != OutputFunction.None) >= 4);
        Assert.Equal(expectedAccepted * ModelSpaceRunner.Widths.Length, result.ModelsRun);
    }

    /// <summary>
    /// Gate clipping (docs/model-format.md, "Clipping"): every cell variant with a small bound, one layer or two (the second
    /// sometimes unclipped or with another bound), forward, reverse and bidirectional, with projections, quantized
    /// weights and layer stacks spread over the cases; each compiles and matches the reference at every width, and the
    /// clip changes the outputs (the bounds are small enough for random weights to reach them).
    /// </summary>
    [Fact]
    public void ClippedModels_CompileAndMatchReference()
    {
        var cases = new List<ModelCase>();
        int i = 0;
        foreach (CaseCell cell in Enum.GetValues<CaseCell>())
        {
            for (int variant = 0; variant < 3; variant++, i++)
            {
                bool lstm = cell is CaseCell.Lstm or CaseCell.LstmPeepholes or CaseCell.LstmCifg or CaseCell.LstmCifgPeepholes;
                InputKind input = (InputKind)(i % 3);
                cases.Add(new ModelCase(cell, input, input == InputKind.Dense ? ModelTask.Generic : (ModelTask)(i % 2 * 4), Layers: 1 + variant % 2,
                    Bidirectional: variant == 1, Projection: lstm && variant == 2, Bias: variant != 1, Head: true, Vocabulary: input != InputKind.Dense,
                    PerLayer: variant == 1, Seed: 7_000 + i, InputLayers: input == InputKind.Dense && variant == 2 ? 1 : 0, HeadLayers: variant == 0 ? 1 : 0,
                    Weights: (WeightType)(i % 3), Reverse: variant == 2, Clip: ModelCase.ClipBounds[i % ModelCase.ClipBounds.Length]));
            }
        }

        Assert.All(cases, c => Assert.Null(c.ExpectedRejection()));
        ModelSpaceRunner.BatchResult result = ModelSpaceRunner.Run(cases);
        _output.WriteLine($"{cases.Count} clipped cases, {result.ModelsRun} generated models run ({result.Timing})");
        Assert.True(result.Failures.Count == 0, Report(result.Failures));
        Assert.Equal(cases.Count * ModelSpaceRunner.Widths.Length, result.ModelsRun);

        // The clip bites: the same models without it give other outputs (most cases have a step that differs).
        int changed = 0;
        foreach (ModelCase c in cases)
        {
            Compiler.Model.ModelSpec clipped = c.BuildSpec();
            Compiler.Model.ModelSpec plain = (c with { Clip = 0f }).BuildSpec();
            (int[] tokens, float[][] dense, _) = c.DrawInputs(clipped);
            float[][] a = clipped.InputKind == InputKind.Dense ? Compiler.Reference.ReferenceEngine.Run(clipped, dense) : Compiler.Reference.ReferenceEngine.Run(clipped, tokens);
            float[][] b = plain.InputKind == InputKind.Dense ? Compiler.Reference.ReferenceEngine.Run(plain, dense) : Compiler.Reference.ReferenceEngine.Run(plain, tokens);
            changed += a.Zip(b).Any(p => p.First.Zip(p.Second).Any(v => MathF.Abs(v.First - v.Second) > 1e-4f)) ? 1 : 0;
        }

        Assert.True(changed >= cases.Count / 2, $"the clip changed the outputs of {changed} of {cases.Count} cases");
    }

    /// <summary>One random batch with a fixed seed in the suite; RNN_MODELSPACE_ITERATIONS batches in the long run.</summary>
    [Fact]
    public void RandomModels_CompileAndMatchReference()
    {
        int iterations = EnvironmentInt("RNN_MODELSPACE_ITERATIONS") ?? 1;
        int seed = EnvironmentInt("RNN_MODELSPACE_SEED") ?? DefaultRandomSeed;
        string? log = Environment.GetEnvironmentVariable("RNN_MODELSPACE_LOG");
        var failures = new List<string>();
        int accepted = 0, rejected = 0, modelsRun = 0;
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++)
        {
            var rng = new Random(unchecked(seed + i));
            var batch = new List<ModelCase>();
            while (batch.Count(c => c.ExpectedRejection() is null) < RandomBatchSize)
            {
                batch.Add(ModelCase.Draw(rng));
            }

            ModelSpaceRunner.BatchResult result = ModelSpaceRunner.Run(batch);
            accepted += result.Accepted;
            rejected += result.Rejected;
            modelsRun += result.ModelsRun;
            failures.AddRange(result.Failures);
            string line = string.Create(CultureInfo.InvariantCulture,
                $"{DateTime.UtcNow:HH:mm:ss} iteration {i + 1}/{iterations} (seed {seed + i}): {accepted} accepted, {rejected} rejected, {modelsRun} models run, {failures.Count} failures, {watch.Elapsed.TotalMinutes:F1} min");
            if (log is not null)
            {
                File.AppendAllLines(log, result.Failures.Prepend(line));
            }
        }

        _output.WriteLine($"{iterations} batches from seed {seed}: {accepted} accepted, {rejected} rejected, {modelsRun} generated models run");
        Assert.True(failures.Count == 0, Report(failures));
        Assert.Equal(accepted * ModelSpaceRunner.Widths.Length, modelsRun);
    }

    /// <summary>Cases the property test found; each ran red before its fix (see docs/generator.md).</summary>
    [Theory]
    [MemberData(nameof(FoundCases))]
    public void FoundCase_CompilesAndMatchesReference(string name, ModelCase found)
    {
        ModelSpaceRunner.BatchResult result = ModelSpaceRunner.Run(new[] { found });
        Assert.True(result.Failures.Count == 0, name + ": " + Report(result.Failures));
        Assert.Equal(ModelSpaceRunner.Widths.Length, result.ModelsRun);
    }

    public static TheoryData<string, ModelCase> FoundCases() => new()
    {
        // CS1503: StepImage passed the projected image (a span) to layer 0's one-hot cell, which takes a token.
        { "one-hot caption decoder", new ModelCase(CaseCell.Lstm, InputKind.OneHot, ModelTask.Caption, Layers: 1, Bidirectional: false, Projection: false, Bias: true, Head: true, Vocabulary: true, PerLayer: false, Seed: 1) },
        // Its layer 0's W_ih is both folded into the token table and multiplied by the image: it stays float32.
        { "one-hot caption decoder, int8", new ModelCase(CaseCell.Lstm, InputKind.OneHot, ModelTask.Caption, Layers: 1, Bidirectional: false, Projection: false, Bias: true, Head: true, Vocabulary: true, PerLayer: false, Seed: 1, Weights: WeightType.Int8) },
        { "GRU reset-before, bfloat16", new ModelCase(CaseCell.GruResetBefore, InputKind.Embedding, ModelTask.Generic, Layers: 2, Bidirectional: false, Projection: false, Bias: true, Head: true, Vocabulary: false, PerLayer: true, Seed: 2, Weights: WeightType.BFloat16) },
    };

    /// <summary>Greedy pairwise cover of <paramref name="candidates"/>, deterministic.</summary>
    private static List<ModelCase> Covering(List<ModelCase> candidates)
    {
        static int[] Values(ModelCase c) => new[]
        {
            (int)c.Cell, (int)c.Input, (int)c.Task, c.Layers, c.Bidirectional ? 1 : c.IsReverse ? 2 : 0, c.Projection ? 1 : 0, c.Bias ? 1 : 0, c.Head ? 1 : 0, c.Vocabulary ? 1 : 0, c.PerLayer ? 1 : 0, (int)c.Weights,
        };

        static IEnumerable<(int, int, int, int)> Pairs(int[] v)
        {
            for (int a = 0; a < v.Length; a++)
            {
                for (int b = a + 1; b < v.Length; b++)
                {
                    yield return (a, v[a], b, v[b]);
                }
            }
        }

        var uncovered = new HashSet<(int, int, int, int)>(candidates.SelectMany(c => Pairs(Values(c))));
        var chosen = new List<ModelCase>();
        while (uncovered.Count > 0)
        {
            ModelCase best = candidates
                .OrderByDescending(c => Pairs(Values(c)).Count(uncovered.Contains))
                .First();
            uncovered.ExceptWith(Pairs(Values(best)));
            chosen.Add(best);
            candidates.Remove(best);
        }

        return chosen;
    }

    private static int? EnvironmentInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : null;

    private static string Report(IReadOnlyList<string> failures) =>
        $"{failures.Count} failures:\n" + string.Join("\n", failures.Take(40)) + (failures.Count > 40 ? "\n…" : "");
}
