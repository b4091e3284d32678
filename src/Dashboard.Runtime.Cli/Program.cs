using Dashboard.Runtime;
using Dashboard.Runtime.Cli;
using Dashboard.Runtime.Cli.Commands;
using Dashboard.Runtime.Init;

// The in-container stage is the same binary, run from a sealed memfd copy (see ContainerInit).
if (args.Length > 0 && args[0] == "init")
{
    return ContainerInit.Main();
}

PhaseTimer.Mark("cli: main");
return Dispatcher.Run(args);
