using System;
using System.Globalization;

namespace RnnEmbedded.Compiler.Model;

/// <summary>rnn.clip: gate pre-activation clipping per layer (docs/model-format.md, "Clipping").</summary>
public static partial class ModelBuilder
{
    private sealed partial class Builder
    {
        private float?[]? _clips; // parsed rnn.clip: one entry for every layer, or one per layer; null = not given

        private void ReadClipMetadata()
        {
            if (!_metadata.TryGetValue(MetadataKeys.Clip, out string? value))
            {
                return;
            }

            if (_task == ModelTask.Seq2Seq)
            {
                throw Error(MetadataKeys.Clip, $"clipping is not supported with {MetadataKeys.Task}=seq2seq");
            }

            string[] items = value.Split(',');
            var clips = new float?[items.Length];
            for (int i = 0; i < items.Length; i++)
            {
                string item = items[i].Trim();
                if (item == "none")
                {
                    continue;
                }

                if (!float.TryParse(item, NumberStyles.Float, CultureInfo.InvariantCulture, out float bound) || !(bound > 0f) || float.IsInfinity(bound))
                {
                    throw Error(MetadataKeys.Clip, $"entry {i} '{item}' is not a positive finite number or 'none'; expected one bound for every layer or a comma-separated bound per layer, e.g. '3' or '3,none'");
                }

                clips[i] = bound;
            }

            _clips = clips;
        }

        private float? ClipOf(int layer) =>
            _clips is null ? null : _clips.Length == 1 ? _clips[0] : layer < _clips.Length ? _clips[layer] : null;

        private void CheckClipCount(int layers)
        {
            if (_clips is not null && _clips.Length != 1 && _clips.Length != layers)
            {
                throw Error(MetadataKeys.Clip, $"has {_clips.Length} entries for {layers} layers; give one bound for every layer or one entry per layer");
            }
        }
    }

    /// <summary>The <see cref="MetadataKeys.Clip"/> value for per-layer <paramref name="clips"/> (null = none), or null when none clips.</summary>
    internal static string? ClipText(System.Collections.Generic.IReadOnlyList<float?> clips)
    {
        bool any = false, uniform = true;
        foreach (float? clip in clips)
        {
            any |= clip is not null;
            uniform &= clip == clips[0];
        }

        if (!any)
        {
            return null;
        }

        static string Text(float? clip) => clip is float c ? c.ToString("R", CultureInfo.InvariantCulture) : "none";
        if (uniform)
        {
            return Text(clips[0]);
        }

        var entries = new string[clips.Count];
        for (int i = 0; i < entries.Length; i++)
        {
            entries[i] = Text(clips[i]);
        }

        return string.Join(",", entries);
    }
}
