using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Runtime;

/// <summary>
/// The only entry into the native library. It resolves <c>OrtGetApiBase</c>, fetches the <c>OrtApi</c>
/// function table for <see cref="ApiVersion"/> and exposes each bound entry as a method. Entries that
/// return an <c>OrtStatus*</c> are private to this class and are called only through
/// <see cref="OrtStatus.ThrowIfFailed"/>, so no failure can go unnoticed or leak its status.
/// </summary>
/// <remarks>
/// Slot numbers count the function pointers of <c>struct OrtApi</c> in
/// <c>include/onnxruntime/core/session/onnxruntime_c_api.h</c>, starting at 0. The table only grows at
/// its end, so they hold for every runtime that accepts <see cref="ApiVersion"/>. Every bound entry
/// exists since API version 1; ORT itself asserts that ReleaseCustomOpDomain is slot 101.
/// </remarks>
internal static unsafe class OrtNative
{
    /// <summary>
    /// The C API version requested from the runtime (ONNX Runtime 1.17 or newer). Pinned rather than
    /// "latest" so that a newer runtime keeps serving the table layout this code was written against.
    /// </summary>
    internal const uint ApiVersion = 17;

    // C enum values passed across the boundary.
    private const int OrtArenaAllocator = 1;   // OrtAllocatorType
    private const int OrtMemTypeDefault = 0;   // OrtMemType
    internal const int OnnxTypeTensor = 1;     // ONNXType

    private static readonly object InitLock = new();
    private static Api? api;

    /// <summary>The version string the loaded library reports, such as "1.30.0".</summary>
    internal static string Version => Table.Version;

    /// <summary>Where the loaded library was found.</summary>
    internal static string LibraryPath => Table.LibraryPath;

    /// <summary>The API table, loading the library on first use. A failed load is retried on the next use.</summary>
    private static Api Table => Volatile.Read(ref api) ?? Initialize();

    private static Api Initialize()
    {
        lock (InitLock)
        {
            if (api is not null)
            {
                return api;
            }

            var (library, path) = OrtLibraryResolver.Load(OrtLibraryResolver.DefaultCandidates());
            if (!NativeLibrary.TryGetExport(library, "OrtGetApiBase", out var getApiBase))
            {
                throw new OrtException(OrtErrorCode.Fail, $"{path} was loaded but does not export OrtGetApiBase; it is not an ONNX Runtime library.");
            }

            // const OrtApiBase* OrtGetApiBase(void); OrtApiBase is { GetApi, GetVersionString }.
            var apiBase = (void**)((delegate* unmanaged<IntPtr>)getApiBase)();
            var getApi = (delegate* unmanaged<uint, void**>)apiBase[0];
            var getVersionString = (delegate* unmanaged<byte*>)apiBase[1];
            var version = Marshal.PtrToStringUTF8((IntPtr)getVersionString()) ?? "unknown";
            var table = getApi(ApiVersion);
            if (table is null)
            {
                throw new OrtException(OrtErrorCode.NotImplemented, $"ONNX Runtime {version} at {path} does not provide C API version {ApiVersion}; version 1.{ApiVersion} or newer is needed.");
            }

            var created = new Api(table, version, path);
            Volatile.Write(ref api, created);
            return created;
        }
    }

    /// <summary>Function pointers read from the table. Only <see cref="OrtNative"/> can see this type.</summary>
    private sealed class Api
    {
        internal readonly string Version;
        internal readonly string LibraryPath;

        // 0: OrtStatus* CreateStatus(OrtErrorCode code, const char* msg)
        internal readonly delegate* unmanaged<int, byte*, IntPtr> CreateStatus;
        // 1: OrtErrorCode GetErrorCode(const OrtStatus* status)
        internal readonly delegate* unmanaged<IntPtr, int> GetErrorCode;
        // 2: const char* GetErrorMessage(const OrtStatus* status)
        internal readonly delegate* unmanaged<IntPtr, byte*> GetErrorMessage;
        // 3: OrtStatus* CreateEnv(OrtLoggingLevel level, const char* logid, OrtEnv** out)
        internal readonly delegate* unmanaged<int, byte*, IntPtr*, IntPtr> CreateEnv;
        // 7: OrtStatus* CreateSession(const OrtEnv* env, const ORTCHAR_T* model_path, const OrtSessionOptions* options, OrtSession** out)
        internal readonly delegate* unmanaged<IntPtr, void*, IntPtr, IntPtr*, IntPtr> CreateSession;
        // 8: OrtStatus* CreateSessionFromArray(const OrtEnv* env, const void* model_data, size_t model_data_length, const OrtSessionOptions* options, OrtSession** out)
        internal readonly delegate* unmanaged<IntPtr, void*, nuint, IntPtr, IntPtr*, IntPtr> CreateSessionFromArray;
        // 9: OrtStatus* Run(OrtSession* session, const OrtRunOptions* run_options, const char* const* input_names, const OrtValue* const* inputs, size_t input_len,
        //                   const char* const* output_names, size_t output_names_len, OrtValue** outputs)
        internal readonly delegate* unmanaged<IntPtr, IntPtr, byte**, IntPtr*, nuint, byte**, nuint, IntPtr*, IntPtr> Run;
        // 10: OrtStatus* CreateSessionOptions(OrtSessionOptions** options)
        internal readonly delegate* unmanaged<IntPtr*, IntPtr> CreateSessionOptions;
        // 13: OrtStatus* SetSessionExecutionMode(OrtSessionOptions* options, ExecutionMode execution_mode)
        internal readonly delegate* unmanaged<IntPtr, int, IntPtr> SetSessionExecutionMode;
        // 23: OrtStatus* SetSessionGraphOptimizationLevel(OrtSessionOptions* options, GraphOptimizationLevel level)
        internal readonly delegate* unmanaged<IntPtr, int, IntPtr> SetSessionGraphOptimizationLevel;
        // 24: OrtStatus* SetIntraOpNumThreads(OrtSessionOptions* options, int intra_op_num_threads)
        internal readonly delegate* unmanaged<IntPtr, int, IntPtr> SetIntraOpNumThreads;
        // 25: OrtStatus* SetInterOpNumThreads(OrtSessionOptions* options, int inter_op_num_threads)
        internal readonly delegate* unmanaged<IntPtr, int, IntPtr> SetInterOpNumThreads;
        // 30: OrtStatus* SessionGetInputCount(const OrtSession* session, size_t* out)
        internal readonly delegate* unmanaged<IntPtr, nuint*, IntPtr> SessionGetInputCount;
        // 31: OrtStatus* SessionGetOutputCount(const OrtSession* session, size_t* out)
        internal readonly delegate* unmanaged<IntPtr, nuint*, IntPtr> SessionGetOutputCount;
        // 33: OrtStatus* SessionGetInputTypeInfo(const OrtSession* session, size_t index, OrtTypeInfo** type_info)
        internal readonly delegate* unmanaged<IntPtr, nuint, IntPtr*, IntPtr> SessionGetInputTypeInfo;
        // 34: OrtStatus* SessionGetOutputTypeInfo(const OrtSession* session, size_t index, OrtTypeInfo** type_info)
        internal readonly delegate* unmanaged<IntPtr, nuint, IntPtr*, IntPtr> SessionGetOutputTypeInfo;
        // 36: OrtStatus* SessionGetInputName(const OrtSession* session, size_t index, OrtAllocator* allocator, char** value)
        internal readonly delegate* unmanaged<IntPtr, nuint, IntPtr, byte**, IntPtr> SessionGetInputName;
        // 37: OrtStatus* SessionGetOutputName(const OrtSession* session, size_t index, OrtAllocator* allocator, char** value)
        internal readonly delegate* unmanaged<IntPtr, nuint, IntPtr, byte**, IntPtr> SessionGetOutputName;
        // 49: OrtStatus* CreateTensorWithDataAsOrtValue(const OrtMemoryInfo* info, void* p_data, size_t p_data_len, const int64_t* shape, size_t shape_len,
        //                                              ONNXTensorElementDataType type, OrtValue** out)
        internal readonly delegate* unmanaged<IntPtr, void*, nuint, long*, nuint, int, IntPtr*, IntPtr> CreateTensorWithDataAsOrtValue;
        // 51: OrtStatus* GetTensorMutableData(OrtValue* value, void** out)
        internal readonly delegate* unmanaged<IntPtr, void**, IntPtr> GetTensorMutableData;
        // 55: OrtStatus* CastTypeInfoToTensorInfo(const OrtTypeInfo* type_info, const OrtTensorTypeAndShapeInfo** out)
        internal readonly delegate* unmanaged<IntPtr, IntPtr*, IntPtr> CastTypeInfoToTensorInfo;
        // 56: OrtStatus* GetOnnxTypeFromTypeInfo(const OrtTypeInfo* type_info, enum ONNXType* out)
        internal readonly delegate* unmanaged<IntPtr, int*, IntPtr> GetOnnxTypeFromTypeInfo;
        // 60: OrtStatus* GetTensorElementType(const OrtTensorTypeAndShapeInfo* info, enum ONNXTensorElementDataType* out)
        internal readonly delegate* unmanaged<IntPtr, int*, IntPtr> GetTensorElementType;
        // 61: OrtStatus* GetDimensionsCount(const OrtTensorTypeAndShapeInfo* info, size_t* out)
        internal readonly delegate* unmanaged<IntPtr, nuint*, IntPtr> GetDimensionsCount;
        // 62: OrtStatus* GetDimensions(const OrtTensorTypeAndShapeInfo* info, int64_t* dim_values, size_t dim_values_length)
        internal readonly delegate* unmanaged<IntPtr, long*, nuint, IntPtr> GetDimensions;
        // 63: OrtStatus* GetSymbolicDimensions(const OrtTensorTypeAndShapeInfo* info, const char* dim_params[], size_t dim_params_length)
        internal readonly delegate* unmanaged<IntPtr, byte**, nuint, IntPtr> GetSymbolicDimensions;
        // 65: OrtStatus* GetTensorTypeAndShape(const OrtValue* value, OrtTensorTypeAndShapeInfo** out)
        internal readonly delegate* unmanaged<IntPtr, IntPtr*, IntPtr> GetTensorTypeAndShape;
        // 67: OrtStatus* GetValueType(const OrtValue* value, enum ONNXType* out)
        internal readonly delegate* unmanaged<IntPtr, int*, IntPtr> GetValueType;
        // 69: OrtStatus* CreateCpuMemoryInfo(enum OrtAllocatorType type, enum OrtMemType mem_type, OrtMemoryInfo** out)
        internal readonly delegate* unmanaged<int, int, IntPtr*, IntPtr> CreateCpuMemoryInfo;
        // 76: OrtStatus* AllocatorFree(OrtAllocator* allocator, void* p)
        internal readonly delegate* unmanaged<IntPtr, void*, IntPtr> AllocatorFree;
        // 78: OrtStatus* GetAllocatorWithDefaultOptions(OrtAllocator** out)
        internal readonly delegate* unmanaged<IntPtr*, IntPtr> GetAllocatorWithDefaultOptions;
        // 92..100: void ReleaseX(OrtX* input); each accepts null.
        internal readonly delegate* unmanaged<IntPtr, void> ReleaseEnv;                      // 92
        internal readonly delegate* unmanaged<IntPtr, void> ReleaseStatus;                   // 93
        internal readonly delegate* unmanaged<IntPtr, void> ReleaseMemoryInfo;               // 94
        internal readonly delegate* unmanaged<IntPtr, void> ReleaseSession;                  // 95
        internal readonly delegate* unmanaged<IntPtr, void> ReleaseValue;                    // 96
        internal readonly delegate* unmanaged<IntPtr, void> ReleaseTypeInfo;                 // 98
        internal readonly delegate* unmanaged<IntPtr, void> ReleaseTensorTypeAndShapeInfo;   // 99
        internal readonly delegate* unmanaged<IntPtr, void> ReleaseSessionOptions;           // 100

        internal Api(void** t, string version, string libraryPath)
        {
            Version = version;
            LibraryPath = libraryPath;
            CreateStatus = (delegate* unmanaged<int, byte*, IntPtr>)t[0];
            GetErrorCode = (delegate* unmanaged<IntPtr, int>)t[1];
            GetErrorMessage = (delegate* unmanaged<IntPtr, byte*>)t[2];
            CreateEnv = (delegate* unmanaged<int, byte*, IntPtr*, IntPtr>)t[3];
            CreateSession = (delegate* unmanaged<IntPtr, void*, IntPtr, IntPtr*, IntPtr>)t[7];
            CreateSessionFromArray = (delegate* unmanaged<IntPtr, void*, nuint, IntPtr, IntPtr*, IntPtr>)t[8];
            Run = (delegate* unmanaged<IntPtr, IntPtr, byte**, IntPtr*, nuint, byte**, nuint, IntPtr*, IntPtr>)t[9];
            CreateSessionOptions = (delegate* unmanaged<IntPtr*, IntPtr>)t[10];
            SetSessionExecutionMode = (delegate* unmanaged<IntPtr, int, IntPtr>)t[13];
            SetSessionGraphOptimizationLevel = (delegate* unmanaged<IntPtr, int, IntPtr>)t[23];
            SetIntraOpNumThreads = (delegate* unmanaged<IntPtr, int, IntPtr>)t[24];
            SetInterOpNumThreads = (delegate* unmanaged<IntPtr, int, IntPtr>)t[25];
            SessionGetInputCount = (delegate* unmanaged<IntPtr, nuint*, IntPtr>)t[30];
            SessionGetOutputCount = (delegate* unmanaged<IntPtr, nuint*, IntPtr>)t[31];
            SessionGetInputTypeInfo = (delegate* unmanaged<IntPtr, nuint, IntPtr*, IntPtr>)t[33];
            SessionGetOutputTypeInfo = (delegate* unmanaged<IntPtr, nuint, IntPtr*, IntPtr>)t[34];
            SessionGetInputName = (delegate* unmanaged<IntPtr, nuint, IntPtr, byte**, IntPtr>)t[36];
            SessionGetOutputName = (delegate* unmanaged<IntPtr, nuint, IntPtr, byte**, IntPtr>)t[37];
            CreateTensorWithDataAsOrtValue = (delegate* unmanaged<IntPtr, void*, nuint, long*, nuint, int, IntPtr*, IntPtr>)t[49];
            GetTensorMutableData = (delegate* unmanaged<IntPtr, void**, IntPtr>)t[51];
            CastTypeInfoToTensorInfo = (delegate* unmanaged<IntPtr, IntPtr*, IntPtr>)t[55];
            GetOnnxTypeFromTypeInfo = (delegate* unmanaged<IntPtr, int*, IntPtr>)t[56];
            GetTensorElementType = (delegate* unmanaged<IntPtr, int*, IntPtr>)t[60];
            GetDimensionsCount = (delegate* unmanaged<IntPtr, nuint*, IntPtr>)t[61];
            GetDimensions = (delegate* unmanaged<IntPtr, long*, nuint, IntPtr>)t[62];
            GetSymbolicDimensions = (delegate* unmanaged<IntPtr, byte**, nuint, IntPtr>)t[63];
            GetTensorTypeAndShape = (delegate* unmanaged<IntPtr, IntPtr*, IntPtr>)t[65];
            GetValueType = (delegate* unmanaged<IntPtr, int*, IntPtr>)t[67];
            CreateCpuMemoryInfo = (delegate* unmanaged<int, int, IntPtr*, IntPtr>)t[69];
            AllocatorFree = (delegate* unmanaged<IntPtr, void*, IntPtr>)t[76];
            GetAllocatorWithDefaultOptions = (delegate* unmanaged<IntPtr*, IntPtr>)t[78];
            ReleaseEnv = (delegate* unmanaged<IntPtr, void>)t[92];
            ReleaseStatus = (delegate* unmanaged<IntPtr, void>)t[93];
            ReleaseMemoryInfo = (delegate* unmanaged<IntPtr, void>)t[94];
            ReleaseSession = (delegate* unmanaged<IntPtr, void>)t[95];
            ReleaseValue = (delegate* unmanaged<IntPtr, void>)t[96];
            ReleaseTypeInfo = (delegate* unmanaged<IntPtr, void>)t[98];
            ReleaseTensorTypeAndShapeInfo = (delegate* unmanaged<IntPtr, void>)t[99];
            ReleaseSessionOptions = (delegate* unmanaged<IntPtr, void>)t[100];
        }
    }

    // ---- OrtStatus (used by OrtStatus.ThrowIfFailed; these never return a status) ----

    /// <summary>Creates a status the caller owns. Exists so tests can check the status entries.</summary>
    internal static IntPtr CreateStatus(OrtErrorCode code, string message)
    {
        fixed (byte* text = Utf8(message))
        {
            return Table.CreateStatus((int)code, text);
        }
    }

    internal static OrtErrorCode GetErrorCode(IntPtr status) => (OrtErrorCode)Table.GetErrorCode(status);

    internal static string GetErrorMessage(IntPtr status) => Marshal.PtrToStringUTF8((IntPtr)Table.GetErrorMessage(status)) ?? string.Empty;

    internal static void ReleaseStatus(IntPtr status) => Table.ReleaseStatus(status);

    // ---- Environment ----

    internal static OrtEnvHandle CreateEnv(int loggingLevel, string logId)
    {
        IntPtr env;
        fixed (byte* id = Utf8(logId))
        {
            OrtStatus.ThrowIfFailed(Table.CreateEnv(loggingLevel, id, &env));
        }

        return new OrtEnvHandle(env);
    }

    internal static void ReleaseEnv(IntPtr env) => Table.ReleaseEnv(env);

    // ---- Session options ----

    internal static OrtSessionOptionsHandle CreateSessionOptions()
    {
        IntPtr options;
        OrtStatus.ThrowIfFailed(Table.CreateSessionOptions(&options));
        return new OrtSessionOptionsHandle(options);
    }

    internal static void SetExecutionMode(OrtSessionOptionsHandle options, bool parallel) =>
        OrtStatus.ThrowIfFailed(Table.SetSessionExecutionMode(options.DangerousGetHandle(), parallel ? 1 : 0));

    internal static void SetGraphOptimizationLevel(OrtSessionOptionsHandle options, int level) =>
        OrtStatus.ThrowIfFailed(Table.SetSessionGraphOptimizationLevel(options.DangerousGetHandle(), level));

    internal static void SetIntraOpNumThreads(OrtSessionOptionsHandle options, int threads) =>
        OrtStatus.ThrowIfFailed(Table.SetIntraOpNumThreads(options.DangerousGetHandle(), threads));

    internal static void SetInterOpNumThreads(OrtSessionOptionsHandle options, int threads) =>
        OrtStatus.ThrowIfFailed(Table.SetInterOpNumThreads(options.DangerousGetHandle(), threads));

    internal static void ReleaseSessionOptions(IntPtr options) => Table.ReleaseSessionOptions(options);

    // ---- Session ----

    internal static OrtSessionHandle CreateSession(OrtEnvHandle env, string modelPath, OrtSessionOptionsHandle options)
    {
        IntPtr session;
        if (OperatingSystem.IsWindows())
        {
            // ORTCHAR_T is wchar_t on Windows; a pinned .NET string is already NUL-terminated UTF-16.
            fixed (char* path = modelPath)
            {
                OrtStatus.ThrowIfFailed(Table.CreateSession(env.DangerousGetHandle(), path, options.DangerousGetHandle(), &session));
            }
        }
        else
        {
            fixed (byte* path = Utf8(modelPath))
            {
                OrtStatus.ThrowIfFailed(Table.CreateSession(env.DangerousGetHandle(), path, options.DangerousGetHandle(), &session));
            }
        }

        return new OrtSessionHandle(session);
    }

    internal static OrtSessionHandle CreateSessionFromArray(OrtEnvHandle env, ReadOnlySpan<byte> model, OrtSessionOptionsHandle options)
    {
        IntPtr session;
        // The runtime parses the bytes during the call and keeps no reference to them afterwards.
        fixed (byte* data = model)
        {
            OrtStatus.ThrowIfFailed(Table.CreateSessionFromArray(env.DangerousGetHandle(), data, (nuint)model.Length, options.DangerousGetHandle(), &session));
        }

        return new OrtSessionHandle(session);
    }

    internal static void ReleaseSession(IntPtr session) => Table.ReleaseSession(session);

    internal static int SessionGetInputCount(IntPtr session)
    {
        nuint count;
        OrtStatus.ThrowIfFailed(Table.SessionGetInputCount(session, &count));
        return checked((int)count);
    }

    internal static int SessionGetOutputCount(IntPtr session)
    {
        nuint count;
        OrtStatus.ThrowIfFailed(Table.SessionGetOutputCount(session, &count));
        return checked((int)count);
    }

    internal static string SessionGetInputName(IntPtr session, int index)
    {
        var allocator = DefaultAllocator();
        byte* name;
        OrtStatus.ThrowIfFailed(Table.SessionGetInputName(session, (nuint)index, allocator, &name));
        return TakeAllocatorString(allocator, name);
    }

    internal static string SessionGetOutputName(IntPtr session, int index)
    {
        var allocator = DefaultAllocator();
        byte* name;
        OrtStatus.ThrowIfFailed(Table.SessionGetOutputName(session, (nuint)index, allocator, &name));
        return TakeAllocatorString(allocator, name);
    }

    internal static OrtTypeInfoHandle SessionGetInputTypeInfo(IntPtr session, int index)
    {
        IntPtr info;
        OrtStatus.ThrowIfFailed(Table.SessionGetInputTypeInfo(session, (nuint)index, &info));
        return new OrtTypeInfoHandle(info);
    }

    internal static OrtTypeInfoHandle SessionGetOutputTypeInfo(IntPtr session, int index)
    {
        IntPtr info;
        OrtStatus.ThrowIfFailed(Table.SessionGetOutputTypeInfo(session, (nuint)index, &info));
        return new OrtTypeInfoHandle(info);
    }

    /// <summary>
    /// Runs the session. All pointers are the caller's: names are NUL-terminated UTF-8, inputs are live
    /// values, and <paramref name="outputs"/> holds <paramref name="outputCount"/> nulls that the runtime
    /// fills with values the caller must release.
    /// </summary>
    internal static void Run(IntPtr session, byte** inputNames, IntPtr* inputs, int inputCount, byte** outputNames, int outputCount, IntPtr* outputs) =>
        OrtStatus.ThrowIfFailed(Table.Run(session, IntPtr.Zero, inputNames, inputs, (nuint)inputCount, outputNames, (nuint)outputCount, outputs));

    // ---- Type information ----

    internal static void ReleaseTypeInfo(IntPtr info) => Table.ReleaseTypeInfo(info);

    internal static int GetOnnxType(OrtTypeInfoHandle typeInfo)
    {
        int type;
        OrtStatus.ThrowIfFailed(Table.GetOnnxTypeFromTypeInfo(typeInfo.DangerousGetHandle(), &type));
        return type;
    }

    /// <summary>The tensor view of a type info. It is owned by <paramref name="typeInfo"/> and lives as long as it does.</summary>
    internal static IntPtr CastTypeInfoToTensorInfo(OrtTypeInfoHandle typeInfo)
    {
        IntPtr tensorInfo;
        OrtStatus.ThrowIfFailed(Table.CastTypeInfoToTensorInfo(typeInfo.DangerousGetHandle(), &tensorInfo));
        return tensorInfo;
    }

    internal static ElementType GetTensorElementType(IntPtr tensorInfo)
    {
        int type;
        OrtStatus.ThrowIfFailed(Table.GetTensorElementType(tensorInfo, &type));
        return (ElementType)type;
    }

    internal static long[] GetDimensions(IntPtr tensorInfo)
    {
        nuint count;
        OrtStatus.ThrowIfFailed(Table.GetDimensionsCount(tensorInfo, &count));
        var dims = new long[checked((int)count)];
        fixed (long* d = dims)
        {
            OrtStatus.ThrowIfFailed(Table.GetDimensions(tensorInfo, d, count));
        }

        return dims;
    }

    /// <summary>The dimension names, null where a dimension has none. The runtime keeps the strings; they are copied.</summary>
    internal static string?[] GetSymbolicDimensions(IntPtr tensorInfo, int rank)
    {
        var names = new string?[rank];
        if (rank == 0)
        {
            return names;
        }

        var pointers = new IntPtr[rank];
        fixed (IntPtr* p = pointers)
        {
            OrtStatus.ThrowIfFailed(Table.GetSymbolicDimensions(tensorInfo, (byte**)p, (nuint)rank));
        }

        for (var i = 0; i < rank; i++)
        {
            var name = pointers[i] == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(pointers[i]);
            names[i] = string.IsNullOrEmpty(name) ? null : name;
        }

        return names;
    }

    internal static void ReleaseTensorTypeAndShapeInfo(IntPtr info) => Table.ReleaseTensorTypeAndShapeInfo(info);

    // ---- Values ----

    /// <summary>
    /// Wraps caller memory as a tensor without copying. The returned value takes over
    /// <paramref name="pin"/> and unpins when released; if creation fails the pin is undone here.
    /// </summary>
    internal static OrtValueHandle CreateTensorWithData(OrtMemoryInfoHandle memoryInfo, MemoryHandle pin, long byteLength, ReadOnlySpan<long> shape, ElementType type)
    {
        IntPtr value;
        try
        {
            fixed (long* dims = shape)
            {
                OrtStatus.ThrowIfFailed(Table.CreateTensorWithDataAsOrtValue(
                    memoryInfo.DangerousGetHandle(), pin.Pointer, checked((nuint)byteLength), dims, (nuint)shape.Length, (int)type, &value));
            }
        }
        catch
        {
            pin.Dispose();
            throw;
        }

        return new OrtValueHandle(value, pin);
    }

    internal static int GetValueType(OrtValueHandle value)
    {
        int type;
        OrtStatus.ThrowIfFailed(Table.GetValueType(value.DangerousGetHandle(), &type));
        return type;
    }

    internal static OrtTensorTypeAndShapeInfoHandle GetTensorTypeAndShape(OrtValueHandle value)
    {
        IntPtr info;
        OrtStatus.ThrowIfFailed(Table.GetTensorTypeAndShape(value.DangerousGetHandle(), &info));
        return new OrtTensorTypeAndShapeInfoHandle(info);
    }

    /// <summary>The tensor's storage. It belongs to <paramref name="value"/> and is valid until the value is released.</summary>
    internal static void* GetTensorData(OrtValueHandle value)
    {
        void* data;
        OrtStatus.ThrowIfFailed(Table.GetTensorMutableData(value.DangerousGetHandle(), &data));
        return data;
    }

    internal static void ReleaseValue(IntPtr value) => Table.ReleaseValue(value);

    // ---- Memory info and allocator ----

    internal static OrtMemoryInfoHandle CreateCpuMemoryInfo()
    {
        IntPtr info;
        OrtStatus.ThrowIfFailed(Table.CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &info));
        return new OrtMemoryInfoHandle(info);
    }

    internal static void ReleaseMemoryInfo(IntPtr info) => Table.ReleaseMemoryInfo(info);

    /// <summary>The runtime's default CPU allocator. It is owned by the runtime and never released.</summary>
    private static IntPtr DefaultAllocator()
    {
        IntPtr allocator;
        OrtStatus.ThrowIfFailed(Table.GetAllocatorWithDefaultOptions(&allocator));
        return allocator;
    }

    /// <summary>Copies a string the runtime allocated with <paramref name="allocator"/>, then frees it there.</summary>
    private static string TakeAllocatorString(IntPtr allocator, byte* text)
    {
        try
        {
            return Marshal.PtrToStringUTF8((IntPtr)text) ?? string.Empty;
        }
        finally
        {
            OrtStatus.ThrowIfFailed(Table.AllocatorFree(allocator, text));
        }
    }

    private static byte[] Utf8(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }
}
