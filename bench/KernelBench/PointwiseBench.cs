using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;

namespace RnnEmbedded.Bench;

/// <summary>
/// Activations over 1024 values (the 4H gate buffer of an H=256 LSTM) against MathF loops, and the LSTM
/// pointwise step at H=256 against the same equations written with MathF. Baseline per category.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class PointwiseBench
{
    private const int H = 256;
    private readonly float[] _source = new float[4 * H];
    private readonly float[] _destination = new float[4 * H];
    private readonly float[] _c = new float[H];
    private readonly float[] _h = new float[H];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        for (int i = 0; i < _source.Length; i++)
        {
            _source[i] = (float)((random.NextDouble() * 8) - 4);
        }
    }

    [BenchmarkCategory("Sigmoid"), Benchmark(Baseline = true)]
    public float SigmoidMathF()
    {
        for (int i = 0; i < _source.Length; i++)
        {
            _destination[i] = 1f / (1f + MathF.Exp(-_source[i]));
        }

        return _destination[0];
    }

    [BenchmarkCategory("Sigmoid"), Benchmark]
    public float SigmoidScalar() => SigmoidAt(VectorWidth.Scalar);

    [BenchmarkCategory("Sigmoid"), Benchmark]
    public float SigmoidV128() => SigmoidAt(VectorWidth.V128);

    [BenchmarkCategory("Sigmoid"), Benchmark]
    public float SigmoidV256() => SigmoidAt(VectorWidth.V256);

    [BenchmarkCategory("Sigmoid"), Benchmark]
    public float SigmoidV512() => SigmoidAt(VectorWidth.V512);

    private float SigmoidAt(VectorWidth width)
    {
        Activations.Sigmoid(_source, _destination, width);
        return _destination[0];
    }

    [BenchmarkCategory("Tanh"), Benchmark(Baseline = true)]
    public float TanhMathF()
    {
        for (int i = 0; i < _source.Length; i++)
        {
            _destination[i] = MathF.Tanh(_source[i]);
        }

        return _destination[0];
    }

    [BenchmarkCategory("Tanh"), Benchmark]
    public float TanhScalar() => TanhAt(VectorWidth.Scalar);

    [BenchmarkCategory("Tanh"), Benchmark]
    public float TanhV128() => TanhAt(VectorWidth.V128);

    [BenchmarkCategory("Tanh"), Benchmark]
    public float TanhV256() => TanhAt(VectorWidth.V256);

    [BenchmarkCategory("Tanh"), Benchmark]
    public float TanhV512() => TanhAt(VectorWidth.V512);

    private float TanhAt(VectorWidth width)
    {
        Activations.Tanh(_source, _destination, width);
        return _destination[0];
    }

    [BenchmarkCategory("LstmCell"), Benchmark(Baseline = true)]
    public float LstmMathF()
    {
        float[] g = _source;
        for (int k = 0; k < H; k++)
        {
            float i = 1f / (1f + MathF.Exp(-g[k]));
            float f = 1f / (1f + MathF.Exp(-g[H + k]));
            float gg = MathF.Tanh(g[(2 * H) + k]);
            float o = 1f / (1f + MathF.Exp(-g[(3 * H) + k]));
            float c = (f * _c[k]) + (i * gg);
            _c[k] = c;
            _h[k] = o * MathF.Tanh(c);
        }

        return _h[0];
    }

    [BenchmarkCategory("LstmCell"), Benchmark]
    public float LstmScalar() => LstmAt(VectorWidth.Scalar);

    [BenchmarkCategory("LstmCell"), Benchmark]
    public float LstmV128() => LstmAt(VectorWidth.V128);

    [BenchmarkCategory("LstmCell"), Benchmark]
    public float LstmV256() => LstmAt(VectorWidth.V256);

    [BenchmarkCategory("LstmCell"), Benchmark]
    public float LstmV512() => LstmAt(VectorWidth.V512);

    private float LstmAt(VectorWidth width)
    {
        CellKernels.Lstm(_source, _c, _h, width);
        return _h[0];
    }
}
