using System.Buffers.Binary;
using System.Text.Json;

/// <summary>A minimal F32-only safetensors reader for the peers (the bench models of bench/step/make_models.py).</summary>
internal static class Safetensors
{
    public static Dictionary<string, (long[] Shape, float[] Data)> Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        long n = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        using JsonDocument header = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        var result = new Dictionary<string, (long[], float[])>();
        foreach (JsonProperty tensor in header.RootElement.EnumerateObject())
        {
            if (tensor.Name == "__metadata__")
            {
                continue;
            }

            string dtype = tensor.Value.GetProperty("dtype").GetString()!;
            if (dtype != "F32")
            {
                throw new InvalidDataException($"{path}: tensor {tensor.Name} has dtype {dtype}; the peers read F32 only.");
            }

            long[] shape = tensor.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            JsonElement offsets = tensor.Value.GetProperty("data_offsets");
            int begin = (int)(8 + n + offsets[0].GetInt64());
            int end = (int)(8 + n + offsets[1].GetInt64());
            var data = new float[(end - begin) / 4];
            Buffer.BlockCopy(bytes, begin, data, 0, end - begin);
            result[tensor.Name] = (shape, data);
        }

        return result;
    }
}
