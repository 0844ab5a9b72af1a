// The `rnn` tool. All logic lives in Cli so that tests can run it in-process.
return RnnEmbedded.Cli.Cli.Run(args, Console.Out, Console.Error);
