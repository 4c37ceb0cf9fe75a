using System.Runtime.InteropServices;

namespace Acp.Engine.Kernels;

/// <summary>
/// Binds <c>cblas_sgemm</c> of the system OpenBLAS at run time, so that the engine still works (on the managed
/// GEMM) where OpenBLAS is not installed. The library is looked up once, on first use.
/// </summary>
internal static unsafe class OpenBlasNative
{
    /// <summary>Names handed to the system loader, in order. The soname comes first because Debian's
    /// <c>libopenblas0-*</c> packages ship no unversioned <c>libopenblas.so</c> without the -dev package.</summary>
    internal static readonly string[] LibraryNames = ["libopenblas.so.0", "libopenblas.so", "libopenblas"];

    // CBLAS enum values (cblas.h).
    private const int CblasRowMajor = 101;
    private const int CblasNoTrans = 111;
    private const int CblasTrans = 112;

    private static readonly Lazy<Binding?> Bound = new(Bind, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Whether OpenBLAS loaded and exports <c>cblas_sgemm</c>.</summary>
    internal static bool IsAvailable => Bound.Value is not null;

    /// <summary>Why OpenBLAS is not available, for error messages; null when it is.</summary>
    internal static string? UnavailableReason { get; private set; }

    /// <summary>The library name that loaded, or null.</summary>
    internal static string? LoadedFrom => Bound.Value?.Name;

    /// <summary>The kernel family OpenBLAS picked for this CPU (such as "SkylakeX"), when it says.</summary>
    internal static string? CoreName
    {
        get
        {
            var binding = Bound.Value;
            if (binding is null || binding.GetCoreName == null)
            {
                return null;
            }

            return Marshal.PtrToStringAnsi((IntPtr)binding.GetCoreName());
        }
    }

    /// <summary>OpenBLAS's own thread count, or -1 when the library does not say.</summary>
    internal static int Threads
    {
        get
        {
            var binding = Required;
            return binding.GetNumThreads == null ? -1 : binding.GetNumThreads();
        }
    }

    /// <summary>
    /// Sets OpenBLAS's own thread count. The engine runs with 1 (set at load): its kernels already spread independent
    /// products over the cores, and a threaded OpenBLAS inside those loops would oversubscribe them. Exposed for the
    /// measurement that checks that choice.
    /// </summary>
    internal static void SetThreads(int threads)
    {
        var binding = Required;
        if (binding.SetNumThreads != null)
        {
            binding.SetNumThreads(threads);
        }
    }

    /// <summary>Row-major <c>cblas_sgemm</c>; the caller has validated every size and handled empty products.</summary>
    internal static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda,
        float* b, int ldb, float beta, float* c, int ldc)
    {
        Required.Sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    private static Binding Required =>
        Bound.Value ?? throw new InvalidOperationException($"OpenBLAS is not available: {UnavailableReason}");

    private static Binding? Bind()
    {
        var failures = new List<string>();
        foreach (var name in LibraryNames)
        {
            if (!NativeLibrary.TryLoad(name, typeof(OpenBlasNative).Assembly, searchPath: null, out var handle))
            {
                failures.Add($"{name}: not found or not loadable");
                continue;
            }

            if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out var sgemm))
            {
                failures.Add($"{name}: loaded but exports no cblas_sgemm");
                NativeLibrary.Free(handle);
                continue;
            }

            var binding = new Binding(name)
            {
                Sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm,
                SetNumThreads = NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out var set)
                    ? (delegate* unmanaged<int, void>)set : null,
                GetNumThreads = NativeLibrary.TryGetExport(handle, "openblas_get_num_threads", out var get)
                    ? (delegate* unmanaged<int>)get : null,
                GetCoreName = NativeLibrary.TryGetExport(handle, "openblas_get_corename", out var core)
                    ? (delegate* unmanaged<byte*>)core : null,
            };

            // One thread per call: see SetThreads. Done once here because the setting is process-wide.
            if (binding.SetNumThreads != null)
            {
                binding.SetNumThreads(1);
            }

            UnavailableReason = null;
            return binding;
        }

        UnavailableReason = string.Join("; ", failures);
        return null;
    }

    private sealed class Binding(string name)
    {
        public string Name { get; } = name;

        public delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> Sgemm;

        public delegate* unmanaged<int, void> SetNumThreads;

        public delegate* unmanaged<int> GetNumThreads;

        public delegate* unmanaged<byte*> GetCoreName;
    }
}
