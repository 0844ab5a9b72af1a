namespace RnnEmbedded.Trainer;

/// <summary>
/// Runs a body once per part on up to <see cref="Count"/> threads. Work is always split into the same parts
/// for a given thread count, and every part writes disjoint outputs, so results never depend on scheduling.
/// </summary>
public sealed class Workers
{
    private readonly ParallelOptions _options;

    public Workers(int count)
    {
        if (count < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "The thread count must be at least 1.");
        }

        Count = count;
        _options = new ParallelOptions { MaxDegreeOfParallelism = count };
    }

    public int Count { get; }

    /// <summary>body(p) for p in [0, Count); inline when Count is 1.</summary>
    public void Run(Action<int> body)
    {
        if (Count == 1)
        {
            body(0);
            return;
        }

        Parallel.For(0, Count, _options, body);
    }

    /// <summary>Part p of [0, n) split into <paramref name="parts"/> ranges whose starts are multiples of <paramref name="align"/>.</summary>
    public static (int Start, int End) Split(int n, int parts, int p, int align)
    {
        int blocks = (n + align - 1) / align;
        int start = (int)((long)blocks * p / parts) * align;
        int end = (int)((long)blocks * (p + 1) / parts) * align;
        return (Math.Min(start, n), Math.Min(end, n));
    }
}
