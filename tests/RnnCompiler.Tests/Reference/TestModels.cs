using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Tests.Reference;

/// <summary>Builds small weight files in memory for hand-worked and builder tests.</summary>
internal static class TestModels
{
    /// <summary>ln 3: σ(ln 3) = 3/4, σ(−ln 3) = 1/4, tanh(ln 3 / 2) = (3 − 1)/(3 + 1) = 1/2.</summary>
    public const float Ln3 = 1.0986122886681098f;

    public static Tensor T(string name, int[] shape, params float[] data) => new(name, shape, data);

    public static WeightFile File(params Tensor[] tensors) => FileWith(new Dictionary<string, string>(), tensors);

    public static WeightFile FileWith(Dictionary<string, string> metadata, params Tensor[] tensors) =>
        new("test.safetensors", tensors, new SortedDictionary<string, string>(metadata, StringComparer.Ordinal));

    public static ModelSpec BuildWith(Dictionary<string, string> metadata, params Tensor[] tensors) =>
        ModelBuilder.Build(FileWith(metadata, tensors));

    public static ModelSpec Build(params Tensor[] tensors) => ModelBuilder.Build(File(tensors));

    public static float[] Zeros(int n) => new float[n];

    /// <summary>Deterministic pseudo-random values in (−0.5, 0.5).</summary>
    public static float[] Values(int n, int seed)
    {
        var data = new float[n];
        uint s = (uint)seed * 2654435761u + 1u;
        for (int i = 0; i < n; i++)
        {
            s = s * 1664525u + 1013904223u;
            data[i] = (s >> 8) / (float)(1 << 24) - 0.5f;
        }

        return data;
    }
}
