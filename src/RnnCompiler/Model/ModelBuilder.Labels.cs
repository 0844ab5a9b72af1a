namespace RnnEmbedded.Compiler.Model;

public static partial class ModelBuilder
{
    private sealed partial class Builder
    {
        // rnn.task=classify: token input with a vocabulary (characters or words), a head with one output per label
        // in rnn.labels, at least two labels (docs/model-format.md).
        private void CheckClassifier(InputKind inputKind, Vocabulary? vocabulary, DenseSpec? head)
        {
            if (inputKind == InputKind.Dense)
            {
                throw Error(MetadataKeys.Task, $"'classify' needs token input (an embedding, or {MetadataKeys.Input}=one-hot), but the model takes dense input");
            }

            if (vocabulary is null)
            {
                throw Error(MetadataKeys.Task, $"'classify' needs a vocabulary in '{MetadataKeys.Vocabulary}' (characters or words)");
            }

            if (_labels is null)
            {
                throw Error(MetadataKeys.Task, $"'classify' needs the label names in '{MetadataKeys.Labels}'");
            }

            if (_labels.Length < 2)
            {
                throw Error(MetadataKeys.Labels, $"a classifier needs at least 2 labels, found {_labels.Length}");
            }

            if (head is null || head.OutputSize != _labels.Length)
            {
                string found = head is null ? "the model has no head" : $"the head has {head.OutputSize} outputs";
                throw Error(MetadataKeys.Labels, $"'classify' needs one head output per label ({_labels.Length}), but {found}");
            }
        }

        private void CheckNoLabels(ModelTask task)
        {
            if (_labels is not null)
            {
                throw Error(MetadataKeys.Labels, $"labels are only valid with {MetadataKeys.Task}=classify (found '{MetadataKeys.ToText(task)}')");
            }
        }
    }
}
