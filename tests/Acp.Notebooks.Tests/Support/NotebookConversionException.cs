namespace Acp.Notebooks.Tests.Support;

/// <summary>A notebook uses something the conversion to a file-based app does not support; the message names the cell and line.</summary>
public sealed class NotebookConversionException(string message) : Exception(message);
