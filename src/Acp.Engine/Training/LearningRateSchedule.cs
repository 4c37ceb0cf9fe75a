namespace Acp.Engine.Training;

/// <summary>A learning rate as a function of the step (0-based) within a run of <c>totalSteps</c> steps.</summary>
public interface ILearningRateSchedule
{
    /// <summary>The learning rate for <paramref name="step"/>.</summary>
    float At(int step, int totalSteps);
}

/// <summary>Cosine annealing from <paramref name="BaseRate"/> to <paramref name="MinRate"/> after an optional linear warm-up.</summary>
public sealed record CosineSchedule(float BaseRate, float MinRate = 0f, int WarmupSteps = 0) : ILearningRateSchedule
{
    /// <inheritdoc/>
    public float At(int step, int totalSteps)
    {
        if (step < WarmupSteps) return BaseRate * (step + 1) / WarmupSteps;
        var span = Math.Max(1, totalSteps - WarmupSteps);
        var progress = Math.Clamp((step - WarmupSteps) / (double)span, 0, 1);
        return (float)(MinRate + (BaseRate - MinRate) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}

/// <summary>
/// The one-cycle policy as PyTorch's <c>OneCycleLR</c> with cosine annealing: from MaxRate/DivFactor up to MaxRate over
/// the first <paramref name="WarmupFraction"/> of the steps, then down to MaxRate/(DivFactor·FinalDivFactor).
/// </summary>
public sealed record OneCycleSchedule(float MaxRate, float WarmupFraction = 0.3f, float DivFactor = 25f, float FinalDivFactor = 1e4f) : ILearningRateSchedule
{
    /// <inheritdoc/>
    public float At(int step, int totalSteps)
    {
        var initial = MaxRate / DivFactor;
        var final = initial / FinalDivFactor;
        var peak = WarmupFraction * totalSteps - 1;
        if (step <= peak)
        {
            return Anneal(initial, MaxRate, peak <= 0 ? 1 : step / peak);
        }
        var rest = totalSteps - 1 - peak;
        return Anneal(MaxRate, final, rest <= 0 ? 1 : (step - peak) / rest);
    }

    private static float Anneal(float from, float to, double progress) =>
        (float)(to + (from - to) / 2 * (Math.Cos(Math.PI * Math.Clamp(progress, 0, 1)) + 1));
}

/// <summary>A constant learning rate.</summary>
public sealed record ConstantSchedule(float Rate) : ILearningRateSchedule
{
    /// <inheritdoc/>
    public float At(int step, int totalSteps) => Rate;
}
