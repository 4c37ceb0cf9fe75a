using Acp.Cli;

using var signals = new SignalCancellation();
return await AcpCommandLine.InvokeAsync(args, Console.Out, Console.Error, signals.Token);
