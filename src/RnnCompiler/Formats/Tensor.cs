using System.Collections.Generic;

namespace RnnEmbedded.Compiler.Formats;

/// <summary>Element types a safetensors file may declare that we accept (converted to float32 on read).</summary>
public enum TensorDType
{
    F32,
    F16,
    BF16,
}

/// <summary>A named tensor, converted to float32, row-major.</summary>
public sealed class Tensor
{
    public Tensor(string name, int[] shape, float[] data, TensorDType sourceDType = TensorDType.F32)
    {
        Name = name;
        Shape = shape;
        Data = data;
        SourceDType = sourceDType;
    }

    public string Name { get; }

    public int[] Shape { get; }

    public float[] Data { get; }

    /// <summary>The dtype the file stored (the data is always float32 here).</summary>
    public TensorDType SourceDType { get; }

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>The parsed content of a weight file: tensors in file order and the __metadata__ map.</summary>
public sealed class WeightFile
{
    public WeightFile(string fileName, IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        FileName = fileName;
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The file name used in error messages.</summary>
    public string FileName { get; }

    public IReadOnlyList<Tensor> Tensors { get; }

    /// <summary>__metadata__, keys in ordinal order.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }
}

/// <summary>Options for <c>SafeTensorsReader.Read</c>.</summary>
public sealed class SafeTensorsReadOptions
{
    public static readonly SafeTensorsReadOptions Default = new();

    /// <summary>Accept NaN and ±Inf weights (rejected by default).</summary>
    public bool AllowNonFinite { get; init; }
}
