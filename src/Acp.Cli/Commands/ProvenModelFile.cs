using Acp.Onnx;
using Acp.Onnx.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace Acp.Cli.Commands;

/// <summary>
/// Writes a pruned model to --out only once it is proven: the bytes go to a temporary file next to --out, are read back,
/// loaded by ONNX Runtime and run on one batch; only then is the file renamed over --out. On any failure the temporary
/// (and any folder created for it) is removed and --out is left as it was (issue 18, item 5).
/// </summary>
internal static class ProvenModelFile
{
    /// <exception cref="PrunedModelRefusedException">ONNX Runtime refused to load or run the pruned model.</exception>
    public static void Write(byte[] model, string path, ComputeDevice device)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        var created = OutermostMissing(folder);
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        var replaced = false;
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(model);
                stream.Flush(flushToDisk: true);
            }
            Prove(File.ReadAllBytes(temporary), device);
            File.Move(temporary, full, overwrite: true);
            replaced = true;
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
            if (!replaced && created is not null && Directory.Exists(created)) Directory.Delete(created, recursive: true);
        }
    }

    /// <summary>Loads <paramref name="model"/> in ONNX Runtime and runs one batch of random input.</summary>
    /// <exception cref="PrunedModelRefusedException">The runtime refused it.</exception>
    internal static void Prove(byte[] model, ComputeDevice device)
    {
        try
        {
            LatencyMeter.MedianMilliseconds(model, batch: 1, threads: 1, warmup: 0, runs: 1, device: device);
        }
        catch (OnnxRuntimeException e)
        {
            throw new PrunedModelRefusedException($"ONNX Runtime refused the pruned model, so it was not written (a bug in acp's surgery; please report it with the input model): {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>
    /// Runs the input model once in ONNX Runtime before any work, so that a pruned model the runtime refuses can only
    /// mean a surgery bug, and a model the runtime cannot run is refused before anything is written.
    /// </summary>
    /// <exception cref="OnnxRuntimeException">The runtime refuses the input model.</exception>
    /// <exception cref="ArgumentException">Its input is not float32 or too large to run.</exception>
    internal static void ProveInput(byte[] model, ComputeDevice device) =>
        LatencyMeter.MedianMilliseconds(model, batch: 1, threads: 1, warmup: 0, runs: 1, device: device);

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    /// <summary>The outermost folder of <paramref name="folder"/>'s chain that does not exist yet (created for --out, removed on failure), or null.</summary>
    private static string? OutermostMissing(string folder)
    {
        string? missing = null;
        for (var f = folder; f is not null && !Directory.Exists(f); f = Path.GetDirectoryName(f)) missing = f;
        return missing;
    }
}

/// <summary>ONNX Runtime cannot load or run a model acp produced: a surgery bug, exit code 4.</summary>
internal sealed class PrunedModelRefusedException(string message, Exception inner) : Exception(message, inner);
