using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

// Usage: Acp.MLNet.Consumer MODEL.zip ROWS.tsv  (rows: ImagePath <tab> Label)
// Prints one line per row: the score vector, comma-separated, round-trip formatted.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Acp.MLNet.Consumer MODEL.zip ROWS.tsv");
    return 2;
}
var ml = new MLContext(seed: 1);
var model = ml.Model.Load(args[0], out _);
var rows = ml.Data.LoadFromTextFile<ImageRow>(args[1], separatorChar: '\t');
foreach (var score in model.Transform(rows).GetColumn<float[]>("Score"))
{
    Console.WriteLine(string.Join(",", score.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
}
return 0;

internal sealed class ImageRow
{
    [LoadColumn(0)]
    public string ImagePath { get; set; } = "";

    [LoadColumn(1)]
    public uint Label { get; set; }
}
