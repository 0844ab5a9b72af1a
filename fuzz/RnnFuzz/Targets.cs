using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Formats.Onnx;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Fuzz;

/// <summary>
/// One parser under test. <see cref="Run"/> returns a short outcome ("accepted", "rejected: …") for an input the
/// parser handled as documented, and throws for anything else: an exception type other than the documented
/// rejection, a broken invariant (<see cref="FuzzInvariantException"/>), or an allocation out of proportion to the
/// input. Hangs are caught by afl-fuzz's timeout.
/// </summary>
public sealed class FuzzTarget
{
    // Same budget as tests/RnnCompiler.Tests/Formats/SafeTensorsMutationTests.cs: a constant factor of the input.
    private const long AllocationFactor = 64;
    private const long AllocationSlack = 1 << 20;

    private readonly Func<byte[], string> _body;

    public FuzzTarget(string name, string description, Func<byte[], string> body)
    {
        Name = name;
        Description = description;
        _body = body;
    }

    public string Name { get; }

    public string Description { get; }

    public string Run(byte[] input) => _body(input);

    /// <summary>
    /// Runs <paramref name="parse"/> (the parser call alone, not the harness's own checks) and fails when it
    /// allocates more than a constant factor of the input: a small hostile input must not buy a large allocation.
    /// </summary>
    public static T Measure<T>(string what, int inputLength, Func<T> parse)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            return parse();
        }
        finally
        {
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            long budget = AllocationFactor * inputLength + AllocationSlack;
            if (allocated > budget)
            {
                throw new FuzzInvariantException(
                    $"{what} allocated {allocated} bytes for a {inputLength}-byte input; the budget is {budget} ({AllocationFactor}x + 1 MiB)");
            }
        }
    }
}

/// <summary>A parser accepted or rejected an input in a way its documentation rules out.</summary>
public sealed class FuzzInvariantException : Exception
{
    public FuzzInvariantException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// The fuzz targets, one per parser. Adding a parser (the ONNX reader, say) is one more entry here and one more
/// seed directory fuzz/corpus/&lt;name&gt;/.
/// </summary>
public static class Targets
{
    private const string FileName = "fuzz.safetensors";

    private static readonly FuzzTarget[] s_all =
    [
        new("json", "Json.Parse on the input decoded as UTF-8 (invalid bytes become U+FFFD)", RunJson),
        new("safetensors", "SafeTensorsReader.Read on the raw bytes; accepted files round-trip through SafeTensorsWriter", RunSafeTensors),
        new("model", "SafeTensorsReader.Read, then ModelBuilder.Build on whatever the reader accepts; accepted models convert (ModelWriter) and plan", RunModel),
        new("onnx", "OnnxReader.Read, OnnxImporter.Import (no external data), ModelBuilder.Build; accepted models convert to safetensors and back to the same spec, and plan", RunOnnx),

        // Checks the plumbing, not a parser: an input containing "crash" must be reported as a crash, one
        // containing "hang" as a hang (docs/fuzzing.md, "Checking the harness").
        new("selftest", "the json target, then throws on an input containing \"crash\", loops on one containing \"hang\"", RunSelfTest),
    ];

    public static IEnumerable<string> Names => s_all.Select(t => t.Name);

    public static IReadOnlyList<FuzzTarget> All => s_all;

    public static bool TryGet(string name, out FuzzTarget? target)
    {
        target = Array.Find(s_all, t => t.Name == name);
        return target is not null;
    }

    // ------------------------------------------------------------------ selftest

    private static string RunSelfTest(byte[] input)
    {
        // Through Json.Parse so that afl-fuzz sees instrumented code run (it refuses a target without coverage).
        RunJson(input);
        string text = Encoding.ASCII.GetString(input);
        if (text.Contains("crash"))
        {
            throw new InvalidOperationException("selftest: a deliberate crash");
        }

        while (text.Contains("hang"))
        {
            System.Threading.Thread.Sleep(100);
        }

        return "accepted";
    }

    // ------------------------------------------------------------------ json

    private static string RunJson(byte[] input)
    {
        string text = Encoding.UTF8.GetString(input);
        JsonValue lenient;
        try
        {
            lenient = FuzzTarget.Measure("Json.Parse", input.Length, () => Json.Parse(text, allowDuplicateKeys: true));
        }
        catch (JsonParseException e)
        {
            CheckOffset(e, text);
            // Duplicate keys are the only thing the strict mode adds; it must reject too.
            try
            {
                Json.Parse(text, allowDuplicateKeys: false);
            }
            catch (JsonParseException)
            {
                return "rejected: " + e.Reason;
            }

            throw new FuzzInvariantException("json: the strict parse accepted what the lenient parse rejected: " + e.Message);
        }

        Walk(lenient, depth: 0);
        try
        {
            Json.Parse(text, allowDuplicateKeys: false);
        }
        catch (JsonParseException e) when (e.Reason.StartsWith("duplicate key", StringComparison.Ordinal))
        {
            return "accepted (duplicate keys)";
        }

        return "accepted";
    }

    private static void CheckOffset(JsonParseException e, string text)
    {
        if (e.Offset < 0 || e.Offset > text.Length)
        {
            throw new FuzzInvariantException($"json: error offset {e.Offset} is outside the {text.Length}-character text");
        }
    }

    private static void Walk(JsonValue value, int depth)
    {
        if (depth > Json.MaxDepth)
        {
            throw new FuzzInvariantException($"json: a value nested {depth} levels deep was accepted; the limit is {Json.MaxDepth}");
        }

        _ = value.Describe();
        switch (value.Kind)
        {
            case JsonKind.Object:
                foreach (KeyValuePair<string, JsonValue> member in value.Members)
                {
                    CheckStringRoundTrip(member.Key);
                    Walk(member.Value, depth + 1);
                }

                break;
            case JsonKind.Array:
                foreach (JsonValue item in value.Items)
                {
                    Walk(item, depth + 1);
                }

                break;
            case JsonKind.String:
                CheckStringRoundTrip(value.StringValue);
                break;
            case JsonKind.Number:
                string raw = value.RawNumber;
                _ = value.GetDouble();
                _ = value.HasMinusSign;
                if (value.TryGetInt64(out long integer))
                {
                    string back = integer.ToString(CultureInfo.InvariantCulture);
                    if (back != raw && raw != "-0")
                    {
                        throw new FuzzInvariantException($"json: TryGetInt64 read {raw} as {back}");
                    }
                }
                else if (value.IsIntegerLiteral && raw.Length < 19)
                {
                    throw new FuzzInvariantException($"json: TryGetInt64 refused the short integer {raw}");
                }

                break;
        }
    }

    private static void CheckStringRoundTrip(string s)
    {
        string quoted = Json.Quote(s);
        JsonValue back = Json.Parse(quoted);
        if (back.Kind != JsonKind.String || back.StringValue != s)
        {
            throw new FuzzInvariantException($"json: Quote/Parse does not round-trip {quoted}");
        }
    }

    // ------------------------------------------------------------------ safetensors

    private static string RunSafeTensors(byte[] input)
    {
        WeightFile file;
        try
        {
            file = FuzzTarget.Measure("SafeTensorsReader.Read", input.Length, () => SafeTensorsReader.Read(input, FileName));
        }
        catch (RnnFormatException e)
        {
            return "rejected: " + e.Rule;
        }

        // Whatever the reader accepts, the writer can write, and reading that back gives the same tensors.
        byte[] rewritten = SafeTensorsWriter.Write(file.Tensors, file.Metadata);
        WeightFile again = SafeTensorsReader.Read(rewritten, FileName);
        CheckSame(file, again);
        return $"accepted: {file.Tensors.Count} tensors, {file.Metadata.Count} metadata keys";
    }

    private static void CheckSame(WeightFile a, WeightFile b)
    {
        if (a.Tensors.Count != b.Tensors.Count || !a.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal)
                .SequenceEqual(b.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal)))
        {
            throw new FuzzInvariantException("safetensors: the written file does not read back with the same tensors and metadata");
        }

        for (int i = 0; i < a.Tensors.Count; i++)
        {
            Tensor x = a.Tensors[i];
            Tensor y = b.Tensors[i];
            bool same = x.Name == y.Name && x.Shape.SequenceEqual(y.Shape) && x.Data.Length == y.Data.Length;
            for (int j = 0; same && j < x.Data.Length; j++)
            {
                same = BitConverter.SingleToInt32Bits(x.Data[j]) == BitConverter.SingleToInt32Bits(y.Data[j]);
            }

            if (!same)
            {
                throw new FuzzInvariantException($"safetensors: tensor {i} '{x.Name}' does not round-trip through the writer");
            }
        }
    }

    // ------------------------------------------------------------------ model

    private static string RunModel(byte[] input)
    {
        WeightFile file;
        try
        {
            file = FuzzTarget.Measure("SafeTensorsReader.Read", input.Length, () => SafeTensorsReader.Read(input, FileName));
        }
        catch (RnnFormatException e)
        {
            return "rejected by the reader: " + e.Rule;
        }

        ModelSpec spec;
        try
        {
            spec = FuzzTarget.Measure("ModelBuilder.Build", input.Length, () => ModelBuilder.Build(file));
        }
        catch (RnnFormatException e)
        {
            return "rejected by the builder: " + e.Message;
        }

        return CheckAccepted(spec, "model");
    }

    /// <summary>
    /// What happens to a model the builder accepted: <c>rnn convert</c> (ModelWriter's canonical names and
    /// metadata) must write a file that builds the same model, and the generator's planner and writer must
    /// either emit it or reject it with a diagnostic (<see cref="CSharpEmitter.EmitException"/>), never throw
    /// anything else. The planner runs with resource storage (the build's route), so the writer emits accessors,
    /// not weight literals.
    /// </summary>
    private static string CheckAccepted(ModelSpec spec, string target)
    {
        (IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string> metadata) = ModelWriter.ToTensors(spec);
        ModelSpec again = ModelBuilder.Build(SafeTensorsReader.Read(SafeTensorsWriter.Write(tensors, metadata), "fuzz.safetensors"));
        string? difference = ModelSpecComparer.FirstDifference(spec, again);
        if (difference is not null)
        {
            throw new FuzzInvariantException($"{target}: ModelWriter's file builds a different model: {difference}");
        }

        string accepted = $"accepted: {spec.Layers.Count} layers, input {spec.InputKind} {spec.InputSize}, task {spec.Task}";
        try
        {
            ModelPlan plan = ModelPlanner.Plan(spec, new EmitOptions { TypeName = "Fuzz.Model", Storage = WeightStorage.Resource });
            _ = SourceWriter.Write(plan);
        }
        catch (CSharpEmitter.EmitException e)
        {
            return $"{accepted}; rejected by the planner: {e.Code}: {e.Message}";
        }

        return accepted;
    }

    // ------------------------------------------------------------------ onnx

    private static string RunOnnx(byte[] input)
    {
        const string OnnxName = "fuzz.onnx";
        OnnxModel model;
        try
        {
            model = FuzzTarget.Measure("OnnxReader.Read", input.Length, () => OnnxReader.Read(input, OnnxName));
        }
        catch (RnnFormatException e)
        {
            return "rejected by the reader: " + e.Rule;
        }

        WeightFile file;
        try
        {
            file = FuzzTarget.Measure("OnnxImporter.Import", input.Length, () => OnnxImporter.Import(model, OnnxName, external: null, sourceLength: input.Length));
        }
        catch (RnnFormatException e)
        {
            return "rejected by the importer: " + e.Message;
        }

        ModelSpec spec;
        try
        {
            spec = FuzzTarget.Measure("ModelBuilder.Build", input.Length, () => ModelBuilder.Build(file));
        }
        catch (RnnFormatException e)
        {
            return "rejected by the builder: " + e.Message;
        }

        // What rnn convert writes must build the same model.
        byte[] converted = SafeTensorsWriter.Write(file.Tensors, file.Metadata);
        ModelSpec again = ModelBuilder.Build(SafeTensorsReader.Read(converted, "fuzz.safetensors"));
        string? difference = ModelSpecComparer.FirstDifference(spec, again, compareMetadata: true);
        if (difference is not null)
        {
            throw new FuzzInvariantException("onnx: the converted safetensors builds a different model: " + difference);
        }

        return CheckAccepted(spec, "onnx");
    }
}
