using System.Reflection;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Tests.Infrastructure;
using RnnEmbedded.Tests.Reference;

namespace RnnEmbedded.Tests;

/// <summary>
/// Every PyTorch fixture and variant, emitted with bfloat16, int8 and int8-dynamic weights at every vector-width cap, must
/// match the reference engine run on the same quantized weights (<see cref="WeightQuantizer.Apply"/>) within
/// <see cref="GeneratedParityTests.Tolerance"/>, through Step and Run; the batched Step equals stepping each model alone
/// bit for bit. For int8-dynamic the reference quantizes each product's input as the kernels do; a one-ulp difference
/// of h between the engines can flip one rounding of that quantization (docs/kernels.md, "Dynamic int8: parity"),
/// which these fixtures do not hit.
/// </summary>
public class QuantizedParityTests
{
    private static readonly Dictionary<(WeightType, int), Lazy<Assembly>> s_assemblies = new[] { WeightType.BFloat16, WeightType.Int8, WeightType.Int8Dynamic }
        .SelectMany(t => new[] { 512, 256, 128, 0 }.Select(w => (t, w)))
        .ToDictionary(k => k, k => new Lazy<Assembly>(() => CompileAll(k.Item1, k.Item2)));

    // The batched Step of every Vector512 tile shape (1..4, 5..8, 9..16 models per pass) and of 2 and 3 passes. Each
    // model's outputs and state equal stepping it alone bit for bit: the batched bfloat16/int8 products sum every
    // row in the single product's order (PackedGemv.WidenedBatch.cs), and these fixtures have fewer than 512 columns;
    // the batched int8-dynamic product quantizes each model's input alone and its integer sums are exact
    // (PackedGemv.Int8DotBatch.cs), so it equals the single product at any size.
    private static readonly int[] s_batchCounts = [1, 3, 4, 6, 9, 16, 17, 33];

    private static IEnumerable<string> FixtureNames() =>
        ParityFixture.Names.Concat(ParityFixture.VariantNames.Select(v => "variants/" + v));

    private static ParityFixture Load(string name) =>
        name.StartsWith("variants/", StringComparison.Ordinal) ? ParityFixture.LoadVariant(name["variants/".Length..]) : ParityFixture.Load(name);

    public static TheoryData<string, WeightType, int> Cases()
    {
        var data = new TheoryData<string, WeightType, int>();
        foreach (string name in FixtureNames())
        {
            foreach (WeightType type in new[] { WeightType.BFloat16, WeightType.Int8, WeightType.Int8Dynamic })
            {
                foreach (int width in new[] { 512, 256, 128, 0 })
                {
                    data.Add(name, type, width);
                }
            }
        }

        return data;
    }

    private static string TypeName(string fixture, WeightType type, int width) =>
        $"Fq.{new string(fixture.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray())}_{type}_W{width}";

    private static Assembly CompileAll(WeightType type, int width)
    {
        var sources = new List<string>();
        foreach (string name in FixtureNames())
        {
            ModelSpec spec = ModelLoader.Load(Load(name).WeightsPath);
            sources.Add(CSharpEmitter.Emit(spec, new EmitOptions { TypeName = TypeName(name, type, width), MaxVectorWidth = width, WeightType = type }));
        }

        return InMemoryCompiler.EmitAndLoad(InMemoryCompiler.CreateCompilation($"Quantized_{type}_W{width}", sources.ToArray()));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generated_MatchesReferenceOnQuantizedWeights(string name, WeightType type, int width)
    {
        ParityFixture fx = Load(name);
        ModelSpec original = ModelLoader.Load(fx.WeightsPath);
        ModelSpec spec = WeightQuantizer.Apply(original, type);
        Type model = s_assemblies[(type, width)].Value.GetType(TypeName(name, type, width), throwOnError: true)!;
        string what = $"{name} {type} @ {width}";
        switch (fx.InputKind)
        {
            case "caption":
                var engine = new ReferenceEngine(spec);
                var reference = new float[fx.Tokens.Length + 1][];
                reference[0] = new float[spec.OutputSize];
                engine.StepImage(fx.Image!, reference[0]);
                for (int t = 0; t < fx.Tokens.Length; t++)
                {
                    reference[t + 1] = new float[spec.OutputSize];
                    engine.Step(fx.Tokens[t], reference[t + 1]);
                }

                AssertClose(reference, ModelRunner.StepImage(model, fx.Image!, fx.Tokens), what + " StepImage+Step");
                Assert.Null(ModelRunner.StartImageDiffers(model, fx.Image!, fx.Tokens));
                AssertClose(reference[1..], ModelRunner.StartImage(model, fx.Image!, fx.Tokens), what + " StartImage+Step");
                break;
            case "dense":
                float[][] dense = ReferenceEngine.Run(spec, fx.Dense);
                AssertClose(dense, ModelRunner.RunDense(model, fx.Dense), what + " Run");
                if (!spec.RunOnly)
                {
                    AssertClose(dense, ModelRunner.StepDense(model, fx.Dense), what + " Step");
                    foreach (int n in s_batchCounts)
                    {
                        BatchRunner.Dense(model, fx.Dense, n, exact: true);
                    }
                }

                break;
            default:
                float[][] tokens = ReferenceEngine.Run(spec, fx.Tokens);
                AssertClose(tokens, ModelRunner.RunTokens(model, fx.Tokens), what + " Run");
                if (!spec.RunOnly)
                {
                    AssertClose(tokens, ModelRunner.StepTokens(model, fx.Tokens), what + " Step");
                    foreach (int n in s_batchCounts)
                    {
                        BatchRunner.Tokens(model, fx.Tokens, n, exact: true);
                    }
                }

                break;
        }

        {
            // The quantized reference really differs from the float32 one (PyTorch's random weights are not bf16 or
            // int8 values): the comparison above is of quantized math, not of float32 math twice.
            float[][] fp32 = fx.InputKind == "dense" ? ReferenceEngine.Run(original, fx.Dense) : ReferenceEngine.Run(original, fx.Tokens);
            float[][] quantized = fx.InputKind == "dense" ? ReferenceEngine.Run(spec, fx.Dense) : ReferenceEngine.Run(spec, fx.Tokens);
            Assert.True(MaxDifference(fp32, quantized) > 0f, $"{what}: quantized weights gave the float32 outputs exactly");
            if (type == WeightType.Int8Dynamic)
            {
                // ... and int8-dynamic really quantizes the activations: it differs from int8 weight-only (same weights).
                ModelSpec weightOnly = WeightQuantizer.Apply(original, WeightType.Int8);
                float[][] int8 = fx.InputKind == "dense" ? ReferenceEngine.Run(weightOnly, fx.Dense) : ReferenceEngine.Run(weightOnly, fx.Tokens);
                Assert.True(MaxDifference(int8, quantized) > 1e-5f, $"{what}: int8-dynamic gave the weight-only int8 outputs");
            }
        }
    }

    private static float MaxDifference(float[][] a, float[][] b)
    {
        float max = 0f;
        for (int t = 0; t < a.Length; t++)
        {
            for (int k = 0; k < a[t].Length; k++)
            {
                max = MathF.Max(max, MathF.Abs(a[t][k] - b[t][k]));
            }
        }

        return max;
    }

    private static void AssertClose(float[][] expected, float[][] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int t = 0; t < expected.Length; t++)
        {
            Assert.Equal(expected[t].Length, actual[t].Length);
            for (int k = 0; k < expected[t].Length; k++)
            {
                float diff = MathF.Abs(expected[t][k] - actual[t][k]);
                Assert.True(diff <= GeneratedParityTests.Tolerance, $"{what}: step {t} output {k}: expected {expected[t][k]:R}, got {actual[t][k]:R} (|diff| {diff:E2})");
            }
        }
    }
}
