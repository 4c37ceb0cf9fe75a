using Acp.Cli;

return await AcpCommandLine.InvokeAsync(args, Console.Out, Console.Error);
