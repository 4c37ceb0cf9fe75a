using System.Runtime.InteropServices;

namespace Acp.Data.Images;

/// <summary>
/// The decompression functions of libjpeg-turbo's TurboJPEG C API (<c>turbojpeg.h</c>), bound at run time so that
/// Acp runs where the library is missing and only reading a JPEG fails. The shared instance is loaded once, on the
/// first JPEG; the library is never unloaded.
/// </summary>
/// <remarks>
/// A TurboJPEG handle must not be used by two threads at once; <see cref="JpegDecoder"/> makes one per image, which
/// costs little next to decoding it.
/// </remarks>
internal sealed unsafe class TurboJpegLibrary
{
    /// <summary>Names handed to the system loader, in order. The soname comes first because Debian's libturbojpeg0
    /// ships no unversioned <c>libturbojpeg.so</c> (that is in the -dev package).</summary>
    internal static readonly string[] DefaultNames = ["libturbojpeg.so.0", "libturbojpeg.so", "turbojpeg"];

    private static readonly Lazy<TurboJpegLibrary> Shared = new(() => Load(DefaultNames), LazyThreadSafetyMode.ExecutionAndPublication);

    // Pixel formats, colour spaces and error codes (enums TJPF, TJCS, TJERR of turbojpeg.h).
    internal const int PixelFormatRgb = 0;
    internal const int PixelFormatGray = 6;
    internal const int PixelFormatCmyk = 11;
    internal const int ColorSpaceRgb = 0;
    internal const int ColorSpaceYCbCr = 1;
    internal const int ColorSpaceGray = 2;
    internal const int ColorSpaceCmyk = 3;
    internal const int ColorSpaceYcck = 4;
    internal const int ErrorWarning = 0;

    private TurboJpegLibrary(string? loadedFrom, string? unavailableReason)
    {
        LoadedFrom = loadedFrom;
        UnavailableReason = unavailableReason;
    }

    /// <summary>The library of this process, loaded on first use.</summary>
    public static TurboJpegLibrary Default => Shared.Value;

    /// <summary>Whether the library loaded and exports every function used.</summary>
    public bool IsAvailable => LoadedFrom is not null;

    /// <summary>The name that loaded, or null.</summary>
    public string? LoadedFrom { get; }

    /// <summary>Why the library is not available (each name tried and what went wrong); null when it is.</summary>
    public string? UnavailableReason { get; }

    /// <summary><c>tjhandle tjInitDecompress(void)</c>.</summary>
    internal delegate* unmanaged<IntPtr> InitDecompress { get; private init; }

    /// <summary><c>int tjDecompressHeader3(tjhandle, const unsigned char *jpegBuf, unsigned long jpegSize, int *width,
    /// int *height, int *jpegSubsamp, int *jpegColorspace)</c>.</summary>
    internal delegate* unmanaged<IntPtr, byte*, CULong, int*, int*, int*, int*, int> DecompressHeader3 { get; private init; }

    /// <summary><c>int tjDecompress2(tjhandle, const unsigned char *jpegBuf, unsigned long jpegSize, unsigned char
    /// *dstBuf, int width, int pitch, int height, int pixelFormat, int flags)</c>.</summary>
    internal delegate* unmanaged<IntPtr, byte*, CULong, byte*, int, int, int, int, int, int> Decompress2 { get; private init; }

    /// <summary><c>char *tjGetErrorStr2(tjhandle)</c>.</summary>
    internal delegate* unmanaged<IntPtr, byte*> GetErrorStr2 { get; private init; }

    /// <summary><c>int tjGetErrorCode(tjhandle)</c>.</summary>
    internal delegate* unmanaged<IntPtr, int> GetErrorCode { get; private init; }

    /// <summary><c>int tjDestroy(tjhandle)</c>.</summary>
    internal delegate* unmanaged<IntPtr, int> Destroy { get; private init; }

    /// <summary>The last error of <paramref name="handle"/> (or of a global function when it is zero), as text.</summary>
    internal string ErrorText(IntPtr handle)
    {
        var text = Marshal.PtrToStringUTF8((IntPtr)GetErrorStr2(handle));
        return string.IsNullOrWhiteSpace(text) ? "no reason given" : text.Trim();
    }

    /// <summary>Loads the first of <paramref name="names"/> that loads and exports the functions; never throws.</summary>
    internal static TurboJpegLibrary Load(IEnumerable<string> names)
    {
        var failures = new List<string>();
        foreach (var name in names)
        {
            if (!NativeLibrary.TryLoad(name, typeof(TurboJpegLibrary).Assembly, searchPath: null, out var handle))
            {
                failures.Add($"{name}: not found or not loadable");
                continue;
            }
            var exports = new Dictionary<string, IntPtr>();
            foreach (var function in new[] { "tjInitDecompress", "tjDecompressHeader3", "tjDecompress2", "tjGetErrorStr2", "tjGetErrorCode", "tjDestroy" })
            {
                if (NativeLibrary.TryGetExport(handle, function, out var address)) exports[function] = address;
                else failures.Add($"{name}: loaded but exports no {function} (libjpeg-turbo 2.0 or later is needed)");
            }
            if (exports.Count < 6)
            {
                NativeLibrary.Free(handle);
                continue;
            }
            return new TurboJpegLibrary(name, null)
            {
                InitDecompress = (delegate* unmanaged<IntPtr>)exports["tjInitDecompress"],
                DecompressHeader3 = (delegate* unmanaged<IntPtr, byte*, CULong, int*, int*, int*, int*, int>)exports["tjDecompressHeader3"],
                Decompress2 = (delegate* unmanaged<IntPtr, byte*, CULong, byte*, int, int, int, int, int, int>)exports["tjDecompress2"],
                GetErrorStr2 = (delegate* unmanaged<IntPtr, byte*>)exports["tjGetErrorStr2"],
                GetErrorCode = (delegate* unmanaged<IntPtr, int>)exports["tjGetErrorCode"],
                Destroy = (delegate* unmanaged<IntPtr, int>)exports["tjDestroy"],
            };
        }
        return new TurboJpegLibrary(null, string.Join("; ", failures));
    }
}

/// <summary>A TurboJPEG decompressor instance (<c>tjInitDecompress</c>), destroyed with <c>tjDestroy</c>.</summary>
internal sealed unsafe class TurboJpegDecompressorHandle : SafeHandle
{
    private readonly TurboJpegLibrary _library;

    private TurboJpegDecompressorHandle(TurboJpegLibrary library)
        : base(IntPtr.Zero, ownsHandle: true) => _library = library;

    /// <inheritdoc/>
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>A new decompressor; <see cref="IsInvalid"/> when TurboJPEG could not make one.</summary>
    public static TurboJpegDecompressorHandle Create(TurboJpegLibrary library)
    {
        var result = new TurboJpegDecompressorHandle(library);
        // Set inside the SafeHandle at once so that nothing can leak it.
        result.SetHandle(library.InitDecompress());
        return result;
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => _library.Destroy(handle) == 0;
}
