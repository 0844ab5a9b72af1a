using System.Reflection;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Tests.Infrastructure;
using RnnEmbedded.Tests.Reference;

namespace RnnEmbedded.Tests;

/// <summary>
/// Every PyTorch fixture, compiled by the emitter at every vector-width cap (512, 256, 128 = ARM's path, 0 = scalar),
/// must match PyTorch's outputs and the reference engine's within <see cref="Tolerance"/> (absolute).
/// </summary>
public class GeneratedParityTests
{
    internal const float Tolerance = 1e-5f;

    private static readonly Dictionary<int, Lazy<Assembly>> s_assemblies = new[] { 512, 256, 128, 0 }
        .ToDictionary(w => w, w => new Lazy<Assembly>(() => CompileAll(w)));

    /// <summary>
    /// PyTorch fixtures ("lstm_1layer"), the variants PyTorch lacks ("variants/lstm_cifg") and layer stacks
    /// ("stacks/amp_gru").
    /// </summary>
    private static IEnumerable<string> FixtureNames() =>
        ParityFixture.Names.Concat(ParityFixture.VariantNames.Select(v => "variants/" + v)).Concat(ParityFixture.StackNames.Select(v => "stacks/" + v));

    private static ParityFixture Load(string name) =>
        name.StartsWith("variants/", StringComparison.Ordinal) ? ParityFixture.LoadVariant(name["variants/".Length..])
        : name.StartsWith("stacks/", StringComparison.Ordinal) ? ParityFixture.LoadStack(name["stacks/".Length..])
        : ParityFixture.Load(name);

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in FixtureNames())
        {
            foreach (int width in new[] { 512, 256, 128, 0 })
            {
                data.Add(name, width);
            }
        }

        return data;
    }

    private static string TypeName(string fixture, int width) => $"Fx.{Identifier(fixture)}_W{width}";

    private static string Identifier(string s) => new(s.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());

    private static Assembly CompileAll(int width)
    {
        var sources = new List<string>();
        foreach (string name in FixtureNames())
        {
            ModelSpec spec = ModelLoader.Load(Load(name).WeightsPath);
            sources.Add(CSharpEmitter.Emit(spec, new EmitOptions { TypeName = TypeName(name, width), MaxVectorWidth = width }));
        }

        return InMemoryCompiler.EmitAndLoad(InMemoryCompiler.CreateCompilation("Fixtures_W" + width, sources.ToArray()));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generated_MatchesPyTorchAndReference(string name, int width)
    {
        ParityFixture fx = Load(name);
        ModelSpec spec = ModelLoader.Load(fx.WeightsPath);
        Type type = s_assemblies[width].Value.GetType(TypeName(name, width), throwOnError: true)!;

        float[][] generated;
        float[][] reference;
        switch (fx.InputKind)
        {
            case "caption":
                generated = ModelRunner.StepImage(type, fx.Image!, fx.Tokens);
                var engine = new ReferenceEngine(spec);
                reference = new float[fx.Tokens.Length + 1][];
                reference[0] = new float[spec.OutputSize];
                engine.StepImage(fx.Image!, reference[0]);
                for (int t = 0; t < fx.Tokens.Length; t++)
                {
                    reference[t + 1] = new float[spec.OutputSize];
                    engine.Step(fx.Tokens[t], reference[t + 1]);
                }

                // The decoder's start (StartImage: no W_hh·0, no head) leaves StepImage's state bit for bit.
                Assert.Null(ModelRunner.StartImageDiffers(type, fx.Image!, fx.Tokens));
                AssertClose(reference[1..], ModelRunner.StartImage(type, fx.Image!, fx.Tokens), $"{name} @ {width} StartImage vs reference");
                break;
            case "dense":
                generated = spec.Bidirectional ? ModelRunner.RunDense(type, fx.Dense) : ModelRunner.StepDense(type, fx.Dense);
                reference = ReferenceEngine.Run(spec, fx.Dense);
                break;
            default:
                generated = spec.Bidirectional ? ModelRunner.RunTokens(type, fx.Tokens) : ModelRunner.StepTokens(type, fx.Tokens);
                reference = ReferenceEngine.Run(spec, fx.Tokens);
                break;
        }

        AssertClose(fx.Outputs, generated, $"{name} @ {width} vs PyTorch");
        AssertClose(reference, generated, $"{name} @ {width} vs reference");
    }

    /// <summary>
    /// The whole-sequence entry point: the generated Run matches the reference engine's Run, and — for every model
    /// with Step (unidirectional ones; caption decoders fed tokens only) — stepping the generated model from
    /// <c>default</c> matches both. Bidirectional models have only Run, which is compared with the reference.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Run_EqualsSteppingFromZeroState(string name, int width)
    {
        ParityFixture fx = Load(name);
        ModelSpec spec = ModelLoader.Load(fx.WeightsPath);
        Type type = s_assemblies[width].Value.GetType(TypeName(name, width), throwOnError: true)!;
        bool dense = spec.InputKind == InputKind.Dense;
        float[][] reference = dense ? ReferenceEngine.Run(spec, fx.Dense) : ReferenceEngine.Run(spec, fx.Tokens);
        float[][] run = dense ? ModelRunner.RunDense(type, fx.Dense) : ModelRunner.RunTokens(type, fx.Tokens);
        Assert.NotEmpty(run);
        AssertClose(reference, run, $"{name} @ {width}: Run vs reference Run");
        if (!spec.Bidirectional)
        {
            float[][] stepped = dense ? ModelRunner.StepDense(type, fx.Dense) : ModelRunner.StepTokens(type, fx.Tokens);
            AssertClose(reference, stepped, $"{name} @ {width}: Step from default vs reference Run");
            AssertClose(run, stepped, $"{name} @ {width}: Step from default vs Run");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BatchedStep_EqualsSteppingEachAlone(string name, int width)
    {
        ParityFixture fx = Load(name);
        ModelSpec spec = ModelLoader.Load(fx.WeightsPath);
        if (spec.Bidirectional)
        {
            return; // no Step, so no batched Step
        }

        Type type = s_assemblies[width].Value.GetType(TypeName(name, width), throwOnError: true)!;
        foreach (int n in new[] { 1, 3, 4, 9, 16, 17, 33 }) // one and two groups of 8 per pass; 1, 2 and 3 passes of 16
        {
            if (fx.InputKind == "dense")
            {
                BatchRunner.Dense(type, fx.Dense, n);
            }
            else
            {
                BatchRunner.Tokens(type, fx.Tokens, n); // caption decoders: token steps from the zero state
            }
        }
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
                Assert.True(diff <= Tolerance, $"{what}: step {t} output {k}: expected {expected[t][k]:R}, got {actual[t][k]:R} (|diff| {diff:E2} > {Tolerance:E0})");
            }
        }
    }
}
