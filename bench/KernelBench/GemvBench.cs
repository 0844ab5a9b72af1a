using System.Numerics;
using BenchmarkDotNet.Attributes;
using RnnEmbedded.Runtime;
using RnnEmbedded.Runtime.CompilerServices;

namespace RnnEmbedded.Bench;

/// <summary>
/// y = W x for W (rows, cols): the packed panel kernel at each width against a naive row-major dot-product
/// loop (the baseline, ratio 1.00) and a row-major loop of System.Numerics.Vector dot products (what a
/// straightforward SIMD port does: one horizontal reduction per row).
/// 1024×320 is an LSTM's W_ih|W_hh at H=256 with a 64-wide input; 2048×576 is H=512.
/// </summary>
[MemoryDiagnoser]
public class GemvBench
{
    private float[] _rowMajor = [];
    private float[] _packed = [];
    private float[] _x = [];
    private float[] _y = [];
    private AlignedBuffer? _aligned;
    private int _rows;
    private int _cols;

    [Params("1024x320", "2048x576")]
    public string Shape { get; set; } = "1024x320";

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Shape.Split('x');
        _rows = int.Parse(parts[0]);
        _cols = int.Parse(parts[1]);
        var random = new Random(42);
        _rowMajor = new float[_rows * _cols];
        for (int i = 0; i < _rowMajor.Length; i++)
        {
            _rowMajor[i] = (float)(random.NextDouble() - 0.5);
        }

        _x = new float[_cols];
        for (int i = 0; i < _x.Length; i++)
        {
            _x[i] = (float)(random.NextDouble() - 0.5);
        }

        _packed = PanelPacking.Pack(_rowMajor, _rows, _cols);
        _y = new float[PanelPacking.PaddedRows(_rows)];
        _aligned = new AlignedBuffer(_packed);
    }

    [Benchmark(Baseline = true)]
    public float NaiveRowMajor()
    {
        float[] w = _rowMajor, x = _x, y = _y;
        int cols = _cols;
        for (int r = 0; r < _rows; r++)
        {
            float sum = 0f;
            int row = r * cols;
            for (int j = 0; j < cols; j++)
            {
                sum += w[row + j] * x[j];
            }

            y[r] = sum;
        }

        return y[0];
    }

    [Benchmark]
    public float RowMajorVectorDot()
    {
        float[] y = _y;
        ReadOnlySpan<float> x = _x;
        int cols = _cols;
        int vc = Vector<float>.Count;
        for (int r = 0; r < _rows; r++)
        {
            ReadOnlySpan<float> row = _rowMajor.AsSpan(r * cols, cols);
            var acc = Vector<float>.Zero;
            int j = 0;
            for (; j + vc <= cols; j += vc)
            {
                acc += new Vector<float>(row.Slice(j)) * new Vector<float>(x.Slice(j));
            }

            float sum = Vector.Sum(acc);
            for (; j < cols; j++)
            {
                sum += row[j] * x[j];
            }

            y[r] = sum;
        }

        return y[0];
    }

    [Benchmark]
    public float PackedScalar() => Run(VectorWidth.Scalar);

    [Benchmark]
    public float PackedV128() => Run(VectorWidth.V128);

    [Benchmark]
    public float PackedV256() => Run(VectorWidth.V256);

    [Benchmark]
    public float PackedV512() => Run(VectorWidth.V512);

    /// <summary>The same kernel over an <see cref="AlignedBuffer"/> copy (managed arrays are only 8-byte aligned, so most 64-byte loads straddle two cache lines).</summary>
    [Benchmark]
    public float PackedV512Aligned()
    {
        PackedGemv.Multiply(_aligned!.Span, _x, _y, VectorWidth.V512);
        return _y[0];
    }

    [Benchmark]
    public float PackedV256Aligned()
    {
        PackedGemv.Multiply(_aligned!.Span, _x, _y, VectorWidth.V256);
        return _y[0];
    }

    private float Run(VectorWidth width)
    {
        PackedGemv.Multiply(_packed, _x, _y, width);
        return _y[0];
    }
}
