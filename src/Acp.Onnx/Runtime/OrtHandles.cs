using System.Buffers;
using System.Runtime.InteropServices;

namespace Acp.Onnx.Runtime;

/// <summary>
/// Base for handles to runtime objects this process owns. Each subclass releases its object with the
/// matching Release entry of the API, exactly once, even when disposal races with a call that holds a
/// reference through <see cref="SafeHandle.DangerousAddRef"/>.
/// </summary>
internal abstract class OrtHandle : SafeHandle
{
    protected OrtHandle(IntPtr pointer)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(pointer);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;
}

/// <summary>An <c>OrtEnv</c>.</summary>
internal sealed class OrtEnvHandle(IntPtr pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        OrtNative.ReleaseEnv(handle);
        return true;
    }
}

/// <summary>An <c>OrtSessionOptions</c>. A session copies what it needs, so options can go once the session exists.</summary>
internal sealed class OrtSessionOptionsHandle(IntPtr pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        OrtNative.ReleaseSessionOptions(handle);
        return true;
    }
}

/// <summary>An <c>OrtSession</c>.</summary>
internal sealed class OrtSessionHandle(IntPtr pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        OrtNative.ReleaseSession(handle);
        return true;
    }
}

/// <summary>An <c>OrtMemoryInfo</c>.</summary>
internal sealed class OrtMemoryInfoHandle(IntPtr pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        OrtNative.ReleaseMemoryInfo(handle);
        return true;
    }
}

/// <summary>An <c>OrtTypeInfo</c>; tensor views cast from it live only as long as it does.</summary>
internal sealed class OrtTypeInfoHandle(IntPtr pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        OrtNative.ReleaseTypeInfo(handle);
        return true;
    }
}

/// <summary>An <c>OrtTensorTypeAndShapeInfo</c> obtained from a value.</summary>
internal sealed class OrtTensorTypeAndShapeInfoHandle(IntPtr pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        OrtNative.ReleaseTensorTypeAndShapeInfo(handle);
        return true;
    }
}

/// <summary>
/// An <c>OrtValue</c>. A tensor created over managed memory does not own that memory, so this handle
/// holds the pin and drops it only after the value is released.
/// </summary>
internal sealed class OrtValueHandle : OrtHandle
{
    private MemoryHandle pin;

    /// <summary>Wraps a value the runtime allocated (an output).</summary>
    internal OrtValueHandle(IntPtr pointer)
        : base(pointer)
    {
    }

    /// <summary>Wraps a value over pinned managed memory, taking over <paramref name="pin"/>.</summary>
    internal OrtValueHandle(IntPtr pointer, MemoryHandle pin)
        : base(pointer)
    {
        this.pin = pin;
    }

    protected override bool ReleaseHandle()
    {
        OrtNative.ReleaseValue(handle);
        pin.Dispose();
        return true;
    }
}

/// <summary>
/// NUL-terminated UTF-8 copies of a session's input or output names in one native block, laid out as an
/// array of pointers followed by the bytes, so a Run can pass them without converting each time.
/// </summary>
internal sealed unsafe class Utf8NameTable : SafeHandle
{
    internal Utf8NameTable(IReadOnlyList<string> names)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        Count = names.Count;
        var encoded = names.Select(n => System.Text.Encoding.UTF8.GetBytes(n)).ToArray();
        var pointerBytes = (nuint)(sizeof(byte*) * Math.Max(Count, 1));
        var total = pointerBytes + (nuint)encoded.Sum(e => (long)e.Length + 1);
        var block = (byte*)NativeMemory.Alloc(total);
        SetHandle((IntPtr)block);

        var pointers = (byte**)block;
        var cursor = block + pointerBytes;
        for (var i = 0; i < encoded.Length; i++)
        {
            pointers[i] = cursor;
            encoded[i].AsSpan().CopyTo(new Span<byte>(cursor, encoded[i].Length));
            cursor[encoded[i].Length] = 0;
            cursor += encoded[i].Length + 1;
        }
    }

    /// <summary>How many names the table holds.</summary>
    internal int Count { get; }

    /// <summary>The pointer array. Valid while a reference to this handle is held.</summary>
    internal byte** Pointers => (byte**)handle;

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        NativeMemory.Free((void*)handle);
        return true;
    }
}
