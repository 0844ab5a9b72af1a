using System.Reflection;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Runtime;
using RnnEmbedded.Tests.Infrastructure;

using ModelTask = RnnEmbedded.Compiler.Model.ModelTask;
using ModelVocabularyKind = RnnEmbedded.Compiler.Model.ModelVocabularyKind;

namespace RnnEmbedded.Tests;

/// <summary>
/// A classifier (rnn.task=classify, rnn.labels) compiles to a struct that implements IClassifierModel, exposes its
/// labels, and through SequenceClassifier gives the reference engine's softmax after the last step (Classify) and
/// after every step (Step), without allocating.
/// </summary>
public class ClassifierModelTests
{
    private static readonly string[] s_labels = ["de", "en", "fr \"ç\""];

    private static ModelSpec Classifier()
    {
        ModelSpec lstm = TestModels.Lstm(vocab: 6, e: 4, h: 7, seed: 3);
        var rng = new Random(5);
        return new ModelSpec
        {
            InputKind = lstm.InputKind,
            InputSize = lstm.InputSize,
            Embedding = lstm.Embedding,
            Layers = lstm.Layers,
            Head = new DenseSpec { W = TestModels.M(rng, s_labels.Length, 7), b = TestModels.V(rng, s_labels.Length) },
            Vocabulary = new Vocabulary(ModelVocabularyKind.Characters, ["a", "b", "c", "d", "e", "f"]),
            Task = ModelTask.Classify,
            Labels = s_labels,
        };
    }

    private static Type Compile(string name)
    {
        ModelSpec spec = ModelBuilder.Build(SafeTensorsReader.Read(TestModels.ToBytes(Classifier()), "classifier.safetensors"));
        string source = CSharpEmitter.Emit(spec, new EmitOptions { TypeName = "Cls." + name });
        Assembly assembly = InMemoryCompiler.EmitAndLoad(InMemoryCompiler.CreateCompilation("Classifier_" + name, source));
        return assembly.GetType("Cls." + name, throwOnError: true)!;
    }

    [Fact]
    public void Classifier_ExposesItsLabels_AndImplementsIClassifierModel()
    {
        Type type = Compile("Labels");
        Assert.Contains(type.GetInterfaces(), i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IClassifierModel<>));
        Assert.Equal(s_labels, ModelRunner.Labels(type));
        Assert.Equal(Runtime.ModelTask.Classify, ModelRunner.Task(type));
    }

    [Fact]
    public void Classify_AndStep_GiveTheReferenceSoftmax()
    {
        Type type = Compile("Probabilities");
        int[] tokens = [0, 3, 5, 2, 2, 1];
        float[][] logits = ReferenceEngine.Run(Classifier(), tokens);
        var (last, perStep, label, allocated) = ((float[], float[][], int, long))typeof(ClassifierModelTests)
            .GetMethod(nameof(RunCore), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type).Invoke(null, [tokens])!;

        for (int t = 0; t < tokens.Length; t++)
        {
            var expected = new float[s_labels.Length];
            ReferenceEngine.Softmax(logits[t], expected);
            for (int k = 0; k < expected.Length; k++)
            {
                Assert.True(MathF.Abs(expected[k] - perStep[t][k]) <= 1e-5f, $"step {t} label {k}: reference {expected[k]}, Step {perStep[t][k]}");
                if (t == tokens.Length - 1)
                {
                    Assert.True(MathF.Abs(expected[k] - last[k]) <= 1e-5f, $"label {k}: reference {expected[k]}, Classify {last[k]}");
                }
            }
        }

        Assert.Equal(Array.IndexOf(last, last.Max()), label);
        Assert.Equal(1f, last.Sum(), 5);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Helper_RejectsEmptySequencesShortBuffersAndBadLabels()
    {
        Type type = Compile("Errors");
        MethodInfo m = typeof(ClassifierModelTests).GetMethod(nameof(ErrorsCore), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        string[] messages = (string[])m.Invoke(null, null)!;
        Assert.Contains("tokens", messages[0]);
        Assert.Contains("probabilities: has 2 elements; at least 3 (one per label) are needed", messages[1]);
        Assert.Contains("A label index is in [0, 3)", messages[2]);
        Assert.Equal("2", messages[3]);
    }

    private static (float[] Last, float[][] PerStep, int Label, long Allocated) RunCore<TModel>(int[] tokens)
        where TModel : struct, ITokenModel<TModel>, IClassifierModel<TModel>
    {
        var last = new float[SequenceClassifier.LabelCount<TModel>()];
        var perStep = new float[tokens.Length][];
        for (int t = 0; t < tokens.Length; t++)
        {
            perStep[t] = new float[last.Length];
        }

        SequenceClassifier.Classify<TModel>(tokens, last); // warm up
        TModel model = default;
        long before = GC.GetAllocatedBytesForCurrentThread();
        int label = SequenceClassifier.Classify<TModel>(tokens, last);
        for (int t = 0; t < tokens.Length; t++)
        {
            SequenceClassifier.Step(ref model, tokens[t], perStep[t]);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        return (last, perStep, label, allocated);
    }

    private static string[] ErrorsCore<TModel>()
        where TModel : struct, ITokenModel<TModel>, IClassifierModel<TModel>
    {
        string Message(Action a)
        {
            try
            {
                a();
                return "no exception";
            }
            catch (ArgumentException e)
            {
                return e.Message;
            }
        }

        return
        [
            Message(() => SequenceClassifier.Classify<TModel>([], new float[3])),
            Message(() => SequenceClassifier.Classify<TModel>([1], new float[2])),
            Message(() => SequenceClassifier.GetLabel<TModel>(3).ToString()),
            SequenceClassifier.IndexOfLabel<TModel>("fr \"ç\"").ToString(System.Globalization.CultureInfo.InvariantCulture),
        ];
    }
}
