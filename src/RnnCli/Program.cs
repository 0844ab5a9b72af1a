// Placeholder until the CLI commands land.
return 0;
