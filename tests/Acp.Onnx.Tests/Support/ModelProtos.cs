using Acp.Onnx.Format;
using Acp.Onnx.Ir;
using Google.Protobuf;

namespace Acp.Onnx.Tests.Support;

/// <summary>Raw protobuf edits for building malformed or unusual models that the IR itself would never write.</summary>
internal static class ModelProtos
{
    public static ModelProto Proto(OnnxModel model) => model.ToProto();

    /// <summary>The model's bytes with initializer fc.w moved to an external file at <paramref name="location"/>.</summary>
    public static byte[] WithExternalFcWeight(OnnxModel model, string location, long offset, long length)
    {
        var proto = model.ToProto();
        var tensor = proto.Graph.Initializer.Single(t => t.Name == "fc.w");
        tensor.RawData = ByteString.Empty;
        tensor.DataLocation = TensorProto.Types.DataLocation.External;
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        return proto.ToByteArray();
    }

    /// <summary>Applies <paramref name="edit"/> to the model's proto and returns the bytes.</summary>
    public static byte[] Edit(OnnxModel model, Action<ModelProto> edit)
    {
        var proto = model.ToProto();
        edit(proto);
        return proto.ToByteArray();
    }
}
