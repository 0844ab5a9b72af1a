using System.Reflection;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Tests.Infrastructure;

namespace RnnEmbedded.Tests;

/// <summary>
/// A caption model's static StartImage (the image step from the zero state without its output; docs/decoding.md,
/// "Caption decoding") skips W_hh·h for h = 0 and the head. It must leave exactly the state StepImage leaves on a
/// default model — every cell variant, two layers of odd sizes, every vector width and weight type — and the planner
/// must keep the products where skipping them could change a bit (a −0 bias entry, a non-finite stored W_hh).
/// </summary>
public class StartImageTests
{
    private const int Vocabulary = 7;
    private const int ImageFeatures = 6;
    private const float Tolerance = 1e-5f;

    public static TheoryData<string, int, WeightType> Cases()
    {
        var data = new TheoryData<string, int, WeightType>();
        foreach (string cell in new[] { "gru", "gru-before", "lstm", "lstm-proj", "rnn" })
        {
            foreach (int width in new[] { 512, 256, 128, 0 })
            {
                data.Add(cell, width, WeightType.Float32);
            }

            data.Add(cell, 512, WeightType.BFloat16);
            data.Add(cell, 512, WeightType.Int8);
            data.Add(cell, 512, WeightType.Int8Dynamic);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void StartImage_LeavesStepImagesStateBitForBit(string cell, int width, WeightType weights)
    {
        ModelSpec spec = ModelBuilder.Build(SafeTensorsReader.Read(TestModels.ToBytes(Model(cell)), "caption.safetensors"));
        var options = new EmitOptions { TypeName = $"Start.M_{cell.Replace('-', '_')}_{width}_{weights}", MaxVectorWidth = width, WeightType = weights };
        ModelPlan plan = ModelPlanner.Plan(spec, options);
        Assert.All(plan.Cells, c => Assert.True(c.ZeroStateSkipsRecurrent, $"{c.Method}: the products should be skipped"));

        Type type = Compile(spec, options);
        var rng = new Random(11);
        float[] image = Enumerable.Range(0, ImageFeatures).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        int[] words = [0, 4, 5, 3, 6, 1];
        Assert.Null(ModelRunner.StartImageDiffers(type, image, words));

        // And against the oracle, on the weights as stored.
        float[][] reference = ReferenceEngine.RunCaption(WeightQuantizer.Apply(spec, weights), image, words);
        float[][] started = ModelRunner.StartImage(type, image, words);
        for (int t = 0; t < words.Length; t++)
        {
            for (int k = 0; k < Vocabulary; k++)
            {
                float expected = reference[t + 1][k];
                Assert.True(MathF.Abs(expected - started[t][k]) <= Tolerance * MathF.Max(1f, MathF.Abs(expected)), $"token {t} output {k}: reference {expected:R}, StartImage {started[t][k]:R}");
            }
        }
    }

    [Theory]
    [InlineData("gru", "b_hn")]
    [InlineData("gru", "b")]
    [InlineData("lstm", "b")]
    [InlineData("rnn", "b")]
    public void Plan_KeepsRecurrentProducts_WhenABiasEntryIsNegativeZero(string cell, string where)
    {
        ModelSpec spec = Model(cell);
        DirectionWeights d = spec.Layers[1].Forward;
        int h = spec.Layers[1].HiddenSize;
        int row = where == "b_hn" ? 2 * h + 1 : 1;
        d.b_hh![row] = -0f;
        if (where == "b")
        {
            d.b_ih![row] = -0f; // b_ih + b_hh = −0 only when both are
        }

        ModelPlan plan = ModelPlanner.Plan(spec, new EmitOptions { TypeName = "Start.NegativeZero" });
        Assert.True(plan.Cells[0].ZeroStateSkipsRecurrent);
        Assert.False(plan.Cells[1].ZeroStateSkipsRecurrent);

        // The kept product still leaves StepImage's state.
        Type type = Compile(spec, new EmitOptions { TypeName = $"Start.NegativeZero_{cell}_{where}" });
        Assert.Null(ModelRunner.StartImageDiffers(type, Enumerable.Repeat(0.25f, ImageFeatures).ToArray(), [0, 3, 1]));
    }

    [Fact]
    public void Plan_KeepsRecurrentProducts_WhenAStoredWeightIsNotFinite()
    {
        ModelSpec spec = Model("gru");
        spec.Layers[0].Forward.W_hh.Data[5] = float.PositiveInfinity;
        spec.Layers[1].Forward.W_hh.Data[3] = 3.4e38f; // finite in float32, +∞ once rounded to bfloat16
        Assert.False(ModelPlanner.Plan(spec, new EmitOptions { TypeName = "Start.Inf" }).Cells[0].ZeroStateSkipsRecurrent);
        Assert.True(ModelPlanner.Plan(spec, new EmitOptions { TypeName = "Start.Big" }).Cells[1].ZeroStateSkipsRecurrent);
        ModelPlan bf16 = ModelPlanner.Plan(spec, new EmitOptions { TypeName = "Start.Big16", WeightType = WeightType.BFloat16 });
        Assert.False(bf16.Cells[1].ZeroStateSkipsRecurrent);
    }

    [Fact]
    public void Plan_SkipsNothing_ForModelsWithoutAnImage()
    {
        ModelSpec caption = Model("lstm");
        var spec = new ModelSpec
        {
            InputKind = caption.InputKind,
            InputSize = caption.InputSize,
            Embedding = caption.Embedding,
            Layers = caption.Layers,
            Head = caption.Head,
        };
        Assert.All(ModelPlanner.Plan(spec, new EmitOptions { TypeName = "Start.Lm" }).Cells, c => Assert.False(c.ZeroStateSkipsRecurrent));
        Assert.DoesNotContain("StartImage", CSharpEmitter.Emit(spec, new EmitOptions { TypeName = "Start.Lm" }), StringComparison.Ordinal);
    }

    private static Type Compile(ModelSpec spec, EmitOptions options)
    {
        string source = CSharpEmitter.Emit(spec, options);
        Assembly assembly = InMemoryCompiler.EmitAndLoad(InMemoryCompiler.CreateCompilation(options.TypeName!.Replace('.', '_'), source));
        return assembly.GetType(options.TypeName, throwOnError: true)!;
    }

    /// <summary>An embedding-input caption decoder (the usual Show-and-Tell shape): 2 layers of odd sizes (19, 5).</summary>
    private static ModelSpec Model(string cell)
    {
        var rng = new Random(cell.Length * 17);
        const int E = 9;
        LayerSpec Layer(int input, int h)
        {
            int g = cell switch { "lstm" or "lstm-proj" => 4, "gru" or "gru-before" => 3, _ => 1 };
            int p = cell == "lstm-proj" && h > 5 ? 7 : 0;
            return new LayerSpec
            {
                Cell = cell switch { "lstm" or "lstm-proj" => CellKind.Lstm, "gru" or "gru-before" => CellKind.Gru, _ => CellKind.Rnn },
                GruForm = cell == "gru-before" ? GruForm.ResetBefore : GruForm.ResetAfter,
                InputSize = input,
                HiddenSize = h,
                ProjectionSize = p,
                Forward = new DirectionWeights
                {
                    W_ih = TestModels.M(rng, g * h, input),
                    W_hh = TestModels.M(rng, g * h, p > 0 ? p : h),
                    b_ih = TestModels.V(rng, g * h),
                    b_hh = TestModels.V(rng, g * h),
                    W_hr = p > 0 ? TestModels.M(rng, p, h) : null,
                },
            };
        }

        LayerSpec first = Layer(E, 19);
        return new ModelSpec
        {
            InputKind = InputKind.Embedding,
            InputSize = Vocabulary,
            Embedding = TestModels.M(rng, Vocabulary, E),
            ImageProjection = new DenseSpec { W = TestModels.M(rng, E, ImageFeatures), b = TestModels.V(rng, E) },
            Layers = [first, Layer(first.StateSize, 5)],
            Head = new DenseSpec { W = TestModels.M(rng, Vocabulary, 5), b = TestModels.V(rng, Vocabulary) },
            Vocabulary = new Vocabulary(ModelVocabularyKind.Words, ["<start>", "<stop>", "<unk>", "a", "cat", "on", "mat"]),
            Task = ModelTask.Caption,
        };
    }
}
