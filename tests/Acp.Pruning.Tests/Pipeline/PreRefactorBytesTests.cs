using System.Security.Cryptography;
using Acp.Data;
using Acp.Onnx.Ir;
using Acp.Pruning.Pipeline;
using Acp.Pruning.Search;
using Xunit.Abstractions;

namespace Acp.Pruning.Tests.Pipeline;

/// <summary>
/// A regression lock against the code before the pipeline's strategies became objects (issue 20): for the same seed,
/// a tiny run on the shipped model gives the same model bytes as that code did.
/// </summary>
/// <remarks>
/// The hashes are not results this code computed for itself: they were produced once by main at b9be9bb (the commit
/// before the refactor), by copying this file into that tree (`git archive b9be9bb`) and running it with
/// `dotnet test tests/Acp.Pruning.Tests -c Release --filter PreRefactorBytesTests`, whose failure messages name the
/// actual SHA-256. The issue asks for byte identity with the earlier code, so the earlier code is the oracle. The
/// structure-only random prune is absent on purpose: its channels changed once, when its System.Random seeding became
/// the SplitMix64 ranking the runs with data use.
/// </remarks>
public sealed class PreRefactorBytesTests(ITestOutputHelper output)
{
    private const int TrainingImages = 1200;

    // Soft pruning gets two epochs: with one, SFP, ASRFP and GHFP zero the same filters once and give the same model.
    private static PruningOptions Tiny(PruningStrategy strategy) => new()
    {
        Strategy = strategy,
        TargetFlops = 0.5,
        ValidationImages = 200,
        FitnessImages = 200,
        CalibrationImages = 64,
        RecalibrationImages = 128,
        Swarm = new PsoOptions { Particles = 3, Cycles = 1, MaxVelocityFraction = 0.25 },
        Finalists = 1,
        FinalistSteps = 3,
        PaperFitnessEpochs = 1,
        Epochs = strategy is PruningStrategy.Sfp or PruningStrategy.Asrfp or PruningStrategy.Ghfp ? 2 : 1,
        BatchSize = 64,
        Seed = 5,
    };

    [Theory]
    [InlineData(PruningStrategy.Acp, "c21e25bfbf85bcee8a5fb12c8b1702598569620c3f330db7161cb0ee1f8cade5")]
    [InlineData(PruningStrategy.AcpPaper, "26cf45c6b64da7b5852d6617b290e63c66298733d90fb7b2d7c2b6fc7108ec6c")]
    [InlineData(PruningStrategy.L1, "78fd671248ed55f1076682ab689aae2fc9a5fa286b36c4cd5016a49abc17e169")]
    [InlineData(PruningStrategy.Random, "2e32680d66a3e61b61bcdf049a80308a4fa6b49206f27fb1677affbc75b2d26b")]
    [InlineData(PruningStrategy.Sfp, "5df453ac60c67ccf0ce671c686b715209061fc0214cdee11cb12a05ebfbb70e0")]
    [InlineData(PruningStrategy.Asrfp, "240287c7684143fc11e7e3dca34082abd775a9cbdaa5ab225b92cfbd60327a4d")]
    [InlineData(PruningStrategy.Ghfp, "004a1c0e1ddb2e71b2b15b0c14bf2d399fde36892a7a37ad462991baefd6be14")]
    public void A_run_with_data_gives_the_bytes_of_the_pre_refactor_code(PruningStrategy strategy, string expected)
    {
        var result = PruningPipeline.Run(ShippedModel(), Training(), Tiny(strategy));
        AssertBytes(expected, result.Model);
    }

    [Theory]
    [InlineData(0.5, null, "2dcf0d9e94a1861c51ff341a2b062f8320237866f126b22e2e5b93a01070c9e4")]
    [InlineData(null, 0.4, "dae0404ba3f010f71625d2da6fd0cad31b973dc6a1112afdde29570fa6f74087")]
    public void A_structure_only_l1_prune_gives_the_bytes_of_the_pre_refactor_code(double? ratio, double? targetMacs, string expected)
    {
        var result = PruningPipeline.Run(ShippedModel(), null, new PruningOptions { Strategy = PruningStrategy.L1, Ratio = ratio, TargetFlops = targetMacs });
        AssertBytes(expected, result.Model);
    }

    private void AssertBytes(string expected, OnnxModel model)
    {
        var actual = Convert.ToHexStringLower(SHA256.HashData(model.ToBytes()));
        output.WriteLine(actual);
        Assert.True(expected == actual, $"SHA-256 {actual}, expected {expected}");
    }

    private static OnnxModel ShippedModel() => OnnxModel.Load(Path.Combine(RepositoryRoot(), "models", "fashion_resnet20.onnx"));

    private static IImageDataset Training() => DatasetFolder.Open(TrainedSmallCnn.FashionMnist, DatasetSplit.Train, TrainingImages);

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Acp.sln"))) return folder.FullName;
        }
        throw new InvalidOperationException($"No Acp.sln above {AppContext.BaseDirectory}; the shipped model is found from the repository's build output.");
    }
}
