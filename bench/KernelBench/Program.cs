using BenchmarkDotNet.Running;

if (args.Length > 0 && args[0] == "--int8-dot-paths")
{
    RnnEmbedded.Bench.Int8DotPathBench.Run(args);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(RnnEmbedded.Bench.GemvBench).Assembly).Run(args);
