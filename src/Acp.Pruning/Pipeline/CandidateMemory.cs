using System.Runtime;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// Hands a scored candidate's memory back before the next candidate is built (issue 19).
/// </summary>
/// <remarks>
/// A search builds one network per candidate, each with a few hundred MB of activation buffers in large arrays of
/// sizes that change with the candidate's widths. Disposing a network drops its buffers, but the garbage collector
/// returns large arrays only at a full collection, which it schedules by its own budget: measured, it let a default
/// prune's resident set grow to several times what is alive, and free spaces of one candidate's sizes rarely fit the
/// next one's. At a candidate boundary nothing of the candidate is alive, so one full collection that also compacts
/// the large-object heap returns all of it (a few ms beside a candidate's seconds of compute) and keeps the peak at
/// what one candidate needs, however many are scored. The same holds after fine-tuning, before the proof builds its
/// network. Nothing computed depends on it.
/// </remarks>
internal static class CandidateMemory
{
    /// <summary>Collects what the networks disposed so far left behind: after each scored candidate, and after fine-tuning.</summary>
    public static void Reclaim()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }
}
