using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Acp.Onnx.Ir;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// A run's folder: what was asked (<c>run.json</c>), one JSON line per fitness evaluation (<c>evaluations.jsonl</c>) and
/// the fine-tuning checkpoint of the last finished epoch (<c>finetune.onnx</c> + <c>finetune.json</c>).
/// </summary>
/// <remarks>
/// Resuming needs no search state: the swarm is deterministic for its seed, so replaying it with logged fitness values
/// (instead of evaluating again) walks the same path and reaches the first unlogged evaluation. A run killed at any
/// moment therefore loses at most the evaluation or the epoch in progress. Every file but the log is written to a
/// temporary name and renamed; a log line cut short by a kill is ignored.
/// </remarks>
internal sealed class RunStore
{
    private const string RunFile = "run.json";
    private const string LogFile = "evaluations.jsonl";
    private const string CheckpointModel = "finetune.onnx";
    private const string CheckpointState = "finetune.json";
    private const string IterationModel = "iteration.onnx";
    private const string IterationState = "iteration.json";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    private readonly string _directory;
    private readonly Dictionary<string, CandidateEvaluation> _logged = new(StringComparer.Ordinal);

    private RunStore(string directory) => _directory = directory;

    /// <summary>The folder.</summary>
    public string Directory => _directory;

    /// <summary>Evaluations of earlier attempts of this run, in order.</summary>
    public List<CandidateEvaluation> Logged { get; } = [];

    /// <summary>
    /// Opens (resume) or creates the run folder. The run's identity is the model's bytes, the data set's size and the
    /// options: resuming with anything different is refused, since it would silently mix two runs.
    /// </summary>
    /// <exception cref="IOException">The folder holds another run, or a run while not resuming.</exception>
    public static RunStore Open(string directory, bool resume, byte[] model, string dataIdentity, PruningOptions options)
    {
        var identity = Identity(model, dataIdentity, options);
        var store = new RunStore(Path.GetFullPath(directory));
        var runFile = Path.Combine(store._directory, RunFile);
        if (File.Exists(runFile) && !NeverStarted(store._directory))
        {
            if (!resume) throw new IOException($"{store._directory} holds a pruning run already; resume it (--resume) or choose another folder.");
            var recorded = JsonSerializer.Deserialize<RunIdentity>(File.ReadAllText(runFile), Json);
            if (recorded?.Fingerprint != identity.Fingerprint)
            {
                throw new IOException($"{store._directory} holds a run of a different model, data set or options ({recorded?.Description ?? "unreadable"}); " +
                    "it cannot be resumed with these. Choose another folder or delete it.");
            }
            store.ReadLog();
        }
        else
        {
            System.IO.Directory.CreateDirectory(store._directory);
            WriteAtomically(runFile, JsonSerializer.SerializeToUtf8Bytes(identity, Json));
            File.Delete(Path.Combine(store._directory, LogFile));
        }
        return store;
    }

    /// <summary>
    /// A run that recorded nothing (no evaluation, no checkpoint), e.g. one that failed on its data or was cancelled
    /// before its first evaluation: there is nothing to resume or to mix, so a new run may take its place instead of
    /// being refused (issue 18, item 8).
    /// </summary>
    private static bool NeverStarted(string directory)
    {
        var log = new FileInfo(Path.Combine(directory, LogFile));
        return (!log.Exists || log.Length == 0) && !File.Exists(Path.Combine(directory, CheckpointState)) && !File.Exists(Path.Combine(directory, CheckpointModel))
            && !File.Exists(Path.Combine(directory, IterationState));
    }

    /// <summary>A logged evaluation of the structure at <paramref name="stage"/>, or null.</summary>
    public CandidateEvaluation? Find(int[] widths, CandidateStage stage) => _logged.GetValueOrDefault(Key(widths, stage));

    /// <summary>Appends an evaluation to the log and flushes it to disk.</summary>
    public void Append(CandidateEvaluation evaluation)
    {
        var line = JsonSerializer.Serialize(evaluation, Json) + "\n";
        using (var stream = new FileStream(Path.Combine(_directory, LogFile), FileMode.Append, FileAccess.Write, FileShare.Read))
        {
            var bytes = Encoding.UTF8.GetBytes(line);
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        _logged[Key(evaluation.Widths, evaluation.Stage)] = evaluation;
        Logged.Add(evaluation);
    }

    /// <summary>The checkpoint of the last finished fine-tuning epoch, or null.</summary>
    public FineTuneCheckpoint? LoadCheckpoint()
    {
        var state = Path.Combine(_directory, CheckpointState);
        if (!File.Exists(state)) return null;
        var checkpoint = JsonSerializer.Deserialize<FineTuneCheckpoint>(File.ReadAllText(state), Json)
            ?? throw new IOException($"{state} is empty.");
        return checkpoint with { Model = OnnxModel.Load(Path.Combine(_directory, CheckpointModel)) };
    }

    /// <summary>Saves a fine-tuning checkpoint: the model first, then the state that points to it.</summary>
    public void SaveCheckpoint(FineTuneCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint.Model);
        WriteAtomically(Path.Combine(_directory, CheckpointModel), checkpoint.Model.ToBytes());
        WriteAtomically(Path.Combine(_directory, CheckpointState), JsonSerializer.SerializeToUtf8Bytes(checkpoint with { Model = null }, Json));
    }

    /// <summary>The checkpoint of the last finished step of an iterative strategy (AIP), or null.</summary>
    public IterationCheckpoint? LoadIterationCheckpoint()
    {
        var state = Path.Combine(_directory, IterationState);
        if (!File.Exists(state)) return null;
        var checkpoint = JsonSerializer.Deserialize<IterationCheckpoint>(File.ReadAllText(state), Json)
            ?? throw new IOException($"{state} is empty.");
        return checkpoint with { Model = OnnxModel.Load(Path.Combine(_directory, IterationModel)) };
    }

    /// <summary>Saves an iterative strategy's step checkpoint: the model first, then the state that points to it.</summary>
    public void SaveIterationCheckpoint(IterationCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint.Model);
        WriteAtomically(Path.Combine(_directory, IterationModel), checkpoint.Model.ToBytes());
        WriteAtomically(Path.Combine(_directory, IterationState), JsonSerializer.SerializeToUtf8Bytes(checkpoint with { Model = null }, Json));
    }

    private void ReadLog()
    {
        var path = Path.Combine(_directory, LogFile);
        if (!File.Exists(path)) return;
        var lines = File.ReadAllLines(path);
        var valid = new StringBuilder();
        foreach (var line in lines)
        {
            CandidateEvaluation? evaluation;
            try
            {
                evaluation = JsonSerializer.Deserialize<CandidateEvaluation>(line, Json);
            }
            catch (JsonException)
            {
                // Only the last line can be cut short by a kill; anything after it is not trusted either.
                break;
            }
            if (evaluation?.Widths is null) break;
            _logged[Key(evaluation.Widths, evaluation.Stage)] = evaluation;
            Logged.Add(evaluation);
            valid.Append(line).Append('\n');
        }
        // Rewrite without the torn line, so appends start on a line of their own.
        WriteAtomically(path, Encoding.UTF8.GetBytes(valid.ToString()));
    }

    private static string Key(int[] widths, CandidateStage stage) => $"{stage}:{string.Join(",", widths)}";

    private static RunIdentity Identity(byte[] model, string dataIdentity, PruningOptions options)
    {
        // Records print every member (nested records included), which makes the options' text a complete fingerprint.
        var asked = (options with { RunDirectory = null, Resume = false }).ToString();
        var text = $"{Convert.ToHexString(SHA256.HashData(model))}|{dataIdentity}|{asked}";
        var fingerprint = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        return new RunIdentity(fingerprint, $"{options.Strategy}, {dataIdentity}, seed {options.Seed}");
    }

    private static void WriteAtomically(string path, byte[] bytes)
    {
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }

    private sealed record RunIdentity(string Fingerprint, string Description);
}

/// <summary>The state after a finished fine-tuning epoch.</summary>
/// <param name="Epoch">The 0-based epoch just finished.</param>
/// <param name="Losses">Mean training loss of every finished epoch.</param>
/// <param name="Optimizer">The optimizer's state (momentum buffers), as <see cref="Engine.Training.SgdOptimizer.ExportState"/> gives it.</param>
/// <param name="Model">The network's weights (not stored in the JSON; loaded from the ONNX file).</param>
internal sealed record FineTuneCheckpoint(int Epoch, double[] Losses, byte[] Optimizer, [property: System.Text.Json.Serialization.JsonIgnore] OnnxModel? Model);

/// <summary>The state after a finished step of an iterative strategy (AIP: a cut and its recovery).</summary>
/// <param name="Step">The 0-based step just finished.</param>
/// <param name="Keep">Per group id of the original model's analysis, the original channels the step's model keeps.</param>
/// <param name="Model">The recovered model (not stored in the JSON; loaded from the ONNX file).</param>
internal sealed record IterationCheckpoint(int Step, Dictionary<int, int[]> Keep, [property: System.Text.Json.Serialization.JsonIgnore] OnnxModel? Model);
