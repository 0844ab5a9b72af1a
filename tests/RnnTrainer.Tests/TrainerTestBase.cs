using RnnEmbedded.Trainer;

namespace RnnEmbedded.Tests;

/// <summary>
/// What the end-to-end trainer tests share: a temporary directory (deleted afterwards), writing a corpus into it, and
/// small, quiet training options — two threads, lr 0.01, no samples, no timed checkpoints or evaluations — that each
/// test class narrows to its task with <c>with</c>.
/// </summary>
public abstract class TrainerTestBase : IDisposable
{
    protected TrainerTestBase(string name)
    {
        Dir = Path.Combine(Path.GetTempPath(), $"rnn-{name}-tests-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Dir);
    }

    /// <summary>The test's temporary directory.</summary>
    protected string Dir { get; }

    public void Dispose()
    {
        Directory.Delete(Dir, true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Writes <paramref name="text"/> to <paramref name="name"/> in <see cref="Dir"/>; returns its path.</summary>
    protected string Write(string name, string text)
    {
        string path = Path.Combine(Dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Options every end-to-end test starts from: output <paramref name="outName"/> in <see cref="Dir"/>.</summary>
    protected TrainOptions Quiet(string corpus, string outName) => new()
    {
        Corpus = corpus,
        Lr = 1e-2f,
        Threads = 2,
        Out = Path.Combine(Dir, outName),
        SampleSeconds = 0,
        CheckpointSeconds = 0,
        EvalSeconds = 1e9,
        EvalStreams = 1,
    };
}
