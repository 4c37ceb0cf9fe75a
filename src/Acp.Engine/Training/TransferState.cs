namespace Acp.Engine.Training;

/// <summary>
/// The checkpoint layout of a knowledge-transfer trainer, shared by every backend so that a checkpoint moves between
/// them: the student optimizer's state, then the discriminator's (empty when there is none), each length-prefixed.
/// </summary>
public static class TransferState
{
    /// <summary>Both states in the layout.</summary>
    public static byte[] Write(byte[] optimizer, byte[] discriminator)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(discriminator);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(optimizer.Length);
            writer.Write(optimizer);
            writer.Write(discriminator.Length);
            writer.Write(discriminator);
        }
        return stream.ToArray();
    }

    /// <summary>The two states <see cref="Write"/> put into <paramref name="state"/>.</summary>
    /// <exception cref="ArgumentException">The state is truncated or has trailing bytes.</exception>
    public static (byte[] Optimizer, byte[] Discriminator) Read(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var reader = new BinaryReader(new MemoryStream(state));
        try
        {
            var optimizer = ReadBlock(reader);
            var discriminator = ReadBlock(reader);
            if (reader.BaseStream.Position != state.Length) throw new ArgumentException("The training state has trailing bytes.", nameof(state));
            return (optimizer, discriminator);
        }
        catch (EndOfStreamException)
        {
            throw new ArgumentException("The training state is truncated.", nameof(state));
        }
    }

    private static byte[] ReadBlock(BinaryReader reader)
    {
        var length = reader.ReadInt32();
        if (length < 0) throw new EndOfStreamException();
        var block = reader.ReadBytes(length);
        if (block.Length != length) throw new EndOfStreamException();
        return block;
    }
}
