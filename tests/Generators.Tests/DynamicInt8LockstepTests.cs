using System.Reflection;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Runtime;
using RnnEmbedded.Tests.Infrastructure;
using RnnEmbedded.Tests.Reference;

namespace RnnEmbedded.Tests;

/// <summary>
/// int8-dynamic in lockstep (docs/kernels.md, "Dynamic int8: parity"): before every step the reference engine takes
/// the generated model's own h (its <c>CopyHiddenState</c>), and within the step each layer above the first and the head
/// take the generated model's new h of the layer below (<see cref="ReferenceEngine.StepLockstep(int, float[][], float[])"/>),
/// so every product between layers quantizes the same bits on both sides and no difference builds up. Each step's
/// output and every layer's new h must then agree within <see cref="GeneratedParityTests.Tolerance"/>. 120 steps per
/// fixture (its inputs, repeated), every unidirectional token and dense PyTorch fixture and variant, every width.
/// </summary>
public class DynamicInt8LockstepTests
{
    private const int Steps = 120;

    private static readonly Dictionary<int, Lazy<Assembly>> s_assemblies = new[] { 512, 256, 128, 0 }
        .ToDictionary(w => w, w => new Lazy<Assembly>(() => CompileAll(w)));

    private delegate void CopyHidden<TModel>(ref TModel model, int layer, Span<float> destination);

    private static IEnumerable<string> FixtureNames() =>
        ParityFixture.Names.Concat(ParityFixture.VariantNames.Select(v => "variants/" + v)).Where(n =>
        {
            ParityFixture fx = Load(n);
            return fx.InputKind != "caption" && !ModelLoader.Load(fx.WeightsPath).RunOnly;
        });

    private static ParityFixture Load(string name) =>
        name.StartsWith("variants/", StringComparison.Ordinal) ? ParityFixture.LoadVariant(name["variants/".Length..]) : ParityFixture.Load(name);

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

    private static string TypeName(string fixture, int width) =>
        $"Fl.{new string(fixture.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray())}_W{width}";

    private static Assembly CompileAll(int width)
    {
        var sources = new List<string>();
        foreach (string name in FixtureNames())
        {
            ModelSpec spec = ModelLoader.Load(Load(name).WeightsPath);
            sources.Add(CSharpEmitter.Emit(spec, new EmitOptions { TypeName = TypeName(name, width), MaxVectorWidth = width, WeightType = WeightType.Int8Dynamic }));
        }

        return InMemoryCompiler.EmitAndLoad(InMemoryCompiler.CreateCompilation($"Lockstep_W{width}", sources.ToArray()));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generated_MatchesReference_StepByStepFromTheSameH(string name, int width)
    {
        ParityFixture fx = Load(name);
        ModelSpec spec = WeightQuantizer.Apply(ModelLoader.Load(fx.WeightsPath), WeightType.Int8Dynamic);
        Type model = s_assemblies[width].Value.GetType(TypeName(name, width), throwOnError: true)!;
        string core = fx.InputKind == "dense" ? nameof(DenseCore) : nameof(TokenCore);
        object input = fx.InputKind == "dense"
            ? Enumerable.Range(0, Steps).Select(t => fx.Dense[t % fx.Dense.Length]).ToArray()
            : Enumerable.Range(0, Steps).Select(t => fx.Tokens[t % fx.Tokens.Length]).ToArray();
        MethodInfo m = typeof(DynamicInt8LockstepTests).GetMethod(core, BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(model);
        try
        {
            m.Invoke(null, new[] { spec, input, $"{name} @ {width}" });
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
        }
    }

    private static void TokenCore<TModel>(ModelSpec spec, int[] tokens, string what)
        where TModel : struct, ITokenModel<TModel> =>
        Lockstep(spec, tokens.Length, what,
            (ref TModel model, int t, float[] generated) => model.Step(tokens[t], generated),
            (engine, t, hidden, reference) => engine.StepLockstep(tokens[t], hidden, reference));

    private static void DenseCore<TModel>(ModelSpec spec, float[][] inputs, string what)
        where TModel : struct, IDenseModel<TModel> =>
        Lockstep(spec, inputs.Length, what,
            (ref TModel model, int t, float[] generated) => model.Step(inputs[t], generated),
            (engine, t, hidden, reference) => engine.StepLockstep(inputs[t], hidden, reference));

    private delegate void StepGenerated<TModel>(ref TModel model, int t, float[] output);

    private static void Lockstep<TModel>(ModelSpec spec, int steps, string what, StepGenerated<TModel> stepGenerated, Action<ReferenceEngine, int, float[][], float[]> stepReference)
        where TModel : struct
    {
        var copyHidden = (CopyHidden<TModel>)Delegate.CreateDelegate(typeof(CopyHidden<TModel>), typeof(TModel).GetMethod("CopyHiddenState")!);
        var model = default(TModel);
        var engine = new ReferenceEngine(spec);
        var generated = new float[spec.OutputSize];
        var reference = new float[spec.OutputSize];
        float[][] hidden = spec.Layers.Select(l => new float[l.StateSize]).ToArray();
        for (int t = 0; t < steps; t++)
        {
            // The reference's state is h then (LSTM) c per layer; h is replaced by the generated model's, c stays its own
            // (c is never quantized: it reaches a product only through h).
            float[] state = engine.GetState();
            int offset = 0;
            for (int l = 0; l < spec.Layers.Count; l++)
            {
                LayerSpec layer = spec.Layers[l];
                copyHidden(ref model, l, state.AsSpan(offset, layer.StateSize));
                offset += layer.StateSize + (layer.Cell == CellKind.Lstm ? layer.HiddenSize : 0);
            }

            engine.SetState(state);
            stepGenerated(ref model, t, generated);
            for (int l = 0; l < spec.Layers.Count; l++)
            {
                copyHidden(ref model, l, hidden[l]);
            }

            stepReference(engine, t, hidden, reference);
            AssertClose(reference, generated, $"{what}: step {t} output");
            float[] own = engine.GetState();
            offset = 0;
            for (int l = 0; l < spec.Layers.Count; l++)
            {
                LayerSpec layer = spec.Layers[l];
                AssertClose(own.AsSpan(offset, layer.StateSize).ToArray(), hidden[l], $"{what}: step {t} layer {l} h");
                offset += layer.StateSize + (layer.Cell == CellKind.Lstm ? layer.HiddenSize : 0);
            }
        }
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        for (int k = 0; k < expected.Length; k++)
        {
            float diff = MathF.Abs(actual[k] - expected[k]);
            Assert.True(diff <= GeneratedParityTests.Tolerance * MathF.Max(1f, MathF.Abs(expected[k])),
                $"{what} {k}: reference {expected[k]:R}, generated {actual[k]:R} (|diff| {diff:E2})");
        }
    }
}
