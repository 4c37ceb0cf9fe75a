using Spectre.Console;

namespace Acp.Cli;

/// <summary>A Spectre.Console progress bar around long work, shown only on an interactive terminal.</summary>
internal static class Progress
{
    public static T Run<T>(TextWriter output, string description, int total, Func<IProgress<int>, T> work)
    {
        var console = Terminal.For(output);
        if (!console.Profile.Capabilities.Interactive) return work(new Progress<int>(_ => { }));
        T result = default!;
        console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask(description, maxValue: total);
                result = work(new SynchronousProgress(done => task.Value = done));
            });
        return result;
    }

    /// <summary>Reports on the calling thread: Progress&lt;T&gt; would post to the thread pool and lag behind.</summary>
    private sealed class SynchronousProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
