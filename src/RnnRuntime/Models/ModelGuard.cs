using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;

namespace RnnEmbedded.Runtime.CompilerServices;

/// <summary>
/// Argument checks for generated models: the throw sites are out of line (in the runtime's one throw helper),
/// so the generated <c>Step</c> and <c>Run</c> methods stay small and allocation-free. Called only by generated code.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ModelGuard
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/>: <paramref name="token"/> is not in [0, <paramref name="vocabularySize"/>).</summary>
    /// <param name="token">The token id the caller passed.</param>
    /// <param name="vocabularySize">The model's input size V.</param>
    [DoesNotReturn]
    public static void ThrowToken(int token, int vocabularySize) => ThrowHelper.ModelToken(token, vocabularySize);

    /// <summary>Throws <see cref="ArgumentException"/>: an output span is shorter than what the model writes.</summary>
    /// <param name="argument">The parameter's name.</param>
    /// <param name="length">The span's length.</param>
    /// <param name="required">The floats the model writes.</param>
    [DoesNotReturn]
    public static void ThrowOutput(string argument, int length, int required) => ThrowHelper.ModelOutput(argument, length, required);

    /// <summary>Throws <see cref="ArgumentException"/>: an input span's length is not what the model reads.</summary>
    /// <param name="argument">The parameter's name.</param>
    /// <param name="length">The span's length.</param>
    /// <param name="required">The floats the model reads per step.</param>
    [DoesNotReturn]
    public static void ThrowInput(string argument, int length, int required) => ThrowHelper.ModelInput(argument, length, required);

    /// <summary>
    /// Checks a batched step's spans: <paramref name="inputLength"/> must be <c>models · inputsPerModel</c> and
    /// <paramref name="outputLength"/> at least <c>models · outputSize</c>; throws <see cref="ArgumentException"/>
    /// naming the span otherwise.
    /// </summary>
    /// <param name="models">The number of models stepped.</param>
    /// <param name="inputLength">The length of the tokens or inputs span.</param>
    /// <param name="inputName">That span's parameter name.</param>
    /// <param name="outputLength">The length of the outputs span.</param>
    /// <param name="outputSize">The floats each model writes.</param>
    /// <param name="inputsPerModel">The elements each model reads: 1 token, or InputSize floats.</param>
    public static void CheckBatch(int models, int inputLength, string inputName, int outputLength, int outputSize, int inputsPerModel = 1)
    {
        if ((long)models * inputsPerModel != inputLength)
        {
            ThrowHelper.Length(inputName, $"{inputLength} elements, but {models} models need {(long)models * inputsPerModel} ({inputsPerModel} each).");
        }

        if ((long)models * outputSize > outputLength)
        {
            ThrowHelper.ModelOutput("outputs", outputLength, models * outputSize);
        }
    }
}
