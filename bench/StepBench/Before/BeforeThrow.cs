namespace Bench.Before;

/// <summary>The throw helpers and the checked max the frozen c424011 decoders call (internal to the runtime).</summary>
internal static class BeforeThrow
{
    public static void Argument(string argument, string rule) => throw new ArgumentException(rule, argument);

    public static void OutOfRange(string argument, object? value, string rule) => throw new ArgumentOutOfRangeException(argument, value, rule);

    public static void Token(string argument, int token, int vocabularySize) =>
        throw new ArgumentOutOfRangeException(argument, token, $"token must be in [0, {vocabularySize}).");

    public static void TooShort(string argument, int length, int required) =>
        throw new ArgumentException($"{argument} has {length} elements; needs {required}.", argument);

    public static void Length(string argument, int length, int required) =>
        throw new ArgumentException($"{argument} has {length} elements; must be {required}.", argument);

    public static void Empty(string argument) => throw new ArgumentException($"{argument} is empty.", argument);

    public static float CheckedMax(ReadOnlySpan<float> values, string argument, out int index)
    {
        if (values.IsEmpty)
        {
            Empty(argument);
        }

        float max = float.NegativeInfinity;
        index = 0;
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (!(v <= float.MaxValue))
            {
                throw new ArgumentException($"{argument}[{i}] is {v}.", argument);
            }

            if (v > max)
            {
                max = v;
                index = i;
            }
        }

        return max;
    }
}
