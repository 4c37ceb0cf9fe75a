using System.IO.Compression;

namespace Acp.Data;

/// <summary>
/// Low-level reading of IDX files (the MNIST format: two zero bytes, an element-type byte, a dimension-count byte,
/// one big-endian uint32 per dimension, then the elements in row-major order). Only unsigned-byte elements are
/// supported because that is what every image data set in the format uses.
/// </summary>
internal static class IdxFile
{
    /// <summary>The IDX type code of unsigned bytes.</summary>
    public const byte UnsignedByte = 0x08;

    /// <summary>
    /// Deflate cannot expand data by more than about 1032:1, so a gzip file of n bytes cannot hold more than this
    /// many times n bytes. Checking a header's announced size against it stops a corrupt or hostile header from
    /// making us allocate gigabytes before the truncation is noticed.
    /// </summary>
    private const long MaxGzipRatio = 1040;

    /// <summary>An opened IDX file: the (possibly decompressing) stream and what we know about the file.</summary>
    public sealed class Reader : IDisposable
    {
        private readonly Stream _file;

        private Reader(string path, Stream file, Stream stream, bool gzip)
        {
            Path = path;
            _file = file;
            Stream = stream;
            IsGzip = gzip;
            FileLength = file.Length;
        }

        /// <summary>The file's path, for messages.</summary>
        public string Path { get; }

        /// <summary>The decoded byte stream.</summary>
        public Stream Stream { get; }

        /// <summary>Whether the file is gzip-compressed.</summary>
        public bool IsGzip { get; }

        /// <summary>Length of the file on disk (compressed length for gzip).</summary>
        public long FileLength { get; }

        /// <summary>Bytes of decoded data consumed so far, for messages about truncation.</summary>
        public long Position { get; private set; }

        /// <summary>
        /// Opens <paramref name="path"/>. Compression is detected from the gzip magic bytes rather than the name,
        /// because downloaded files are often renamed or decompressed by browsers without renaming.
        /// </summary>
        public static Reader Open(string path)
        {
            if (!File.Exists(path)) throw new DatasetException(path, "file not found.");
            FileStream file;
            try
            {
                file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new DatasetException(path, $"cannot be opened: {e.Message}", e);
            }
            try
            {
                Span<byte> magic = stackalloc byte[2];
                var got = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
                file.Position = 0;
                var gzip = got == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
                Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
                return new Reader(path, file, stream, gzip);
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }

        /// <summary>
        /// Reads the header and checks the magic number: unsigned bytes with <paramref name="expectedRank"/>
        /// dimensions. Returns the dimensions.
        /// </summary>
        public int[] ReadHeader(int expectedRank, string what)
        {
            Span<byte> magic = stackalloc byte[4];
            ReadExactly(magic, "its 4-byte magic number");
            var value = (uint)(magic[0] << 24 | magic[1] << 16 | magic[2] << 8 | magic[3]);
            var expected = (uint)(UnsignedByte << 8 | expectedRank);
            if (magic[0] != 0 || magic[1] != 0)
            {
                throw new DatasetException(Path, $"bad magic number 0x{value:X8}: expected 0x{expected:X8} (IDX {what}: unsigned bytes, " +
                    $"{expectedRank} dimension{(expectedRank == 1 ? "" : "s")}); this is not an IDX file{(IsGzip ? " inside the gzip stream" : "")}.");
            }
            if (magic[2] != UnsignedByte)
            {
                throw new DatasetException(Path, $"bad magic number 0x{value:X8}: element type 0x{magic[2]:X2} ({TypeName(magic[2])}) is not supported; " +
                    $"expected 0x{expected:X8} (IDX {what}: unsigned bytes, {expectedRank} dimension{(expectedRank == 1 ? "" : "s")}).");
            }
            if (magic[3] != expectedRank)
            {
                throw new DatasetException(Path, $"bad magic number 0x{value:X8}: {magic[3]} dimension{(magic[3] == 1 ? "" : "s")}, " +
                    $"expected 0x{expected:X8} (IDX {what}: unsigned bytes, {expectedRank} dimension{(expectedRank == 1 ? "" : "s")}).");
            }
            Span<byte> dimensions = stackalloc byte[4 * expectedRank];
            ReadExactly(dimensions, $"its {expectedRank} dimension size{(expectedRank == 1 ? "" : "s")}");
            var result = new int[expectedRank];
            for (var i = 0; i < expectedRank; i++)
            {
                var d = (uint)(dimensions[4 * i] << 24 | dimensions[4 * i + 1] << 16 | dimensions[4 * i + 2] << 8 | dimensions[4 * i + 3]);
                if (d > int.MaxValue) throw new DatasetException(Path, $"dimension {i} of the header is {d}, which is not a plausible size: the header is corrupt.");
                result[i] = (int)d;
            }
            return result;
        }

        /// <summary>
        /// Checks that the file can hold <paramref name="dataBytes"/> bytes after the header, before anything that
        /// large is allocated. Exact for uncompressed files; an upper bound for gzip (the exact check happens when the
        /// data is read).
        /// </summary>
        public void CheckAnnouncedSize(Int128 dataBytes, string announced)
        {
            var total = Position + dataBytes;
            if (!IsGzip)
            {
                if (FileLength < total)
                {
                    throw new DatasetException(Path, $"truncated: the header announces {announced} ({total} bytes with the header) but the file has only {FileLength} bytes.");
                }
                if (FileLength > total)
                {
                    throw new DatasetException(Path, $"has {FileLength - total} unexpected bytes after the {announced} its header announces ({total} bytes expected, {FileLength} found).");
                }
            }
            else if (total > (Int128)FileLength * MaxGzipRatio + 1024)
            {
                throw new DatasetException(Path, $"the header announces {announced} ({total} bytes), more than a {FileLength}-byte gzip file can hold: the header is corrupt.");
            }
        }

        /// <summary>Reads exactly <paramref name="destination"/>.Length bytes or throws a truncation error.</summary>
        public void ReadExactly(Span<byte> destination, string what)
        {
            var done = 0;
            try
            {
                while (done < destination.Length)
                {
                    var n = Stream.Read(destination[done..]);
                    if (n == 0) break;
                    done += n;
                }
            }
            catch (InvalidDataException e)
            {
                throw new DatasetException(Path, $"corrupt gzip data after {Position + done} decompressed bytes: {e.Message}", e);
            }
            catch (IOException e)
            {
                throw new DatasetException(Path, $"read failed after {Position + done} bytes: {e.Message}", e);
            }
            Position += done;
            if (done < destination.Length)
            {
                throw new DatasetException(Path, $"truncated: the {(IsGzip ? "decompressed data ends" : "file ends")} after {Position} bytes, in the middle of {what} " +
                    $"({destination.Length - done} more bytes needed).");
            }
        }

        /// <summary>Fails when data follows what the header announced (only needed for gzip: raw files were sized exactly).</summary>
        public void ExpectEnd(string announced)
        {
            if (!IsGzip) return;
            Span<byte> probe = stackalloc byte[1];
            int n;
            try
            {
                n = Stream.Read(probe);
            }
            catch (InvalidDataException e)
            {
                throw new DatasetException(Path, $"corrupt gzip data after {Position} decompressed bytes: {e.Message}", e);
            }
            if (n != 0)
            {
                throw new DatasetException(Path, $"has unexpected bytes after the {announced} its header announces ({Position} bytes expected).");
            }
        }

        /// <inheritdoc/>
        public void Dispose()
        {
            if (!ReferenceEquals(Stream, _file)) Stream.Dispose();
            _file.Dispose();
        }

        private static string TypeName(byte code) => code switch
        {
            0x09 => "signed byte",
            0x0B => "int16",
            0x0C => "int32",
            0x0D => "float32",
            0x0E => "float64",
            _ => "unknown type",
        };
    }
}
