using System.Globalization;
using RnnEmbedded.Runtime;

namespace RnnEmbedded.Bench.LongMemory;

/// <summary>What the generator draws; the file depends only on these (and the generator's code).</summary>
internal sealed record StreamSettings
{
    public int Sequences { get; init; } = 2000;

    public ulong Seed { get; init; } = 1;

    /// <summary>Least distance (steps) between two consecutive markers.</summary>
    public int GapMin { get; init; } = 50;

    /// <summary>Greatest distance (steps) between two consecutive markers.</summary>
    public int GapMax { get; init; } = 60;

    /// <summary>Reports (b markers) per sequence.</summary>
    public int Reports { get; init; } = 2;

    /// <summary>Each report sums 1..MaxAdds numbers (one after each a).</summary>
    public int MaxAdds { get; init; } = 2;
}

internal sealed record StreamStats(long Rows, long Reports, int MinGap, int MaxGap, double TargetMean, double TargetVariance);

/// <summary>
/// The long-memory task as a regress corpus: a stream of numbers (uniform in [−1, 1], four decimals) with markers
/// <c>a</c> and <c>b</c>. The number right after an <c>a</c> is added to a running total; at <c>b</c> the total is the
/// target and is reset to 0. Consecutive markers are GapMin..GapMax steps apart, so a number must be kept at least
/// GapMin steps (and, with two adds, twice that) among distractors. Columns: sequence, value, a, b, total (the
/// target, empty except at b). A marker step has value 0.
/// </summary>
internal static class AbStreams
{
    public static StreamStats Write(StreamSettings s, TextWriter writer)
    {
        if (s.Sequences < 1 || s.Reports < 1 || s.MaxAdds < 1 || s.GapMin < 2 || s.GapMax < s.GapMin)
        {
            throw new ArgumentException("--sequences, --reports and --max-adds must be at least 1, and 2 <= --gap-min <= --gap-max");
        }

        var rng = new Xoshiro128StarStar(s.Seed);
        writer.Write("sequence,value,a,b,total\n");
        long rows = 0, reports = 0;
        int minGap = int.MaxValue, maxGap = 0;
        double sum = 0, sumSquares = 0;
        for (int q = 0; q < s.Sequences; q++)
        {
            string id = q.ToString(CultureInfo.InvariantCulture);
            void Row(string value, bool a, bool b, string target)
            {
                writer.Write($"{id},{value},{(a ? 1 : 0)},{(b ? 1 : 0)},{target}\n");
                rows++;
            }

            string Number(out double x)
            {
                // Four decimals, and the total is summed from the written values, so the file is exact.
                int tenThousandths = rng.NextInt32(20001) - 10000;
                x = tenThousandths / 10000.0;
                return x.ToString("F4", CultureInfo.InvariantCulture);
            }

            // A few numbers before the first marker, then each report: k × (a, the added number, noise) then b.
            int distance = 1 + rng.NextInt32(5);
            int drawn = distance; // the marker-to-marker distance (distance counts down the steps still to write)
            for (int r = 0; r < s.Reports; r++)
            {
                int adds = 1 + rng.NextInt32(s.MaxAdds);
                double total = 0;
                for (int k = 0; k <= adds; k++)
                {
                    for (int i = 0; i < distance - 1; i++)
                    {
                        Row(Number(out _), false, false, "");
                    }

                    if (r > 0 || k > 0)
                    {
                        minGap = Math.Min(minGap, drawn);
                        maxGap = Math.Max(maxGap, drawn);
                    }

                    distance = drawn = s.GapMin + rng.NextInt32(s.GapMax - s.GapMin + 1);
                    if (k < adds)
                    {
                        Row("0", true, false, ""); // a
                        Row(Number(out double x), false, false, "");
                        total += x;
                        distance--; // the added number is the first step after a
                    }
                    else
                    {
                        string target = Math.Round(total, 4).ToString("F4", CultureInfo.InvariantCulture);
                        Row("0", false, true, target); // b: report the total, reset it
                        double t = Math.Round(total, 4);
                        sum += t;
                        sumSquares += t * t;
                        reports++;
                    }
                }
            }
        }

        double mean = sum / reports;
        return new StreamStats(rows, reports, minGap, maxGap, mean, sumSquares / reports - mean * mean);
    }
}
