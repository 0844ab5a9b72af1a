using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

/// <summary>
/// TorchSharp the fastest reasonable way for a streaming step: nn.Embedding → nn.LSTMCell / nn.GRUCell (the cell
/// modules: nn.LSTM's oneDNN path is several times slower at one time step) → nn.Linear → softmax, loaded with the
/// same weights by load_state_dict, one thread, gradients off, the token written into a preallocated tensor and
/// every step's temporaries freed by a dispose scope (the new state moved out of it).
/// </summary>
internal sealed class TorchStep : IDisposable
{
    private readonly Embedding _embedding;
    private readonly LSTMCell? _lstm;
    private readonly GRUCell? _gru;
    private readonly Linear _head;
    private readonly Tensor _token;
    private readonly float[] _probs;
    private readonly int _hidden;
    private Tensor _h;
    private Tensor? _c;

    public TorchStep(Dictionary<string, (long[] Shape, float[] Data)> weights, bool lstm, int hidden, int vocabulary, int embedding)
    {
        _hidden = hidden;
        Tensor T(string name) => torch.tensor(weights[name].Data, weights[name].Shape);
        _embedding = nn.Embedding(vocabulary, embedding);
        _embedding.load_state_dict(new Dictionary<string, Tensor> { ["weight"] = T("embedding.weight") });
        var cell = new Dictionary<string, Tensor>
        {
            ["weight_ih"] = T("rnn.weight_ih_l0"),
            ["weight_hh"] = T("rnn.weight_hh_l0"),
            ["bias_ih"] = T("rnn.bias_ih_l0"),
            ["bias_hh"] = T("rnn.bias_hh_l0"),
        };
        if (lstm)
        {
            _lstm = nn.LSTMCell(embedding, hidden);
            _lstm.load_state_dict(cell);
        }
        else
        {
            _gru = nn.GRUCell(embedding, hidden);
            _gru.load_state_dict(cell);
        }

        _head = nn.Linear(hidden, vocabulary);
        _head.load_state_dict(new Dictionary<string, Tensor> { ["weight"] = T("head.weight"), ["bias"] = T("head.bias") });
        _token = torch.zeros(1, dtype: ScalarType.Int64);
        _probs = new float[vocabulary];
        _h = torch.zeros(1, hidden);
        _c = lstm ? torch.zeros(1, hidden) : null;
    }

    public ReadOnlySpan<float> Probabilities => _probs;

    public void Reset()
    {
        _h.Dispose();
        _h = torch.zeros(1, _hidden);
        if (_c is not null)
        {
            _c.Dispose();
            _c = torch.zeros(1, _hidden);
        }
    }

    public void Step(int token)
    {
        using var noGrad = torch.no_grad();
        using DisposeScope scope = torch.NewDisposeScope();
        _token.data<long>()[0] = token;
        Tensor x = _embedding.forward(_token);
        Tensor h;
        if (_lstm is not null)
        {
            (h, Tensor c) = _lstm.forward(x, (_h, _c!));
            _c!.Dispose();
            _c = c.MoveToOuterDisposeScope();
        }
        else
        {
            h = _gru!.forward(x, _h);
        }

        _h.Dispose();
        _h = h.MoveToOuterDisposeScope();
        Tensor probs = torch.softmax(_head.forward(_h), -1);
        probs.data<float>().CopyTo(_probs);
    }

    public void Dispose()
    {
        _h.Dispose();
        _c?.Dispose();
        _token.Dispose();
        _embedding.Dispose();
        _lstm?.Dispose();
        _gru?.Dispose();
        _head.Dispose();
    }
}
