using System.Text;

namespace RnnEmbedded.Compiler.Emit;

/// <summary>A StringBuilder that indents lines by four spaces per level; always writes '\n' line ends.</summary>
internal sealed class IndentedWriter
{
    private readonly StringBuilder _sb;
    private int _indent;

    public IndentedWriter(int capacity = 16 * 1024) => _sb = new StringBuilder(capacity);

    public int Indent
    {
        get => _indent;
        set => _indent = value < 0 ? 0 : value;
    }

    public IndentedWriter Line(string text = "")
    {
        if (text.Length > 0)
        {
            _sb.Append(' ', _indent * 4);
            _sb.Append(text);
        }

        _sb.Append('\n');
        return this;
    }

    /// <summary>Writes the start of a line (indented) without ending it.</summary>
    public StringBuilder Begin()
    {
        _sb.Append(' ', _indent * 4);
        return _sb;
    }

    public IndentedWriter Open(string header)
    {
        Line(header);
        Line("{");
        _indent++;
        return this;
    }

    public IndentedWriter Close(string trailer = "")
    {
        _indent--;
        Line("}" + trailer);
        return this;
    }

    public override string ToString() => _sb.ToString();
}
