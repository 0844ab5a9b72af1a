using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using RnnEmbedded.Compiler.Model;

namespace RnnEmbedded.Compiler.Emit;

/// <summary>
/// Turns a <see cref="ModelSpec"/> into the C# source of a specialized, allocation-free <c>partial struct</c>
/// in two passes: <see cref="ModelPlanner"/> makes every decision (a <see cref="ModelPlan"/>), then
/// <see cref="SourceWriter"/> spells it out. Pure function of (spec, options): the same input gives
/// byte-identical output (docs/architecture.md, "The emitter").
/// </summary>
public static class CSharpEmitter
{
    /// <summary>Thrown (and turned into a diagnostic by the generator) when a model cannot be emitted.</summary>
    public sealed class EmitException : Exception
    {
        public EmitException(string code, string message)
            : base(message) => Code = code;

        /// <summary>A short reason code: "too-large", "bad-name", "unsupported".</summary>
        public string Code { get; }
    }

    /// <summary>Plans, then writes: <see cref="ModelPlanner.Plan"/> followed by <see cref="SourceWriter.Write"/>.</summary>
    public static string Emit(ModelSpec spec, EmitOptions options) => SourceWriter.Write(ModelPlanner.Plan(spec, options));

    /// <summary>Returns (namespace, type name) or throws EmitException when the name is not a valid C# type name.</summary>
    public static (string? Namespace, string Name) SplitTypeName(string fullName)
    {
        if (string.IsNullOrWhiteSpace(fullName))
        {
            throw new EmitException("bad-name", "ClassName is empty; set ClassName=\"MyApp.MyModel\" on the RnnModel item.");
        }

        string[] parts = fullName.Split('.');
        foreach (string part in parts)
        {
            if (!IsIdentifier(part))
            {
                throw new EmitException("bad-name", $"ClassName '{fullName}' is not a valid C# type name: '{part}' is not an identifier.");
            }
        }

        string name = parts[parts.Length - 1];
        string? ns = parts.Length > 1 ? string.Join(".", parts, 0, parts.Length - 1) : null;
        return (ns, name);
    }

    private static bool IsIdentifier(string s)
    {
        if (s.Length == 0 || !(char.IsLetter(s[0]) || s[0] == '_'))
        {
            return false;
        }

        foreach (char ch in s)
        {
            if (!(char.IsLetterOrDigit(ch) || ch == '_'))
            {
                return false;
            }
        }

        return !s_keywords.Contains(s);
    }

    private static readonly HashSet<string> s_keywords = new(StringComparer.Ordinal)
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const",
        "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern",
        "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface",
        "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override",
        "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short",
        "sizeof", "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof",
        "uint", "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
    };
}
