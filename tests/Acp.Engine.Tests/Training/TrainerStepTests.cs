using Acp.Data;
using Acp.Engine.Execution;
using Acp.Engine.Training;

namespace Acp.Engine.Tests.Training;

/// <summary>
/// <see cref="Trainer.Step"/> lets a caller drive training itself with teacher logits it computed once; it must train
/// exactly as the epoch loop with a live teacher does.
/// </summary>
public sealed class TrainerStepTests
{
    private const string FashionMnist = "/usr/share/datasets/fashion-mnist";

    private static BatchLoader Loader() => new(DatasetFolder.Open(FashionMnist, DatasetSplit.Train, limit: 320),
        new BatchLoaderOptions { BatchSize = 64, Normalization = ChannelNormalization.FashionMnist });

    private static TrainingOptions Options(Network teacher) => new()
    {
        Schedule = new ConstantSchedule(0.03f),
        Sgd = new SgdOptions { Momentum = 0.9f, Nesterov = true, WeightDecay = 5e-4f },
        Distillation = new DistillationOptions(teacher, 3f, 0.6f),
    };

    [Fact]
    public void Steps_with_precomputed_teacher_logits_train_bit_identically_to_an_epoch_with_the_teacher()
    {
        var teacher = Network.Build(SmallCnn.Create(11));
        var loader = Loader();

        var viaEpoch = Network.Build(SmallCnn.Create(5), 5);
        new Trainer(viaEpoch, loader, Options(teacher)).TrainEpoch(0);

        teacher.Training = false;
        var logits = loader.GetBatches(0).Select(b => teacher.Forward(b.Shape, b.ImageSpan).Data.ToArray()).ToArray();
        var viaSteps = Network.Build(SmallCnn.Create(5), 5);
        // The options name another teacher: only the given logits can make the two runs agree.
        var trainer = new Trainer(viaSteps, loader, Options(Network.Build(SmallCnn.Create(12))));
        var index = 0;
        foreach (var batch in loader.GetBatches(0)) trainer.Step(batch, 0.03f, logits[index++]);

        Assert.Equal(5, index);
        for (var p = 0; p < viaEpoch.Parameters.Count; p++)
        {
            Assert.Equal(viaEpoch.Parameters[p].Value.Data, viaSteps.Parameters[p].Value.Data);
        }
        Assert.False(viaSteps.Parameters[0].Value.Data.AsSpan().SequenceEqual(Network.Build(SmallCnn.Create(5), 5).Parameters[0].Value.Data),
            "the steps should have moved the weights");
    }

    [Fact]
    public void Teacher_logits_of_the_wrong_size_or_without_distillation_are_refused()
    {
        var loader = Loader();
        var batch = loader.GetBatches(0).First();
        var student = Network.Build(SmallCnn.Create(5), 5);

        var wrongSize = Assert.Throws<ArgumentException>(() =>
            new Trainer(student, loader, Options(Network.Build(SmallCnn.Create(11)))).Step(batch, 0.01f, new float[batch.Count * 10 - 1]));
        Assert.Contains("teacher logits", wrongSize.Message);

        var noDistillation = Assert.Throws<ArgumentException>(() =>
            new Trainer(student, loader, new TrainingOptions()).Step(batch, 0.01f, new float[batch.Count * 10]));
        Assert.Contains("no distillation", noDistillation.Message);
    }
}
