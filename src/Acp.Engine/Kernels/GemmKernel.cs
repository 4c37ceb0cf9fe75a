namespace Acp.Engine.Kernels;

/// <summary>
/// A register-blocked GEMM micro-kernel: one tile of at most <see cref="Mr"/>×<see cref="Nr"/> elements of C over one
/// k-block. Implemented by structs so that the driver is compiled once per kernel with the calls inlined.
/// </summary>
internal unsafe interface IGemmKernel
{
    /// <summary>Rows of the full tile.</summary>
    static abstract int Mr { get; }

    /// <summary>Columns of the full tile.</summary>
    static abstract int Nr { get; }

    /// <summary>
    /// C[r, j] = alpha · Σ_p A[r, p] · B[p, j] + beta · C[r, j] for r &lt; <paramref name="mr"/>, j &lt; <paramref name="nr"/>,
    /// p &lt; <paramref name="kc"/>, where A[r, p] = a[r·ars + p·acs], B[p, j] = b[p·bs + j], C[r, j] = c[r·ldc + j].
    /// With beta = 0, C is not read. Reads no element of A beyond row mr − 1 and none of B beyond column nr − 1, so
    /// edge tiles work on unpadded matrices.
    /// </summary>
    static abstract void Tile(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int mr, int nr, float alpha, float beta);

    /// <summary>
    /// Rows of the narrow tile: a tile at most <see cref="Nr"/> / 2 wide fills only half the accumulators of a full
    /// one, so the kernel takes more rows instead. 0 when the kernel has no narrow variant.
    /// </summary>
    static abstract int NarrowMr { get; }

    /// <summary>
    /// <see cref="Tile"/> for exactly <see cref="NarrowMr"/> rows and at most <see cref="Nr"/> / 2 columns of C, with A
    /// addressed through strides only (rows in arithmetic progression, as when A is read in place).
    /// </summary>
    static abstract void NarrowTile(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int nr, float alpha, float beta);
}

/// <summary>Compile-time switch between masked and plain loads and stores of a kernel's last vector column.</summary>
internal interface IGemmMaskMode
{
    /// <summary>Whether the last vector column is masked.</summary>
    static abstract bool Enabled { get; }
}

/// <summary>The last vector column is full.</summary>
internal readonly struct GemmUnmasked : IGemmMaskMode
{
    public static bool Enabled => false;
}

/// <summary>The last vector column is partial.</summary>
internal readonly struct GemmMasked : IGemmMaskMode
{
    public static bool Enabled => true;
}
