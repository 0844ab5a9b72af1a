using System.Text;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Runtime;

namespace RnnEmbedded.Trainer;

/// <summary>Generated text from the current weights, shown while training (reference engine, temperature 0.8).</summary>
public static class TextSampler
{
    public const float Temperature = 0.8f;

    /// <summary><paramref name="length"/> tokens from <paramref name="net"/>; char models start from the corpus's first character, word models from &lt;start&gt;.</summary>
    public static string Sample(Network net, Dataset data, int length, long seed)
    {
        ModelSpec spec = net.ToSpec(data.Vocabulary, data.TaskKind);
        var engine = new ReferenceEngine(spec);
        var rng = new Xoshiro128StarStar((ulong)seed * 0x9E3779B97F4A7C15UL + 1);
        var logits = new float[spec.OutputSize];
        var sb = new StringBuilder();
        bool words = data.Task != TrainTask.Char;
        int token = words ? data.Vocabulary.StartToken : data.Train.Inputs[0];
        if (!words)
        {
            sb.Append(data.Vocabulary.Tokens[token]);
        }

        for (int i = 0; i < length; i++)
        {
            engine.Step(token, logits);
            token = SampleToken(logits, Temperature, ref rng);
            if (words)
            {
                if (token == data.Vocabulary.StopToken)
                {
                    sb.Append(" ⏎ ");
                    engine.Reset();
                    token = data.Vocabulary.StartToken;
                    continue;
                }

                sb.Append(' ');
            }

            sb.Append(data.Vocabulary.Tokens[token]);
        }

        return sb.ToString();
    }

    private static int SampleToken(float[] logits, float temperature, ref Xoshiro128StarStar rng)
    {
        float max = float.NegativeInfinity;
        foreach (float z in logits)
        {
            max = MathF.Max(max, z);
        }

        var p = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            p[i] = Math.Exp((logits[i] - max) / temperature);
            sum += p[i];
        }

        double u = rng.NextDouble() * sum;
        for (int i = 0; i < p.Length; i++)
        {
            u -= p[i];
            if (u <= 0)
            {
                return i;
            }
        }

        return p.Length - 1;
    }
}
