using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;
using FsCheck;
using FsCheck.Fluent;

namespace Acp.Onnx.Tests.Format;

/// <summary>
/// Property: whatever bytes of a small real model are changed, loading either succeeds or throws OnnxModelException;
/// it never crashes with another exception, hangs, or allocates wildly.
/// </summary>
public sealed class MutationFuzzTests
{
    private const int CasesPerModel = 2500;

    private enum MutationKind { Overwrite, Insert, Delete, Truncate, FlipBit }

    private readonly record struct Mutation(MutationKind Kind, int Position, byte Value);

    [Fact]
    public void Mutated_tiny_cnn_loads_or_fails_cleanly() => CheckMutants(TinyModels.Cnn().ToBytes());

    [Fact]
    public void Mutated_generated_fixtures_load_or_fail_cleanly()
    {
        foreach (var file in new[] { "tiny_cnn.onnx", "tiny_mlp.onnx", "edge_residual_add.onnx" })
        {
            CheckMutants(File.ReadAllBytes(Fixtures.PathOf(file)));
        }
    }

    private static void CheckMutants(byte[] original)
    {
        var mutation =
            from kind in Gen.Elements(Enum.GetValues<MutationKind>())
            from position in Gen.Choose(0, original.Length - 1)
            from value in Gen.Choose(0, 255)
            select new Mutation(kind, position, (byte)value);
        var mutations = Gen.Choose(1, 8).SelectMany(n => mutation.ArrayOf(n));
        var property = Prop.ForAll(Arb.From(mutations), ms => LoadsOrFailsCleanly(Apply(original, ms)));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(CasesPerModel).WithQuietOnSuccess(true), property);
    }

    private static bool LoadsOrFailsCleanly(byte[] bytes)
    {
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var model = OnnxModel.FromBytes(bytes, "mutant");
            _ = model.ToBytes();
        }
        catch (OnnxModelException)
        {
        }
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        if (elapsed > TimeSpan.FromSeconds(1)) throw new Exception($"load took {elapsed}");
        if (allocated > 64L << 20) throw new Exception($"load allocated {allocated} bytes for a {bytes.Length}-byte input");
        return true;
    }

    private static byte[] Apply(byte[] original, Mutation[] mutations)
    {
        var bytes = new List<byte>(original);
        foreach (var m in mutations)
        {
            if (bytes.Count == 0) break;
            var at = m.Position % bytes.Count;
            switch (m.Kind)
            {
                case MutationKind.Overwrite: bytes[at] = m.Value; break;
                case MutationKind.Insert: bytes.Insert(at, m.Value); break;
                case MutationKind.Delete: bytes.RemoveAt(at); break;
                case MutationKind.Truncate: bytes.RemoveRange(at, bytes.Count - at); break;
                case MutationKind.FlipBit: bytes[at] ^= (byte)(1 << (m.Value % 8)); break;
            }
        }
        return bytes.ToArray();
    }
}
