namespace SceneKit;

/// <summary>An image file that breaks a rule of its format (or uses a feature the reader does not support).</summary>
public sealed class ImageFormatException : Exception
{
    public ImageFormatException(string fileName, string rule)
        : base($"{fileName}: {rule}")
    {
        FileName = fileName;
        Rule = rule;
    }

    public ImageFormatException(string fileName, string rule, Exception inner)
        : base($"{fileName}: {rule}", inner)
    {
        FileName = fileName;
        Rule = rule;
    }

    public string FileName { get; }

    public string Rule { get; }
}
