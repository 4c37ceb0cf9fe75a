namespace Acp.Onnx.Ir;

/// <summary>An operator set the model uses: a domain ("" for standard ONNX) and its version.</summary>
public readonly record struct OpsetImport(string Domain, long Version);
