using System.CommandLine;
using RnnEmbedded.Cli.Commands;
using RnnEmbedded.Compiler.Formats;

namespace RnnEmbedded.Cli;

/// <summary>
/// Entry point of the <c>rnn</c> tool: builds the command tree and runs it against the given writers, so tests
/// can call it in-process. Every failure is one line "error: ..." on the error writer and exit code 1.
/// </summary>
public static class Cli
{
    public const int ExitOk = 0;
    public const int ExitError = 1;

    /// <summary>The root command with every subcommand.</summary>
    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("rnn: inspect, run, train, compile, convert and visualize recurrent models stored as safetensors weight files or ONNX models.");
        root.Add(InspectCommand.Create());
        root.Add(RunCommand.Create());
        root.Add(EvalCommand.Create());
        root.Add(TrainCommand.Create());
        root.Add(CompileCommand.Create());
        root.Add(VisualizeCommand.Create());
        root.Add(ConvertCommand.Create());
        return root;
    }

    /// <summary>Parses <paramref name="args"/>, runs the command, returns the process exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        ParseResult parseResult = CreateRootCommand().Parse(args);
        var configuration = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            EnableDefaultExceptionHandler = false,
        };

        try
        {
            return parseResult.Invoke(configuration);
        }
        catch (RnnFormatException e)
        {
            return Fail(error, e.Message);
        }
        catch (CommandException e)
        {
            return Fail(error, e.Message);
        }
        catch (IOException e)
        {
            return Fail(error, e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            return Fail(error, e.Message);
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("RNN_DEBUG") is null)
        {
            return Fail(error, $"internal error ({e.GetType().Name}): {e.Message} (set RNN_DEBUG=1 for a stack trace)");
        }
    }

    private static int Fail(TextWriter error, string message)
    {
        error.WriteLine("error: " + message);
        return ExitError;
    }
}

/// <summary>A user error with a message fit to print as is (bad option, bad input file, wrong model kind).</summary>
public sealed class CommandException : Exception
{
    public CommandException(string message)
        : base(message)
    {
    }
}
