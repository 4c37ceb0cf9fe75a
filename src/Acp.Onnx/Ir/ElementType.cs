namespace Acp.Onnx.Ir;

/// <summary>ONNX tensor element types, numbered as in <c>TensorProto.DataType</c>.</summary>
public enum ElementType
{
    /// <summary>Not set; never valid for a tensor with data.</summary>
    Undefined = 0,
    Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9,
    Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, Complex64 = 14, Complex128 = 15, BFloat16 = 16,
    Float8E4M3FN = 17, Float8E4M3FNUZ = 18, Float8E5M2 = 19, Float8E5M2FNUZ = 20, UInt4 = 21, Int4 = 22, Float4E2M1 = 23,
}

/// <summary>Sizes and names of <see cref="ElementType"/> values.</summary>
public static class ElementTypes
{
    /// <summary>True for the element types this version of the format defines.</summary>
    public static bool IsKnown(ElementType type) => type > ElementType.Undefined && type <= ElementType.Float4E2M1;

    /// <summary>
    /// Bytes that <paramref name="count"/> elements occupy in <c>raw_data</c>, or null for strings,
    /// whose size is not fixed. Sub-byte types pack two elements per byte.
    /// </summary>
    public static long? RawByteCount(ElementType type, long count) => type switch
    {
        ElementType.Float or ElementType.Int32 or ElementType.UInt32 => checked(count * 4),
        ElementType.Int64 or ElementType.UInt64 or ElementType.Double or ElementType.Complex64 => checked(count * 8),
        ElementType.Complex128 => checked(count * 16),
        ElementType.Int16 or ElementType.UInt16 or ElementType.Float16 or ElementType.BFloat16 => checked(count * 2),
        ElementType.Int8 or ElementType.UInt8 or ElementType.Bool or ElementType.Float8E4M3FN or ElementType.Float8E4M3FNUZ
            or ElementType.Float8E5M2 or ElementType.Float8E5M2FNUZ => count,
        ElementType.UInt4 or ElementType.Int4 or ElementType.Float4E2M1 => (count + 1) / 2,
        _ => null,
    };

    /// <summary>The lower-case name ONNX documentation uses (float, int64, ...).</summary>
    public static string Name(ElementType type) => type switch
    {
        ElementType.Float => "float",
        ElementType.Double => "double",
        ElementType.Float16 => "float16",
        ElementType.BFloat16 => "bfloat16",
        _ => type.ToString().ToLowerInvariant(),
    };
}
