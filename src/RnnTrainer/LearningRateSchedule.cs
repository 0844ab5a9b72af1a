namespace RnnEmbedded.Trainer;

/// <summary>
/// The learning rate against the step: linear warmup over <see cref="TrainOptions.WarmupSteps"/>, then constant or
/// a cosine / linear decay to <see cref="TrainOptions.MinLrFraction"/> × lr over <see cref="TrainOptions.DecaySteps"/>
/// (default <see cref="TrainOptions.Steps"/>). Gradient clipping (<see cref="TrainOptions.Clip"/>, a constant
/// global-norm threshold) is applied by <see cref="Optimizer"/>.
/// </summary>
public sealed class LearningRateSchedule
{
    private readonly float _lr;
    private readonly long _warmup;
    private readonly long _horizon;
    private readonly LrDecay _decay;
    private readonly double _minFraction;

    public LearningRateSchedule(TrainOptions options)
    {
        _lr = options.Lr;
        _warmup = options.WarmupSteps;
        _horizon = options.DecaySteps > 0 ? options.DecaySteps : options.Steps;
        _decay = options.Decay;
        _minFraction = options.MinLrFraction;
    }

    /// <summary>The learning rate of the update made at <paramref name="step"/> (0-based).</summary>
    public float At(long step)
    {
        if (_warmup > 0 && step < _warmup)
        {
            return _lr * (step + 1) / _warmup;
        }

        if (_decay == LrDecay.None || _horizon <= _warmup)
        {
            return _lr;
        }

        double progress = Math.Clamp((double)(step - _warmup) / (_horizon - _warmup), 0, 1);
        double min = _minFraction;
        double factor = _decay == LrDecay.Cosine
            ? min + (1 - min) * 0.5 * (1 + Math.Cos(Math.PI * progress))
            : 1 - (1 - min) * progress;
        return (float)(_lr * factor);
    }
}
