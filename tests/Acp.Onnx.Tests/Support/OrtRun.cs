using Acp.Onnx.Runtime;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Acp.Onnx.Tests.Support;

/// <summary>One output of an ONNX Runtime run, copied out of native memory: float32 in Data, int64 in Int64Data.</summary>
public sealed record OrtOutput(string Name, float[] Data, long[] Shape, long[]? Int64Data = null);

/// <summary>ONNX Runtime (the package's <see cref="InferenceSession"/>) as a test oracle: float tensors in, float or int64 tensors out.</summary>
public static class OrtRun
{
    /// <summary>A CPU session on the serialized model, through Acp's session settings.</summary>
    public static InferenceSession Session(byte[] model, int threads = 0) =>
        new OrtSessionSettings { IntraOpThreads = threads }.CreateSession(model);

    /// <summary>A CPU session on the model file.</summary>
    public static InferenceSession Session(string path, int threads = 0) =>
        new OrtSessionSettings { IntraOpThreads = threads }.CreateSession(path);

    /// <summary>Runs <paramref name="session"/> on float inputs (by name) and returns every output, in the model's order.</summary>
    public static OrtOutput[] RunFloat(this InferenceSession session, params (string Name, float[] Data, long[] Shape)[] inputs)
    {
        var values = inputs.Select(i => OrtValue.CreateTensorValueFromMemory(i.Data, i.Shape)).ToArray();
        try
        {
            using var options = new RunOptions();
            using var results = session.Run(options, inputs.Select(i => i.Name).ToArray(), values, session.OutputNames);
            return results.Select((value, index) =>
            {
                var info = value.GetTensorTypeAndShape();
                var name = session.OutputNames[index];
                return info.ElementDataType switch
                {
                    TensorElementType.Float => new OrtOutput(name, value.GetTensorDataAsSpan<float>().ToArray(), info.Shape),
                    TensorElementType.Int64 => new OrtOutput(name, [], info.Shape, value.GetTensorDataAsSpan<long>().ToArray()),
                    _ => throw new NotSupportedException($"Output '{name}' is {info.ElementDataType}, neither float nor int64."),
                };
            }).ToArray();
        }
        finally
        {
            foreach (var value in values) value.Dispose();
        }
    }

    /// <summary>The first output for one float input.</summary>
    public static OrtOutput First(this InferenceSession session, string inputName, float[] data, params long[] shape) =>
        session.RunFloat((inputName, data, shape))[0];

    /// <summary>The output called <paramref name="name"/>.</summary>
    public static OrtOutput Named(this OrtOutput[] outputs, string name) => outputs.Single(o => o.Name == name);
}
