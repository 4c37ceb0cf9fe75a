using Acp.Data;
using Acp.Onnx.Ir;
using Acp.Pruning.Pipeline;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Acp.MLNet;

/// <summary>
/// Learns a channel-pruned classifier from a trained ONNX one and the rows of an <see cref="IDataView"/>:
/// <see cref="Fit"/> runs Acp's pipeline (calibration, clustering, particle swarm search, fine-tuning with
/// distillation, surgery) and returns a <see cref="PruneChannelsTransformer"/> that scores with the slim model.
/// </summary>
/// <remarks>
/// <para>Made by <c>mlContext.Transforms.PruneChannels</c>, which loads the model and checks every setting, so mistakes
/// surface before any data is read; <see cref="GetOutputSchema"/> and <see cref="Fit"/> check the columns before any
/// work starts.</para>
/// <list type="table">
/// <item><term>Needs training</term><description>Yes: feature maps, candidate scoring and fine-tuning read the rows.</description></item>
/// <item><term>Input columns</term><description>Features: Vector&lt;Single&gt; of C × H × W (channels first); Label: Key (or a class index).</description></item>
/// <item><term>Output columns</term><description>Score: Vector&lt;Single&gt; of class probabilities in key order; PredictedLabel: Key.</description></item>
/// <item><term>Scoring</term><description>ML.NET's OnnxTransformer on the pruned model, so the fitted model saves and loads without Acp.</description></item>
/// </list>
/// <para><see cref="Fit"/> reads the feature column into memory once (4 bytes per value) and then works on that copy.</para>
/// </remarks>
public sealed class PruneChannelsEstimator : IEstimator<PruneChannelsTransformer>
{
    private readonly TransformsCatalog _catalog;
    private readonly OnnxModel _model;
    private readonly string _source;
    private readonly ImageModelSignature _signature;
    private readonly ScoringColumns _columns;
    private readonly string _labelColumn;
    private readonly PruningOptions _pruning;
    private readonly IProgress<PruningProgress>? _progress;
    private readonly CancellationToken _cancellation;
    private readonly int? _gpuDeviceId;
    private readonly bool _fallbackToCpu;

    internal PruneChannelsEstimator(TransformsCatalog catalog, PruneChannelsOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        if ((options.Model is null) == (options.ModelPath is null))
        {
            throw new ArgumentException(options.Model is null ? "Set the model to prune: ModelPath or Model." : "Set ModelPath or Model, not both.", nameof(options));
        }
        ArgumentNullException.ThrowIfNull(options.Pruning, nameof(options.Pruning));
        options.Pruning.Validate();
        if (options.Pruning.Normalization is not null)
        {
            throw new ArgumentException("Pruning.Normalization must be null: the feature column is model input already (normalise with ExtractPixels' offsetImage and scaleImage).", nameof(options));
        }
        if (options.Pruning.Ratio is not null) throw new ArgumentException("Pruning.Ratio is for structure-only pruning without data; give TargetFlops and/or TargetParams.", nameof(options));
        foreach (var (name, value) in new[] { (nameof(options.FeatureColumnName), options.FeatureColumnName), (nameof(options.LabelColumnName), options.LabelColumnName),
                     (nameof(options.ScoreColumnName), options.ScoreColumnName), (nameof(options.PredictedLabelColumnName), options.PredictedLabelColumnName) })
        {
            if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"{name} is empty.", nameof(options));
        }
        if (options.ScoreColumnName == options.PredictedLabelColumnName) throw new ArgumentException("ScoreColumnName and PredictedLabelColumnName must differ.", nameof(options));
        if (options.GpuDeviceId is < 0) throw new ArgumentException($"GpuDeviceId cannot be negative; got {options.GpuDeviceId}.", nameof(options));

        _catalog = catalog;
        _model = options.Model ?? LoadModel(options.ModelPath!);
        _source = options.ModelPath is { } path ? Path.GetFileName(path) : "the model";
        _signature = ImageModelSignature.Of(_model, _source, nameof(options));
        _columns = new ScoringColumns(options.FeatureColumnName, options.ScoreColumnName, options.PredictedLabelColumnName);
        _labelColumn = options.LabelColumnName;
        _pruning = options.Pruning;
        _progress = options.Progress;
        _cancellation = options.CancellationToken;
        _gpuDeviceId = options.GpuDeviceId;
        _fallbackToCpu = options.FallbackToCpu;
    }

    /// <summary>The classifier that <see cref="Fit"/> prunes (not modified).</summary>
    public OnnxModel Model => _model;

    /// <summary>The pruning run's settings.</summary>
    public PruningOptions Pruning => _pruning;

    /// <summary>
    /// The schema after <see cref="Fit"/>'s transformer: the input plus the score and predicted-label columns.
    /// </summary>
    /// <exception cref="ArgumentException">A column is missing or of the wrong type or size.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        if (Find(inputSchema, _columns.Features) is not { } features) throw MissingColumn("feature", _columns.Features, inputSchema.Select(c => c.Name));
        if (features.Kind == SchemaShape.Column.VectorKind.Scalar || features.ItemType != NumberDataViewType.Single)
        {
            throw FeatureTypeError(features.ItemType.ToString() + (features.Kind == SchemaShape.Column.VectorKind.Scalar ? "" : " vector"));
        }
        if (Find(inputSchema, _labelColumn) is not { } label) throw MissingColumn("label", _labelColumn, inputSchema.Select(c => c.Name));
        if (label.Kind != SchemaShape.Column.VectorKind.Scalar || !(label.IsKey || label.ItemType is NumberDataViewType))
        {
            throw new ArgumentException($"Label column '{_labelColumn}' is {label.ItemType}{(label.Kind == SchemaShape.Column.VectorKind.Scalar ? "" : " vector")}; it must be a key (MapValueToKey) or a number holding the class index.");
        }
        // The pruned model has the original's input and classes, so the original model's scorer states the output; the
        // predicted label is a key vector of one element, as after Fit.
        var scoring = ScoringModel.Build(_model, _signature, _columns, Enumerable.Range(0, _signature.ClassCount).ToArray());
        return Scorer(scoring, LabelClasses.Slots(_signature.ClassCount)).GetOutputSchema(inputSchema);
    }

    /// <summary>
    /// Prunes the model on the rows of <paramref name="input"/> and returns the transformer that scores with the result.
    /// </summary>
    /// <exception cref="ArgumentException">A column is missing, of the wrong type or size, or a label is not a class.</exception>
    /// <exception cref="InvalidOperationException">The budget cannot be met, or CUDA was asked for and is not available.</exception>
    /// <exception cref="OperationCanceledException">The options' cancellation token was cancelled.</exception>
    public PruneChannelsTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var features = input.Schema.GetColumnOrNull(_columns.Features) ?? throw MissingColumn("feature", _columns.Features, input.Schema.Select(c => c.Name));
        CheckFeatureType(features.Type);
        var labelColumn = input.Schema.GetColumnOrNull(_labelColumn) ?? throw MissingColumn("label", _labelColumn, input.Schema.Select(c => c.Name));
        var labels = LabelClasses.For(labelColumn, _signature.ClassCount, _source);
        // Scoring is set up before the long run, so a CUDA that is not there fails now, not after the fine-tuning.
        (Scorer(ScoringModel.Build(_model, _signature, _columns, labels.ClassOfSlot), labels).Fit(input) as IDisposable)?.Dispose();

        var dataset = FeatureReader.Read(input, features, labels, _signature, _cancellation);
        var result = PruningPipeline.Run(_model, dataset, _pruning, _progress, _cancellation);
        var scoring = ScoringModel.Build(result.Model, _signature, _columns, labels.ClassOfSlot);
        var scorer = Scorer(scoring, labels).Fit(input);
        return new PruneChannelsTransformer(scorer, result, scoring, _pruning);
    }

    /// <summary>ML.NET's own transformers around the scoring model, so the fitted model saves as ML.NET's types.</summary>
    private IEstimator<ITransformer> Scorer(OnnxModel scoring, LabelClasses labels)
    {
        var scorer = new OnnxScorer(this, scoring.ToBytes());
        return scorer.Append(labels.PredictedKey(_catalog, _columns.PredictedIndex, _columns.PredictedValue, _columns.PredictedLabel))
            .Append(_catalog.DropColumns(_columns.PredictedIndex, _columns.PredictedValue));
    }

    /// <summary>
    /// ML.NET's ONNX scorer on <paramref name="model"/>, on the configured device. ML.NET's own fallback to the CPU does
    /// not cover an ONNX Runtime package built without CUDA, so the fallback happens here; without it, one error says
    /// what to do.
    /// </summary>
    private IEstimator<ITransformer> OnnxScoring(byte[] model, int? device)
    {
        var shape = _signature.ImageShape;
        return _catalog.ApplyOnnxModel([_columns.Score, _columns.PredictedIndex], [_columns.Features], new MemoryStream(model),
            new Dictionary<string, int[]> { [_columns.Features] = [1, shape.Channels, shape.Height, shape.Width] }, device, _fallbackToCpu, recursionLimit: 100);
    }

    private IEstimator<ITransformer> OnnxScoringOnDevice(byte[] model)
    {
        if (_gpuDeviceId is not { } device) return OnnxScoring(model, null);
        try
        {
            return OnnxScoring(model, device);
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            if (_fallbackToCpu) return OnnxScoring(model, null);
            throw new InvalidOperationException(
                $"Scoring on CUDA device {device} is not available here ({e.GetBaseException().Message.Split('\n')[0].Trim()}); reference Microsoft.ML.OnnxRuntime.Gpu.Linux 1.32.0 instead of Microsoft.ML.OnnxRuntime, install CUDA 13 and cuDNN, or set FallbackToCpu = true.", e);
        }
    }

    private void CheckFeatureType(DataViewType type)
    {
        if (type is not VectorDataViewType { ItemType: NumberDataViewType item } vector || item != NumberDataViewType.Single)
        {
            throw FeatureTypeError(type.ToString() ?? type.GetType().Name);
        }
        var shape = _signature.ImageShape;
        if (vector.IsKnownSize && vector.Size != _signature.FeatureCount)
        {
            throw new ArgumentException($"Feature column '{_columns.Features}' is {type} ({vector.Size} values) but {_source} takes {shape.Channels}×{shape.Height}×{shape.Width} = {_signature.FeatureCount} per image; resize the images to {shape.Height}×{shape.Width} with {shape.Channels} channel(s).");
        }
        if (vector.Dimensions.Length == 3 && !vector.Dimensions.SequenceEqual([shape.Channels, shape.Height, shape.Width]))
        {
            throw new ArgumentException($"Feature column '{_columns.Features}' is {type} but {_source} takes channels first, {shape.Channels}×{shape.Height}×{shape.Width}; extract pixels without interleaving colours.");
        }
    }

    private ArgumentException FeatureTypeError(string type)
    {
        var shape = _signature.ImageShape;
        return new ArgumentException($"Feature column '{_columns.Features}' is {type}; {_source} needs a Single vector of {shape.Channels}×{shape.Height}×{shape.Width} values per row (ExtractPixels makes one).");
    }

    // The last column of a name is the one a transformer reads, as in DataViewSchema.
    private static SchemaShape.Column? Find(SchemaShape schema, string name)
    {
        SchemaShape.Column? found = null;
        foreach (var column in schema)
        {
            if (column.Name == name) found = column;
        }
        return found;
    }

    private static ArgumentException MissingColumn(string role, string name, IEnumerable<string> present) =>
        new($"The data have no {role} column '{name}'; their columns are {string.Join(", ", present.Distinct().Select(n => $"'{n}'"))}.");

    private static OnnxModel LoadModel(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException(Directory.Exists(full) ? $"{full} is a folder; pass the .onnx file." : $"No ONNX model file at {full}.", full);
        }
        return OnnxModel.Load(full);
    }

    private sealed class SlotRow
    {
        public long Slot { get; set; }
    }

    /// <summary>The ONNX scorer, created (and its ONNX Runtime session started) when fitted or asked for its schema.</summary>
    private sealed class OnnxScorer(PruneChannelsEstimator owner, byte[] model) : IEstimator<ITransformer>
    {
        public ITransformer Fit(IDataView input) => owner.OnnxScoringOnDevice(model).Fit(input);

        public SchemaShape GetOutputSchema(SchemaShape inputSchema) => owner.OnnxScoringOnDevice(model).GetOutputSchema(inputSchema);
    }
}
