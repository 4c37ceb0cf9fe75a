using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Acp.MLNet;

/// <summary>
/// How a label column's values map to the model's classes. A key column's keys map through their values when those are
/// the class indices 0..K−1 (keys made by MapValueToKey from class numbers, in any key order); otherwise key k is
/// class k − 1 (keys ordered by value of the class names). A numeric column holds the class index itself.
/// </summary>
internal sealed class LabelClasses
{
    private readonly int[]? _classOfKey;
    private readonly Array? _keyValues;
    private readonly Func<DataViewRow, ValueGetter<int>> _reader;

    private LabelClasses(string column, int classCount, int[]? classOfKey, Array? keyValues, Func<DataViewRow, ValueGetter<int>> reader)
    {
        Column = column;
        ClassCount = classCount;
        _classOfKey = classOfKey;
        _keyValues = keyValues;
        _reader = reader;
    }

    /// <summary>Classes known only by their slots (keys 1..K are classes 0..K−1), for schema checks before any data.</summary>
    public static LabelClasses Slots(int classCount) =>
        new("", classCount, null, null, _ => throw new InvalidOperationException("No label column to read."));

    /// <summary>The label column's name.</summary>
    public string Column { get; }

    /// <summary>The model's class count.</summary>
    public int ClassCount { get; }

    /// <summary>Slot s of the score column holds class ClassOfSlot[s]: the class of key s + 1, or s for numeric labels.</summary>
    public IReadOnlyList<int> ClassOfSlot => _classOfKey ?? Enumerable.Range(0, ClassCount).ToArray();

    /// <summary>A getter of the class index of the current row of <paramref name="row"/>.</summary>
    public ValueGetter<int> ClassGetter(DataViewRow row) => _reader(row);

    /// <summary>The mapping for <paramref name="column"/> and a model of <paramref name="classCount"/> classes.</summary>
    /// <exception cref="ArgumentException">The column's type cannot hold class labels, or its key count is not the class count.</exception>
    public static LabelClasses For(DataViewSchema.Column column, int classCount, string source)
    {
        var name = column.Name;
        if (column.Type is KeyDataViewType key)
        {
            if (key.Count != (ulong)classCount)
            {
                throw new ArgumentException($"Label column '{name}' has {key.Count} keys but {source} predicts {classCount} classes; map the labels to exactly {classCount} keys.");
            }
            var keyValues = KeyValues(column);
            var classOfKey = KeyClasses(keyValues, classCount);
            return new LabelClasses(name, classCount, classOfKey, keyValues?.Length == classCount ? keyValues : null, row => KeyReader(row, column, classOfKey));
        }
        var reader = NumericReader(column, classCount)
            ?? throw new ArgumentException($"Label column '{name}' is {column.Type}; it must be a key (MapValueToKey) or a number holding the class index.");
        return new LabelClasses(name, classCount, null, null, reader);
    }

    /// <summary>
    /// The estimators that turn the best score slot (a one-element Int64 vector, <paramref name="slotColumn"/>) into
    /// <paramref name="output"/>: a key of the label's count whose key values are the label's own, so that
    /// MapKeyToValue gives back label values. ML.NET's own transformers only, so a saved model loads without Acp.
    /// </summary>
    public IEstimator<ITransformer> PredictedKey(TransformsCatalog catalog, string slotColumn, string valueColumn, string output) => _keyValues switch
    {
        uint[] v => ThroughValues(catalog, v, slotColumn, valueColumn, output),
        int[] v => ThroughValues(catalog, v, slotColumn, valueColumn, output),
        long[] v => ThroughValues(catalog, v, slotColumn, valueColumn, output),
        ulong[] v => ThroughValues(catalog, v, slotColumn, valueColumn, output),
        float[] v => ThroughValues(catalog, v, slotColumn, valueColumn, output),
        double[] v => ThroughValues(catalog, v, slotColumn, valueColumn, output),
        string[] v => ThroughValues(catalog, v, slotColumn, valueColumn, output),
        // No key values to keep (numeric labels): keys 1..K are slots 0..K-1.
        _ => catalog.CopyColumns(valueColumn, slotColumn).Append(catalog.Conversion.MapValueToKey(output, valueColumn,
            keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue,
            keyData: new MLContext().Data.LoadFromEnumerable(Enumerable.Range(0, ClassCount).Select(s => new ValueRow<long> { Value = s })))),
    };

    /// <summary>Slot s → the value of key s + 1 → that key, with the label's key values (MapValueToKey over them in key order).</summary>
    private static IEstimator<ITransformer> ThroughValues<T>(TransformsCatalog catalog, T[] values, string slotColumn, string valueColumn, string output)
    {
        var keys = new MLContext().Data.LoadFromEnumerable(values.Select(v => new ValueRow<T> { Value = v }));
        return catalog.Conversion.MapValue(valueColumn, values.Select((v, s) => KeyValuePair.Create((long)s, v)), slotColumn)
            .Append(catalog.Conversion.MapValueToKey(output, valueColumn, keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByOccurrence, keyData: keys));
    }

    /// <summary>The class of each key (index k − 1): the key values when they are the class indices, else key order.</summary>
    private static int[] KeyClasses(Array? values, int classCount)
    {
        var inOrder = Enumerable.Range(0, classCount).ToArray();
        if (values is null || values.Length != classCount) return inOrder;
        var classes = new int[classCount];
        for (var k = 0; k < classCount; k++)
        {
            var text = Convert.ToString(values.GetValue(k), CultureInfo.InvariantCulture);
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || v != Math.Floor(v) || v < 0 || v >= classCount) return inOrder;
            classes[k] = (int)v;
        }
        return classes.Distinct().Count() == classCount ? classes : inOrder;
    }

    /// <summary>The key values in key order, as a typed array (text as strings), or null when there are none of a type handled here.</summary>
    private static Array? KeyValues(DataViewSchema.Column column)
    {
        var annotation = column.Annotations.Schema.GetColumnOrNull("KeyValues");
        if (annotation is not { Type: VectorDataViewType vector }) return null;
        var type = vector.ItemType.RawType;
        if (type == typeof(ReadOnlyMemory<char>)) return Values<ReadOnlyMemory<char>>(column).Select(v => v.ToString()).ToArray();
        if (type == typeof(uint)) return Values<uint>(column);
        if (type == typeof(int)) return Values<int>(column);
        if (type == typeof(long)) return Values<long>(column);
        if (type == typeof(ulong)) return Values<ulong>(column);
        if (type == typeof(float)) return Values<float>(column);
        if (type == typeof(double)) return Values<double>(column);
        return null;
    }

    private static T[] Values<T>(DataViewSchema.Column column)
    {
        var values = default(VBuffer<T>);
        column.Annotations.GetValue("KeyValues", ref values);
        return values.DenseValues().ToArray();
    }

    /// <summary>A one-column row, for the key data of a key mapping.</summary>
    private sealed class ValueRow<T>
    {
        public T Value { get; set; } = default!;
    }

    private static ValueGetter<int> KeyReader(DataViewRow row, DataViewSchema.Column column, int[] classOfKey)
    {
        if (column.Type.RawType == typeof(uint))
        {
            var get = row.GetGetter<uint>(column);
            uint key = 0;
            return (ref int value) => { get(ref key); value = Class(key, row.Position, column.Name, classOfKey); };
        }
        if (column.Type.RawType == typeof(ulong))
        {
            var get = row.GetGetter<ulong>(column);
            ulong key = 0;
            return (ref int value) => { get(ref key); value = Class(key, row.Position, column.Name, classOfKey); };
        }
        if (column.Type.RawType == typeof(ushort))
        {
            var get = row.GetGetter<ushort>(column);
            ushort key = 0;
            return (ref int value) => { get(ref key); value = Class(key, row.Position, column.Name, classOfKey); };
        }
        var getByte = row.GetGetter<byte>(column);
        byte small = 0;
        return (ref int value) => { getByte(ref small); value = Class(small, row.Position, column.Name, classOfKey); };
    }

    private static int Class(ulong key, long row, string column, int[] classOfKey) =>
        key == 0 ? throw new ArgumentException($"Row {row} has no label: column '{column}' holds the missing key (a value MapValueToKey did not know).")
        : classOfKey[key - 1];

    private static Func<DataViewRow, ValueGetter<int>>? NumericReader(DataViewSchema.Column column, int classCount)
    {
        var type = column.Type.RawType;
        if (column.Type is not NumberDataViewType) return null;
        return type switch
        {
            _ when type == typeof(float) => Reader<float>(column, classCount, v => v),
            _ when type == typeof(double) => Reader<double>(column, classCount, v => v),
            _ when type == typeof(int) => Reader<int>(column, classCount, v => v),
            _ when type == typeof(uint) => Reader<uint>(column, classCount, v => v),
            _ when type == typeof(long) => Reader<long>(column, classCount, v => v),
            _ when type == typeof(ulong) => Reader<ulong>(column, classCount, v => v),
            _ when type == typeof(short) => Reader<short>(column, classCount, v => v),
            _ when type == typeof(ushort) => Reader<ushort>(column, classCount, v => v),
            _ when type == typeof(byte) => Reader<byte>(column, classCount, v => v),
            _ when type == typeof(sbyte) => Reader<sbyte>(column, classCount, v => v),
            _ => null,
        };
    }

    private static Func<DataViewRow, ValueGetter<int>> Reader<T>(DataViewSchema.Column column, int classCount, Func<T, double> number) => row =>
    {
        var get = row.GetGetter<T>(column);
        T raw = default!;
        return (ref int value) =>
        {
            get(ref raw);
            var v = number(raw);
            if (!(v >= 0 && v < classCount && v == Math.Floor(v)))
            {
                throw new ArgumentException($"Row {row.Position}: label {v.ToString(CultureInfo.InvariantCulture)} in column '{column.Name}' is not a class index 0..{classCount - 1}.");
            }
            value = (int)v;
        };
    };
}
