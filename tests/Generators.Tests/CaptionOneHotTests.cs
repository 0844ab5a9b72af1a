using System.Reflection;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Tests.Infrastructure;

namespace RnnEmbedded.Tests;

/// <summary>
/// A caption decoder with one-hot word input (rnn.input=one-hot, rnn.task=caption, rnn.image_projection): layer 0
/// takes words as table rows and the projected image as a vector. Its generated StepImage once passed a span to
/// the token-only cell (CS1503); now it compiles and matches the reference engine at every vector width, and its
/// StartImage (a vector through the FromZero cells beside the token table) leaves StepImage's state bit for bit.
/// </summary>
public class CaptionOneHotTests
{
    private const float Tolerance = 1e-5f;

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (string cell in new[] { "lstm", "gru", "rnn" })
        {
            foreach (int width in new[] { 512, 256, 128, 0 })
            {
                data.Add(cell, width);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OneHotCaption_CompilesAndMatchesReference(string cell, int width)
    {
        // Through the file format and the builder: the model is one the builder accepts.
        byte[] bytes = TestModels.ToBytes(Model(cell));
        ModelSpec spec = ModelBuilder.Build(SafeTensorsReader.Read(bytes, "caption_onehot.safetensors"));
        Assert.Equal(InputKind.OneHot, spec.InputKind);
        Assert.NotNull(spec.ImageProjection);

        string typeName = $"Cap.OneHot_{cell}_W{width}";
        string source = CSharpEmitter.Emit(spec, new EmitOptions { TypeName = typeName, MaxVectorWidth = width });
        Assembly assembly = InMemoryCompiler.EmitAndLoad(InMemoryCompiler.CreateCompilation("CaptionOneHot_" + cell + width, source));
        Type type = assembly.GetType(typeName, throwOnError: true)!;

        var rng = new Random(7);
        float[] image = Enumerable.Range(0, ImageFeatures).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        int[] words = [0, 4, 5, 3, 6, 1];
        float[][] generated = ModelRunner.StepImage(type, image, words);
        float[][] reference = ReferenceEngine.RunCaption(spec, image, words);
        Assert.Null(ModelRunner.StartImageDiffers(type, image, words)); // the decoder's start: StepImage's state, bit for bit

        Assert.Equal(reference.Length, generated.Length);
        for (int t = 0; t < reference.Length; t++)
        {
            for (int k = 0; k < reference[t].Length; k++)
            {
                float diff = MathF.Abs(reference[t][k] - generated[t][k]);
                Assert.True(diff <= Tolerance, $"{cell} @ {width}: step {t} output {k}: reference {reference[t][k]:R}, generated {generated[t][k]:R}");
            }
        }
    }

    private const int Vocabulary = 7;
    private const int ImageFeatures = 6;

    private static ModelSpec Model(string cell)
    {
        var rng = new Random(cell.Length * 31);
        LayerSpec Layer(int input, int h) // odd sizes: the kernels' overlapped last vector is exercised
        {
            int g = cell switch { "lstm" => 4, "gru" => 3, _ => 1 };
            return new LayerSpec
            {
                Cell = cell switch { "lstm" => CellKind.Lstm, "gru" => CellKind.Gru, _ => CellKind.Rnn },
                InputSize = input,
                HiddenSize = h,
                Forward = new DirectionWeights
                {
                    W_ih = TestModels.M(rng, g * h, input),
                    W_hh = TestModels.M(rng, g * h, h),
                    b_ih = TestModels.V(rng, g * h),
                    b_hh = TestModels.V(rng, g * h),
                },
            };
        }

        return new ModelSpec
        {
            InputKind = InputKind.OneHot,
            InputSize = Vocabulary,
            ImageProjection = new DenseSpec { W = TestModels.M(rng, Vocabulary, ImageFeatures), b = TestModels.V(rng, Vocabulary) },
            Layers = [Layer(Vocabulary, 19), Layer(19, 5)],
            Head = new DenseSpec { W = TestModels.M(rng, Vocabulary, 5), b = TestModels.V(rng, Vocabulary) },
            Vocabulary = new Vocabulary(ModelVocabularyKind.Words, ["<start>", "<stop>", "<unk>", "a", "cat", "on", "mat"]),
            Task = ModelTask.Caption,
        };
    }
}
