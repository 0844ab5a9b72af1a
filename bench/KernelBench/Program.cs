using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(RnnEmbedded.Bench.GemvBench).Assembly).Run(args);
