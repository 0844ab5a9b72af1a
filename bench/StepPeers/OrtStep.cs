using Microsoft.ML.OnnxRuntime;

/// <summary>
/// ONNX Runtime's C# API the fastest reasonable way for a streaming step: one session (one intra-op and one inter-op
/// thread, sequential, all graph optimizations), every input and output an OrtValue over preallocated pinned arrays,
/// and two prebuilt IOBindings that carry the state back and forth (binding 0 reads state A and writes state B,
/// binding 1 the other way), so a step is: write the token, RunWithBinding, read the probabilities.
/// </summary>
internal sealed class OrtStep : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly long[] _token = new long[1];
    private readonly float[] _probs;
    private readonly float[][] _h;
    private readonly float[][]? _c;
    private readonly List<IDisposable> _owned = new();
    private readonly OrtIoBinding[] _bindings = new OrtIoBinding[2];
    private int _current;

    public OrtStep(string onnxPath, bool lstm, int hidden, int vocabulary)
    {
        var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        _session = new InferenceSession(onnxPath, options);
        _owned.Add(options);
        _probs = new float[vocabulary];
        _h = [new float[hidden], new float[hidden]];
        _c = lstm ? [new float[hidden], new float[hidden]] : null;
        long[] stateShape = [1, 1, hidden];
        OrtValue token = Own(OrtValue.CreateTensorValueFromMemory(_token, [1, 1]));
        OrtValue probs = Own(OrtValue.CreateTensorValueFromMemory(_probs, [1, vocabulary]));
        OrtValue[] h = [Own(OrtValue.CreateTensorValueFromMemory(_h[0], stateShape)), Own(OrtValue.CreateTensorValueFromMemory(_h[1], stateShape))];
        OrtValue[]? c = _c is null ? null :
            [Own(OrtValue.CreateTensorValueFromMemory(_c[0], stateShape)), Own(OrtValue.CreateTensorValueFromMemory(_c[1], stateShape))];
        for (int i = 0; i < 2; i++)
        {
            OrtIoBinding binding = _session.CreateIoBinding();
            _owned.Add(binding);
            binding.BindInput("token", token);
            binding.BindInput("h", h[i]);
            binding.BindOutput("probs", probs);
            binding.BindOutput("h_out", h[1 - i]);
            if (c is not null)
            {
                binding.BindInput("c", c[i]);
                binding.BindOutput("c_out", c[1 - i]);
            }

            _bindings[i] = binding;
        }
    }

    public ReadOnlySpan<float> Probabilities => _probs;

    public void Reset()
    {
        foreach (float[] s in _h)
        {
            Array.Clear(s);
        }

        foreach (float[] s in _c ?? [])
        {
            Array.Clear(s);
        }

        _current = 0;
    }

    public void Step(int token)
    {
        _token[0] = token;
        _session.RunWithBinding(_run, _bindings[_current]);
        _current ^= 1;
    }

    public void Dispose()
    {
        foreach (IDisposable d in _owned)
        {
            d.Dispose();
        }

        _run.Dispose();
        _session.Dispose();
    }

    private OrtValue Own(OrtValue value)
    {
        _owned.Add(value);
        return value;
    }
}
