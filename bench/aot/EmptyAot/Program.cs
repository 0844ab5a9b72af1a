// Prints one character, as the samples print their first prediction, and exits: the runtime's own start-up cost.
Console.Out.Write('a');
Console.Out.WriteLine();
