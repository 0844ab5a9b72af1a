using System;
using System.IO;
using SharpFuzz;

namespace RnnEmbedded.Fuzz;

/// <summary>
/// Entry point. <c>RnnFuzz &lt;target&gt;</c> serves afl-fuzz (through SharpFuzz);
/// <c>RnnFuzz &lt;target&gt; --replay file…</c> runs inputs once each without afl and prints what each did, for
/// triage and for checking a fix. docs/fuzzing.md explains the targets and the campaigns.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Targets.TryGet(args[0], out FuzzTarget? target))
        {
            Console.Error.WriteLine($"usage: RnnFuzz <{string.Join("|", Targets.Names)}> [--replay file...]");
            return 2;
        }

        if (args.Length > 1 && args[1] == "--replay")
        {
            return Replay(target!, args.AsSpan(2));
        }

        // Any exception escaping the action is reported to afl-fuzz as a crash; the targets catch only the
        // documented rejection types.
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            target!.Run(buffer.ToArray());
        });
        return 0;
    }

    private static int Replay(FuzzTarget target, ReadOnlySpan<string> files)
    {
        int failures = 0;
        foreach (string file in files)
        {
            byte[] input = File.ReadAllBytes(file);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                string outcome = target.Run(input);
                Console.WriteLine($"{file}: {outcome} ({input.Length} bytes, {watch.ElapsedMilliseconds} ms)");
            }
            catch (Exception e)
            {
                failures++;
                Console.WriteLine($"{file}: CRASH ({input.Length} bytes, {watch.ElapsedMilliseconds} ms)");
                Console.WriteLine(e.ToString());
            }
        }

        return failures == 0 ? 0 : 1;
    }
}
