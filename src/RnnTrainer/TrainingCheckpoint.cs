using System.Globalization;
using System.Text.Json;
using RnnEmbedded.Compiler.Formats;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Trainer;

/// <summary>Where a run is: the counters a checkpoint saves beside the tensors.</summary>
public sealed class RunPosition
{
    /// <summary>Optimizer steps taken in total (across resumes).</summary>
    public long Step { get; set; }

    /// <summary>The next window of the epoch.</summary>
    public int WindowIndex { get; set; }

    public int Epoch { get; set; }

    /// <summary>Wall-clock seconds of the invocations before this one.</summary>
    public double PreviousSeconds { get; set; }
}

/// <summary>
/// Training checkpoints (docs/training.md, "Checkpoints"). A checkpoint is a weight file: its model tensors and
/// <c>rnn.*</c> metadata are exactly what <see cref="ModelWriter"/> writes for the weights at the checkpoint, so
/// the model part opens in every tool; the trainer's state is in tensors named <c>train.*</c> (optimizer moments,
/// the carried recurrent state, the loss curve, all finite) and in metadata keys <c>ckpt.*</c>.
/// Written atomically (temp file + rename).
/// </summary>
public static class TrainingCheckpoint
{
    /// <summary>Value of the <c>ckpt.kind</c> metadata key.</summary>
    public const string Kind = "rnn-train-checkpoint";

    /// <summary>Value of the <c>ckpt.format</c> metadata key this trainer writes and reads.</summary>
    public const string Format = "2";

    /// <summary>Tensor name prefix of the trainer's state (not part of the model).</summary>
    public const string StatePrefix = "train.";

    /// <summary>Metadata key prefix of the trainer's state.</summary>
    public const string MetadataPrefix = "ckpt.";

    internal static readonly JsonSerializerOptions s_json = new()
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    /// <summary>True when <paramref name="file"/> is a training checkpoint (metadata <c>ckpt.kind</c>).</summary>
    public static bool IsCheckpoint(WeightFile file) =>
        file.Metadata.TryGetValue(MetadataPrefix + "kind", out string? kind) && kind == Kind;

    /// <summary>The model a checkpoint holds (its weights at the checkpoint's step), without the trainer's state.</summary>
    public static ModelSpec ModelOf(WeightFile file)
    {
        var tensors = file.Tensors.Where(t => !t.Name.StartsWith(StatePrefix, StringComparison.Ordinal)).ToList();
        var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> e in file.Metadata)
        {
            if (!e.Key.StartsWith(MetadataPrefix, StringComparison.Ordinal))
            {
                metadata[e.Key] = e.Value;
            }
        }

        return ModelBuilder.Build(new WeightFile(file.FileName, tensors, metadata));
    }

    /// <summary>The model of a weight file, or of a training checkpoint (as <see cref="ModelOf"/>); what <c>rnn inspect</c> and <c>rnn run</c> open.</summary>
    /// <exception cref="RnnFormatException">The file cannot be read or does not describe a supported model.</exception>
    public static ModelSpec LoadModel(string path)
    {
        WeightFile file = ModelLoader.ReadWeights(path); // safetensors, or ONNX by its extension
        return IsCheckpoint(file) ? ModelOf(file) : ModelBuilder.Build(file);
    }

    /// <summary>Reads a checkpoint for resuming; returns the file and the options it was written with.</summary>
    public static (WeightFile File, TrainOptions Options) Read(string path)
    {
        WeightFile file = SafeTensorsReader.ReadFile(path);
        if (!IsCheckpoint(file))
        {
            throw new InvalidDataException($"{path}: not a training checkpoint (no {MetadataPrefix}kind = {Kind})");
        }

        string format = file.Metadata.TryGetValue(MetadataPrefix + "format", out string? f) ? f : "1";
        if (format != Format)
        {
            throw new InvalidDataException(
                $"{path}: checkpoint format {format}; this trainer resumes format {Format} only (start a new run, or resume with the rnn that wrote it)");
        }

        TrainOptions saved = JsonSerializer.Deserialize<TrainOptions>(Meta(file, "options"), s_json)
            ?? throw new InvalidDataException($"{path}: {MetadataPrefix}options is empty");
        return (file, saved);
    }

    /// <summary>Writes a checkpoint of the run atomically.</summary>
    public static void Write(
        string path, ModelSpec model, TrainOptions options, Network net, Optimizer optimizer, Window window, RunPosition position,
        ValidationTracker tracker, LossCurve curve, double elapsedSeconds, IReadOnlyList<string> vocabulary)
    {
        (IReadOnlyList<Tensor> modelTensors, IReadOnlyDictionary<string, string> modelMetadata) = ModelWriter.ToTensors(model);
        var tensors = new List<Tensor>(modelTensors);
        for (int i = 0; i < net.Parameters.Count; i++)
        {
            Parameter p = net.Parameters[i];
            tensors.Add(new Tensor(StatePrefix + "opt.m." + p.Name, new[] { optimizer.First[i].Length }, optimizer.First[i]));
            if (optimizer.Second[i].Length > 0)
            {
                tensors.Add(new Tensor(StatePrefix + "opt.v." + p.Name, new[] { optimizer.Second[i].Length }, optimizer.Second[i]));
            }
        }

        float[] state = window.GetState();
        tensors.Add(new Tensor(StatePrefix + "state", new[] { state.Length }, state));
        AddCurve(tensors, StatePrefix + "curve.training", curve.Training);
        AddCurve(tensors, StatePrefix + "curve.validation", curve.Validation);

        var meta = new Dictionary<string, string>(modelMetadata)
        {
            [MetadataPrefix + "kind"] = Kind,
            [MetadataPrefix + "format"] = Format,
            [MetadataPrefix + "options"] = JsonSerializer.Serialize(options with { Resume = null }, s_json),
            [MetadataPrefix + "step"] = position.Step.ToString(CultureInfo.InvariantCulture),
            [MetadataPrefix + "window"] = position.WindowIndex.ToString(CultureInfo.InvariantCulture),
            [MetadataPrefix + "epoch"] = position.Epoch.ToString(CultureInfo.InvariantCulture),
            [MetadataPrefix + "optimizer_steps"] = optimizer.StepCount.ToString(CultureInfo.InvariantCulture),
            [MetadataPrefix + "best_val"] = tracker.BestLoss.ToString("R", CultureInfo.InvariantCulture),
            [MetadataPrefix + "evals_without_improvement"] = tracker.WithoutImprovement.ToString(CultureInfo.InvariantCulture),
            [MetadataPrefix + "elapsed_seconds"] = (position.PreviousSeconds + elapsedSeconds).ToString("R", CultureInfo.InvariantCulture),
            [MetadataPrefix + "vocab"] = JsonSerializer.Serialize(vocabulary),
        };
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        SafeTensorsWriter.WriteFile(path, tensors, meta);
    }

    /// <summary>Puts a checkpoint's state back into a freshly built run with the same architecture and corpus.</summary>
    public static void Restore(
        WeightFile file, string corpus, IReadOnlyList<string> vocabulary, Network net, Optimizer optimizer, Window window, RunPosition position,
        ValidationTracker tracker, LossCurve curve)
    {
        string name = file.FileName;
        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (Tensor tensor in file.Tensors)
        {
            byName[tensor.Name] = tensor;
        }

        if (Meta(file, "vocab") != JsonSerializer.Serialize(vocabulary))
        {
            throw new InvalidDataException($"{name}: the checkpoint's vocabulary differs from the corpus {corpus} (resume with the same corpus)");
        }

        float[] Get(string tensorName, int length)
        {
            if (!byName.TryGetValue(tensorName, out Tensor? tensor))
            {
                throw new InvalidDataException($"{name}: checkpoint tensor '{tensorName}' is missing");
            }

            if (tensor.Data.Length != length)
            {
                throw new InvalidDataException($"{name}: checkpoint tensor '{tensorName}' has {tensor.Data.Length} floats, expected {length}");
            }

            return tensor.Data;
        }

        for (int i = 0; i < net.Parameters.Count; i++)
        {
            Parameter p = net.Parameters[i];
            Array.Copy(Get(p.Name, p.Value.Length), p.Value, p.Value.Length);
            Array.Copy(Get(StatePrefix + "opt.m." + p.Name, p.Value.Length), optimizer.First[i], p.Value.Length);
            if (optimizer.Second[i].Length > 0)
            {
                Array.Copy(Get(StatePrefix + "opt.v." + p.Name, p.Value.Length), optimizer.Second[i], p.Value.Length);
            }
        }

        net.RefreshTransposed();
        window.SetState(Get(StatePrefix + "state", window.GetState().Length));
        ReadCurve(byName, StatePrefix + "curve.training", curve.Training);
        ReadCurve(byName, StatePrefix + "curve.validation", curve.Validation);

        position.Step = long.Parse(Meta(file, "step"), CultureInfo.InvariantCulture);
        position.WindowIndex = int.Parse(Meta(file, "window"), CultureInfo.InvariantCulture);
        position.Epoch = int.Parse(Meta(file, "epoch"), CultureInfo.InvariantCulture);
        position.PreviousSeconds = double.Parse(Meta(file, "elapsed_seconds"), CultureInfo.InvariantCulture);
        optimizer.StepCount = long.Parse(Meta(file, "optimizer_steps"), CultureInfo.InvariantCulture);
        tracker.BestLoss = double.Parse(Meta(file, "best_val"), CultureInfo.InvariantCulture);
        tracker.WithoutImprovement = int.Parse(Meta(file, "evals_without_improvement"), CultureInfo.InvariantCulture);
    }

    private static string Meta(WeightFile file, string key) =>
        file.Metadata.TryGetValue(MetadataPrefix + key, out string? value)
            ? value
            : throw new InvalidDataException($"{file.FileName}: checkpoint metadata '{MetadataPrefix}{key}' is missing");

    // (points, 2): step, loss. Absent when there are no points (a tensor needs at least one element).
    private static void AddCurve(List<Tensor> tensors, string name, List<(long Step, double Loss)> points)
    {
        // A diverged run's non-finite losses are left out: every tensor of a checkpoint is finite.
        var data = new List<float>(points.Count * 2);
        foreach ((long step, double loss) in points)
        {
            if (float.IsFinite((float)loss))
            {
                data.Add(step);
                data.Add((float)loss);
            }
        }

        if (data.Count > 0)
        {
            tensors.Add(new Tensor(name, new[] { data.Count / 2, 2 }, data.ToArray()));
        }
    }

    private static void ReadCurve(Dictionary<string, Tensor> byName, string name, List<(long Step, double Loss)> points)
    {
        if (byName.TryGetValue(name, out Tensor? tensor))
        {
            for (int i = 0; i + 1 < tensor.Data.Length; i += 2)
            {
                points.Add(((long)tensor.Data[i], tensor.Data[i + 1]));
            }
        }
    }
}
