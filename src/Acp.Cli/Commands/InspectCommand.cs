using System.CommandLine;
using System.Globalization;
using Acp.Onnx.Inspection;
using Acp.Onnx.Ir;
using Spectre.Console;

namespace Acp.Cli.Commands;

/// <summary><c>acp inspect MODEL [--json] [--batch N]</c>: what a model is made of and what it costs.</summary>
internal static class InspectCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Argument<FileInfo>("model") { Description = "The ONNX model file." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables." };
        var batch = new Option<long>("--batch") { Description = "Batch size for symbolic dimensions (shapes and MACs).", DefaultValueFactory = _ => 1 }
            .Require(v => v >= 1, "--batch must be at least 1.");

        var command = new Command("inspect", "Show a model's inputs, outputs, operators, per-layer parameters and MACs, and what Acp cannot understand.");
        command.Arguments.Add(model);
        command.Options.Add(json);
        command.Options.Add(batch);
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, error, _ =>
        {
            var file = parse.GetValue(model)!;
            var summary = ModelSummary.Create(OnnxModel.Load(file.FullName), file.FullName, parse.GetValue(batch));
            if (parse.GetValue(json)) output.WriteLine(JsonOutput.Serialize(summary));
            else Render(summary, Terminal.For(output));
            return Task.FromResult(ExitCodes.Success);
        }, cancellation));
        return command;
    }

    private static void Render(ModelSummary s, IAnsiConsole console)
    {
        console.MarkupLine($"[bold]{Markup.Escape(s.Source)}[/]");
        console.MarkupLine($"IR {s.IrVersion}, opset {s.Opset}, producer {Markup.Escape(s.Producer.Length > 0 ? s.Producer : "unknown")}, batch {s.Batch}");

        var io = new Table().Border(TableBorder.Rounded).AddColumns("", "name", "type", "shape");
        foreach (var v in s.Inputs) io.AddRow("input", Markup.Escape(v.Name), v.ElementType, Markup.Escape(v.Shape));
        foreach (var v in s.Outputs) io.AddRow("output", Markup.Escape(v.Name), v.ElementType, Markup.Escape(v.Shape));
        console.Write(io);

        console.MarkupLine("[bold]Operators[/]: " + Markup.Escape(string.Join(", ", s.OpHistogram.Select(kv => $"{kv.Key} {kv.Value}"))));

        var layers = new Table().Border(TableBorder.Rounded).AddColumns("layer", "op", "out ch", "params", "MACs", "output");
        foreach (var column in layers.Columns.Skip(2).Take(3)) column.RightAligned();
        foreach (var l in s.Layers)
        {
            layers.AddRow(Markup.Escape(l.Name), Markup.Escape(l.OpType), l.OutChannels?.ToString(CultureInfo.InvariantCulture) ?? "?",
                Count(l.Params), l.Macs is { } m ? Count(m) : "?", Markup.Escape(l.OutputShape));
        }
        layers.AddRow("[bold]total[/]", "", "", $"[bold]{Count(s.TotalParams)}[/]", $"[bold]{Count(s.TotalMacs)}[/]", "");
        console.Write(layers);
        console.MarkupLine($"Parameters {Human(s.TotalParams)}, MACs {Human(s.TotalMacs)} (Conv/Gemm/MatMul multiply-accumulates, batch {s.Batch}).");
        if (s.OtherInitializerElements > 0)
        {
            console.MarkupLine($"Other float constants (not parameters): {Count(s.OtherInitializerElements)} elements.");
        }
        var prunable = s.ChannelGroups.Where(g => g.Prunable).ToList();
        console.MarkupLine($"[bold]Channel groups[/]: {prunable.Count} prunable ({Count(prunable.Sum(g => (long)g.Width))} channels), {s.ChannelGroups.Count - prunable.Count} fenced");
        if (s.ChannelGroups.Count > 0)
        {
            var groups = new Table().Border(TableBorder.Rounded).AddColumns("group", "width", "prunable", "producers", "consumers / why fenced");
            foreach (var g in s.ChannelGroups)
            {
                var producers = string.Join(", ", g.Producers.Take(2)) + (g.Producers.Count > 2 ? $" (+{g.Producers.Count - 2})" : "");
                var detail = g.Prunable
                    ? string.Join(", ", g.Consumers.Take(2)) + (g.Consumers.Count > 2 ? $" (+{g.Consumers.Count - 2})" : "")
                    : string.Join("; ", g.FenceReasons.Take(2));
                groups.AddRow(g.Id.ToString(CultureInfo.InvariantCulture), g.Width.ToString(CultureInfo.InvariantCulture),
                    g.Prunable ? "[green]yes[/]" : "[yellow]no[/]", Markup.Escape(producers), Markup.Escape(detail));
            }
            console.Write(groups);
        }
        if (s.NotUnderstood.Count == 0)
        {
            console.MarkupLine("[green]Everything in the graph is understood.[/]");
            return;
        }
        console.MarkupLine($"[yellow]Not understood ({s.NotUnderstood.Count}):[/]");
        foreach (var line in s.NotUnderstood) console.MarkupLine($"  - {Markup.Escape(line)}");
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Human(long value) => value switch
    {
        >= 1_000_000_000 => (value / 1e9).ToString("0.00", CultureInfo.InvariantCulture) + " G",
        >= 1_000_000 => (value / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + " M",
        >= 1_000 => (value / 1e3).ToString("0.00", CultureInfo.InvariantCulture) + " K",
        _ => value.ToString(CultureInfo.InvariantCulture),
    };
}
