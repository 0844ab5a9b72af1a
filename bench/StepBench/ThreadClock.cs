using System.Diagnostics;
using System.Runtime.InteropServices;

/// <summary>
/// CPU time of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID), in nanoseconds: on a machine shared with other
/// jobs it leaves out the time the thread waits for a core, which wall-clock medians cannot. Elsewhere it falls
/// back to the wall clock (<see cref="IsThreadTime"/> says which).
/// </summary>
internal static class ThreadClock
{
    private const int ClockThreadCpuTime = 3;

    public static readonly bool IsThreadTime = OperatingSystem.IsLinux() && Probe();

    public static long Now()
    {
        if (IsThreadTime && clock_gettime(ClockThreadCpuTime, out TimeSpec t) == 0)
        {
            return (t.Seconds * 1_000_000_000) + t.Nanoseconds;
        }

        return (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
    }

    private static bool Probe()
    {
        try
        {
            return clock_gettime(ClockThreadCpuTime, out _) == 0;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc")]
    private static extern int clock_gettime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
