using System.Globalization;

namespace RnnEmbedded.Bench.LongMemory;

/// <summary>A minimal "--name value" parser for the two commands (errors name the option).</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public List<string> Positional { get; } = new();

    public static Options Parse(string[] args, string[] known, bool allowPositional = false)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                if (Array.IndexOf(known, args[i]) < 0)
                {
                    throw new ArgumentException($"unknown option {args[i]}; known: {string.Join(", ", known)}");
                }

                if (i + 1 >= args.Length)
                {
                    throw new ArgumentException($"{args[i]} needs a value");
                }

                o._values[args[i]] = args[++i];
            }
            else if (allowPositional)
            {
                o.Positional.Add(args[i]);
            }
            else
            {
                throw new ArgumentException($"unexpected argument '{args[i]}'");
            }
        }

        return o;
    }

    public string? Get(string name) => _values.TryGetValue(name, out string? v) ? v : null;

    public string Required(string name) => Get(name) ?? throw new ArgumentException($"{name} is required");

    public int Int(string name, int fallback)
    {
        string? text = Get(name);
        if (text is null)
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? v
            : throw new ArgumentException($"{name} '{text}' is not an integer");
    }
}
