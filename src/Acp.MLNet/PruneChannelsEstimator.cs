using Acp.Engine.Data;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;
using Acp.Pruning.Pipeline;

namespace Acp.MLNet;

/// <summary>
/// Learns a channel-pruned model from a trained one and its training data (ML.NET's <c>IEstimator&lt;ITransformer&gt;</c>):
/// <see cref="Fit"/> runs the whole pruning pipeline (calibration, clustering, particle swarm search, fine-tuning) and
/// returns a <see cref="PruneChannelsTransformer"/> holding the physically smaller model.
/// </summary>
/// <remarks>
/// <para>Made by <see cref="TransformsCatalog.PruneChannels(PruneChannelsOptions)"/>, which loads the model and checks
/// every option at once, so mistakes surface before any data is read.</para>
/// <para>Estimator characteristics:</para>
/// <list type="table">
/// <item><term>Needs training</term><description>Yes: feature maps, candidate scoring and fine-tuning read the training data.</description></item>
/// <item><term>Input columns</term><description><c>Image</c> (Vector&lt;Single, C, H, W&gt;), <c>Label</c> (Key).</description></item>
/// <item><term>Output columns</term><description><c>Score</c> (Vector&lt;Single, classes&gt;), <c>PredictedLabel</c> (Key).</description></item>
/// <item><term>Exportable to ONNX</term><description>It is ONNX: <see cref="PruneChannelsTransformer.Save"/> writes the slim model.</description></item>
/// </list>
/// </remarks>
public sealed class PruneChannelsEstimator : IImageEstimator<PruneChannelsTransformer>
{
    private const string Component = "PruneChannels";

    private readonly AcpContext _context;
    private readonly string _source;
    private readonly ImageModelSignature _signature;
    private readonly ChannelNormalization? _optionsNormalization;
    private readonly ChannelNormalization? _modelNormalization;
    private readonly IProgress<PruningProgress>? _progress;

    internal PruneChannelsEstimator(AcpContext context, PruneChannelsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _context = context;
        if ((options.Model is null) == (options.ModelPath is null))
        {
            throw new ArgumentException(
                options.Model is null ? "Set the model to prune: ModelPath or Model." : "Set ModelPath or Model, not both.", nameof(options.ModelPath));
        }
        Model = options.Model ?? ModelFile.Load(options.ModelPath!, nameof(options.ModelPath));
        _source = options.ModelPath is { } path ? Path.GetFileName(path) : "the model";
        _signature = ImageModelSignature.Of(Model, _source, options.Model is null ? nameof(options.ModelPath) : nameof(options.Model));
        _modelNormalization = ModelNormalization.Read(Model, _source);
        if (_modelNormalization is not null) _signature.Check(_modelNormalization, $"The normalisation in {_source}'s metadata", nameof(options.ModelPath));
        _optionsNormalization = options.Normalization;
        if (_optionsNormalization is not null) _signature.Check(_optionsNormalization, "The Normalization option", nameof(options.Normalization));

        Options = options.ToPruningOptions(options.Seed ?? context.SeedOrDefault, normalization: null);
        Validate(Options);
        if (ChannelAnalysis.Run(Model).PrunableGroups.Count == 0)
        {
            throw new ArgumentException($"{_source} has no channel that can be removed (every group is fenced; `acp inspect` shows why).", nameof(options.ModelPath));
        }
        _progress = options.Progress;
    }

    /// <summary>The model to prune (not modified).</summary>
    public OnnxModel Model { get; }

    /// <summary>The pipeline's options as resolved from the options and the context (the normalisation is resolved at <see cref="Fit"/>).</summary>
    public PruningOptions Options { get; }

    /// <summary>The images the model takes.</summary>
    public ImageShape ImageShape => _signature.ImageShape;

    /// <summary>The number of classes the model scores.</summary>
    public int ClassCount => _signature.ClassCount;

    /// <inheritdoc/>
    public ImageSchema GetOutputSchema(ImageSchema inputSchema) => _signature.OutputSchema(inputSchema, nameof(inputSchema));

    /// <summary>
    /// The normalisation <see cref="Fit"/> uses for <paramref name="data"/>: the options', else the data's, else the
    /// model metadata's; null means [0, 1] scaling.
    /// </summary>
    /// <exception cref="ArgumentException">The options and the data both set one, and they differ.</exception>
    public ChannelNormalization? NormalizationFor(ImageDataView data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (_optionsNormalization is not null && data.Normalization is not null && !ModelNormalization.Same(_optionsNormalization, data.Normalization))
        {
            throw new ArgumentException(
                $"The Normalization option ({_optionsNormalization}) and the data's ({data.Normalization}) differ; set one of them.", nameof(data));
        }
        return _optionsNormalization ?? data.Normalization ?? _modelNormalization;
    }

    /// <summary>Prunes and fine-tunes the model on <paramref name="input"/>, its training data.</summary>
    /// <param name="input">The training split the model was trained on (a validation part is held out of it, never trained on).</param>
    /// <param name="cancellationToken">Stops the run between batches or evaluations; with a run folder it resumes later.</param>
    /// <exception cref="ArgumentException">The images do not fit the model, or the data are too few for the validation split.</exception>
    /// <exception cref="InvalidOperationException">The budget cannot be met.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public PruneChannelsTransformer Fit(ImageDataView input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        _signature.Check(input, nameof(input));
        var normalization = NormalizationFor(input);
        var options = Options with { Normalization = normalization };
        _context.Write(AcpLogKind.Info, Component,
            $"pruning {_source} with {options.Strategy} to {Budget(options)} on {input.Count} images of {input.ImageShape}, seed {options.Seed}");
        var result = PruningPipeline.Run(Model, input.Dataset, options, new ProgressRelay(_progress, _context), cancellationToken);
        var pruned = new OnnxImageTransformer(result.Model, $"pruned {_source}", normalization, _context);
        var transformer = new PruneChannelsTransformer(Model, _source, result, pruned, options, _context);
        _context.Write(AcpLogKind.Info, Component, transformer.Summary.Headline());
        return transformer;
    }

    private static string Budget(PruningOptions options) => string.Join(" and ", new[]
    {
        options.TargetMacs is { } m ? $"{m:P0} of the FLOPs" : null,
        options.TargetParams is { } p ? $"{p:P0} of the parameters" : null,
    }.OfType<string>());

    /// <summary>The pipeline's checks, with its names translated to the options' (TargetMacs is TargetFlops here).</summary>
    private static void Validate(PruningOptions options)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentException e) when (e.ParamName is not null)
        {
            // Message ends with " (Parameter 'x')", which the new exception adds again for the new name.
            var message = e.Message;
            var suffix = $" (Parameter '{e.ParamName}')";
            if (message.EndsWith(suffix, StringComparison.Ordinal)) message = message[..^suffix.Length];
            const string macs = nameof(PruningOptions.TargetMacs), flops = nameof(PruneChannelsOptions.TargetFlops);
            throw new ArgumentException(message.Replace(macs, flops, StringComparison.Ordinal), e.ParamName == macs ? flops : e.ParamName, e);
        }
    }

    /// <summary>Passes the pipeline's reports to the options' progress and to the context's log.</summary>
    private sealed class ProgressRelay(IProgress<PruningProgress>? progress, AcpContext context) : IProgress<PruningProgress>
    {
        private PruningStage? _stage;

        public void Report(PruningProgress value)
        {
            progress?.Report(value);
            // Stage changes and stage ends are worth reading; per-batch reports are trace.
            var milestone = value.Stage != _stage || (value.Total > 0 && value.Completed >= value.Total);
            _stage = value.Stage;
            var counter = value.Total > 0 ? $" {value.Completed}/{value.Total}" : "";
            context.Write(milestone ? AcpLogKind.Info : AcpLogKind.Trace, Component, $"{value.Stage}{counter}: {value.Message}", value);
        }
    }
}
