using System.Reflection;
using RnnEmbedded.Runtime;

namespace RnnEmbedded.Tests.Decoding;

/// <summary>
/// The keystroke engine's per-keystroke paths are compiled fully optimized on their first call
/// (docs/decoding.md, "Optimized from the first keystroke"): without the attribute they run tier-0 code for about
/// the first second of keystrokes under the JIT's default settings (docs/benchmarks.md, "Keystroke budget").
/// </summary>
public class FirstCallOptimizationTests
{
    public static TheoryData<Type, string> HotMethods => new()
    {
        { typeof(KeystrokeEngine<TinyCharModel>), "Type" },
        { typeof(KeystrokeEngine<TinyCharModel>), "Backspace" },
        { typeof(KeystrokeEngine<TinyCharModel>), "TopNextTokens" },
        { typeof(KeystrokeEngine<TinyCharModel>), "TopNextChars" },
        { typeof(KeystrokeEngine<TinyCharModel>), "Completions" },
        { typeof(KeystrokeEngine<TinyCharModel>), "Advance" },
        { typeof(BeamSearch<TinyCharModel>), "Search" },
        { typeof(BeamSearch<TinyCharModel>), "Offer" },
        { typeof(BeamSearch<TinyCharModel>), "PushCandidate" },
        { typeof(BeamSearch<TinyCharModel>), "DistinctLogProbability" },
        { typeof(BeamSearch<TinyCharModel>), "LogSumExp" },
        { typeof(Softmax), "Apply" },
        { typeof(Softmax), "SumExp" },
        { typeof(Softmax), "CheckedMax" },
        { typeof(CharVocabulary), "Map" },
        { typeof(CharVocabulary), "Decode" },

        // The other decoders' per-token paths (docs/decoding.md, "Optimized from the first keystroke").
        { typeof(CaptionDecoder<>), "Start" },
        { typeof(CaptionDecoder<>), "DecodeGreedy" },
        { typeof(CaptionDecoder<>), "DecodeBeam" },
        { typeof(Seq2SeqDecoder<>), "Start" },
        { typeof(Seq2SeqDecoder<>), "DecodeGreedy" },
        { typeof(Seq2SeqDecoder<>), "DecodeBeam" },
        { typeof(Sampler).Assembly.GetType("RnnEmbedded.Runtime.StartStopDecoding`1", throwOnError: true)!, "DecodeGreedy" },
        { typeof(Sampler).Assembly.GetType("RnnEmbedded.Runtime.StartStopDecoding`1", throwOnError: true)!, "DecodeBeam" },
        { typeof(Sampler), "Observe" },
        { typeof(Sampler), "Sample" },
        { typeof(Sampler), "ApplyTemperature" },
        { typeof(Sampler), "ApplyRepetitionPenalty" },
        { typeof(Sampler), "ApplyTopK" },
        { typeof(Sampler), "ApplyTopP" },
        { typeof(Sampler), "SampleFromLogits" },
        { typeof(Sampler), "SelectKthLargest" },
        { typeof(TextGenerator<>), "Next" },
        { typeof(TextGenerator<>), "Generate" },
        { typeof(TextGenerator<>), "GenerateText" },
        { typeof(TextGenerator<>), "GenerateWords" },
        { typeof(SequenceClassifier), "Step" },
        { typeof(SequenceClassifier), "Classify" },
        { typeof(Evaluation), "CrossEntropy" },
        { typeof(Evaluation), "Evaluate" },
    };

    [Theory]
    [MemberData(nameof(HotMethods))]
    public void HotPath_IsAggressivelyOptimized(Type type, string name)
    {
        const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        MethodInfo[] methods = type.GetMethods(All).Where(m => m.Name == name).ToArray();
        Assert.NotEmpty(methods);

        // Every overload that does the work (the one-line forwarding Type(ReadOnlySpan<char>) and Apply(Span<float>)
        // call an attributed overload).
        MethodInfo[] working = methods.Where(m => !(name == "Type" && m.GetParameters()[0].ParameterType == typeof(ReadOnlySpan<char>)) &&
            !(name == "Apply" && m.GetParameters().Length == 1)).ToArray();
        Assert.NotEmpty(working);
        foreach (MethodInfo method in working)
        {
            Assert.True(
                (method.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) != 0,
                $"{type.Name}.{method.Name}({string.Join(", ", method.GetParameters().Select(p => p.ParameterType.Name))}) lacks AggressiveOptimization");
        }
    }
}
